"""Settings: defaults, shopmind.toml, SHOPMIND_* env vars, and clear errors."""

from __future__ import annotations

import pytest

from shopmind.config import ConfigError, load_settings


def test_precedence_defaults_file_env(tmp_path):
    assert load_settings(tmp_path, environ={}).imports.batch_size == 10_000
    (tmp_path / "shopmind.toml").write_text('[imports]\nbatch_size = 100\n[api]\nadmin_keys = ["a"]\n')
    assert load_settings(tmp_path, environ={}).imports.batch_size == 100
    s = load_settings(tmp_path, environ={"SHOPMIND_IMPORTS__BATCH_SIZE": "7", "SHOPMIND_API__PUBLIC_KEYS": '["p1","p2"]', "SHOPMIND_HOME": "/x"})
    assert s.imports.batch_size == 7 and s.api.public_keys == ["p1", "p2"] and s.api.admin_keys == ["a"]


def test_bad_values_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match="imports.batch_size"):
        load_settings(tmp_path, environ={"SHOPMIND_IMPORTS__BATCH_SIZE": "0"})
    (tmp_path / "shopmind.toml").write_text("[store\n")
    with pytest.raises(ConfigError, match="shopmind.toml"):
        load_settings(tmp_path, environ={})


def test_unknown_keys_in_known_sections_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="api.admin_key"):
        load_settings(tmp_path, environ={"SHOPMIND_API__ADMIN_KEY": "x"})
