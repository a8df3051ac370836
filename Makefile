# Two commands do everything on a fresh clone:  `make demo`  and  `make test`.
# Also: `make test-unit` (the fast tier, no servers), `make lint` (ruff, mypy, import-linter), `make bench`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOME_DIR ?= demo-shop
HOST ?= 127.0.0.1
PORT ?= 8000
# simulated shopper sessions `make demo` seeds for the dashboard (labelled simulated, from real data; 0: none)
DEMO_SESSIONS ?= 200
PYTEST_ARGS ?=
# llama-cpp-python compiles llama.cpp at install. Its default (-march=native) turns on Intel AMX where the CPU
# has it, and AMX tiles segfault inside VMs that do not grant the tile state (seen on this project's CI
# machines); a portable AVX2 build runs everywhere the project does.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: demo test test-unit lint install sysdeps bench clean

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[all,test,lint]'
	@touch $@

install: $(BIN)/.installed  ## create .venv and install ShopMind with every extra the tests and the checks use

sysdeps:  ## Debian packages the tests start for real (PostgreSQL, Redis, Chromium) and wrk for bench/scale.py
	@bash scripts/sysdeps.sh

demo: install  ## import the bundled demo shop, build it, seed labelled simulated shoppers, serve it and print the URL
	$(BIN)/shopmind demo --home $(HOME_DIR) --host $(HOST) --port $(PORT) --simulate $(DEMO_SESSIONS)

# The schemathesis fuzz runs in its own process without xdist: under xdist its per-operation tests collapse
# into one that fuzzes a single operation (tests/api/test_fuzz.py checks every operation was reached).
# --max-worker-restart=0: a worker that crashes (a segfault in a native library) ends the run with the crashed test
# named and faulthandler's traceback; with restarts, pytest-xdist 3.8 under --dist loadfile waits forever instead.
test: install sysdeps  ## the whole suite, PostgreSQL included
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --max-worker-restart=0 -m 'not slow and not fuzz' $(PYTEST_ARGS)
	$(BIN)/python -m pytest -q -p no:xdist -m 'fuzz and not slow' $(PYTEST_ARGS) || [ $$? -eq 5 ]

# The unit tier: no PostgreSQL, Redis, Chromium, llama.cpp, no server subprocess, no large build (tests/conftest.py
# marks the rest `integration`); under a minute, so it needs no `sysdeps`.
test-unit: install  ## the fast tier only (no servers)
	$(BIN)/python -m pytest -q -n 2 --max-worker-restart=0 -m 'unit and not slow' $(PYTEST_ARGS)

# All three run even when one fails (CI shows every finding); the target fails if any did.
lint: install  ## ruff (lint + import order), mypy on src/, import-linter layer contracts
	@status=0; \
	$(BIN)/ruff check src tests bench scripts || status=1; \
	$(BIN)/mypy src || status=1; \
	$(BIN)/lint-imports --no-logo || status=1; \
	exit $$status

bench: install sysdeps  ## every benchmark on the whole data sets (minutes to hours); installs the bench extra first
	$(BIN)/pip install -q -e '.[all,bench]'
	for b in bench/[!_]*.py; do $(BIN)/python $$b --json || exit 1; done

clean:
	rm -rf $(VENV) $(HOME_DIR) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache
