# Two commands do everything on a fresh clone:  `make demo`  and  `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOME_DIR ?= demo-shop
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# llama-cpp-python compiles llama.cpp at install. Its default (-march=native) turns on Intel AMX where the CPU
# has it, and AMX tiles segfault inside VMs that do not grant the tile state (seen on this project's CI
# machines); a portable AVX2 build runs everywhere the project does.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: demo test install sysdeps bench clean

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[all,test]'
	@touch $@

install: $(BIN)/.installed  ## create .venv and install ShopMind with every extra the tests use

sysdeps:  ## Debian packages the tests start for real (PostgreSQL)
	@bash scripts/sysdeps.sh

demo: install  ## import the bundled demo shop, build it, serve it and print the URL
	$(BIN)/shopmind demo --home $(HOME_DIR) --host $(HOST) --port $(PORT)

# The schemathesis fuzz runs in its own process without xdist: under xdist its per-operation tests collapse
# into one that fuzzes a single operation (tests/api/test_fuzz.py checks every operation was reached).
test: install sysdeps  ## the whole suite, PostgreSQL included
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m 'not slow and not fuzz' $(PYTEST_ARGS)
	$(BIN)/python -m pytest -q -p no:xdist -m 'fuzz and not slow' $(PYTEST_ARGS) || [ $$? -eq 5 ]

bench: install  ## every benchmark on the whole data sets (minutes to hours)
	$(BIN)/pip install -q -e '.[all,bench]'
	for b in bench/*.py; do $(BIN)/python $$b --json || exit 1; done

clean:
	rm -rf $(VENV) $(HOME_DIR) .pytest_cache
