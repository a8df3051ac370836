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
    with pytest.raises(ConfigError, match=r"imports\.batch_size"):
        load_settings(tmp_path, environ={"SHOPMIND_IMPORTS__BATCH_SIZE": "0"})
    (tmp_path / "shopmind.toml").write_text("[store\n")
    with pytest.raises(ConfigError, match=r"shopmind\.toml"):
        load_settings(tmp_path, environ={})


def test_unknown_keys_in_known_sections_are_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"api\.admin_key: unknown key"):
        load_settings(tmp_path, environ={"SHOPMIND_API__ADMIN_KEY": "x"})


def test_unknown_sections_and_keys_name_the_key_and_the_file(tmp_path):
    file = tmp_path / "shopmind.toml"
    for text, key in [('[serach]\nfusion = "rrf"\n', "serach"), ('[search]\nfusionn = "rrf"\n', "search.fusionn"),
                      ('[api.rate_limits.per_ip]\nchatt = { rate = 1, burst = 2 }\n', "api.rate_limits.per_ip.chatt"),
                      ("[ads]\nrelevance_flor = 0.1\n", "ads.relevance_flor")]:
        file.write_text(text)
        with pytest.raises(ConfigError, match=rf"{key}: unknown key \({file}\)"):
            load_settings(tmp_path, environ={})
    file.write_text('[search]\nfusion = "rrf"\n')  # a known key of a part's section is fine
    assert load_settings(tmp_path, environ={}).search == {"fusion": "rrf"}


def test_unknown_env_keys_name_the_variable(tmp_path):
    with pytest.raises(ConfigError, match=r"api.admin_keyz: unknown key \(env SHOPMIND_API__ADMIN_KEYZ\)"):
        load_settings(tmp_path, environ={"SHOPMIND_API__ADMIN_KEYZ": "x"})
    with pytest.raises(ConfigError, match=r"'serach' \(env SHOPMIND_SERACH__FUSION\)"):
        load_settings(tmp_path, environ={"SHOPMIND_SERACH__FUSION": "rrf"})
    with pytest.raises(ConfigError, match=r"search.fusionn: unknown key \(env SHOPMIND_SEARCH__FUSIONN\)"):
        load_settings(tmp_path, environ={"SHOPMIND_SEARCH__FUSIONN": "rrf"})
    with pytest.raises(ConfigError, match=r"search.nope: unknown key \(overrides from code\)"):
        load_settings(tmp_path, {"search": {"nope": 1}}, environ={})
    # variables without a section (SHOPMIND_HOME, SHOPMIND_CACHE …) are not settings
    assert load_settings(tmp_path, environ={"SHOPMIND_HOME": "/x", "SHOPMIND_CACHE": "/y"}).logging.level == "INFO"


def test_env_json_and_overrides_win(tmp_path):
    (tmp_path / "shopmind.toml").write_text('[store]\nsqlite_synchronous = "NORMAL"\n[logging]\nlevel = "warning"\n')
    env = {"SHOPMIND_SEARCH__STAGES": '{"dense": false}', "SHOPMIND_LOGGING__FORMAT": "json", "SHOPMIND_STORE__POOL_SIZE": "9"}
    s = load_settings(tmp_path, {"store": {"url": "sqlite:///x"}}, environ=env)
    assert s.search == {"stages": {"dense": False}} and (s.logging.level, s.logging.format) == ("WARNING", "json")
    assert (s.store.url, s.store.sqlite_synchronous, s.store.pool_size) == ("sqlite:///x", "NORMAL", 9)
    s = load_settings(tmp_path, {"api": {"admin_keys": ["code"]}}, environ={"SHOPMIND_API__ADMIN_KEYS": '["env"]'})
    assert s.api.admin_keys == ["code"]


def test_config_sits_below_the_parts():
    """config.py imports the state's settings, not its logic (layers: config is low)."""
    import subprocess
    import sys

    code = "import sys, shopmind.config; print(sorted(m for m in sys.modules if m.startswith('shopmind.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "shopmind.profiles.state" not in loaded and "shopmind.search" not in loaded
