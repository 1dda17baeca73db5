"""Config file, env and flags: where values come from, and one clear line when the file is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmo_jira.errors import ConfigError
from pmo_jira.settings import find_config, load_settings

from cli_fixtures import one_error_line
from ops_fixtures import write_config

TWO_SITES = """
mapping = "mappings/pmo.yaml"
history = "state/history.sqlite"

[writeback]
max_writes = 500

[sites.cloud]
url = "https://acme.atlassian.net/"
flavour = "cloud"
email = "pmo-bot@acme.com"

[sites.dc-prod]
url = "https://jira.acme.internal"
flavour = "dc"
projects = ["OPS", "NET"]
"""


def test_two_sites_from_the_config_file_with_paths_relative_to_it(clean_env, tmp_path):
    cfg = write_config(tmp_path / "etc", TWO_SITES)
    s = load_settings(cfg, env={})
    assert [site.name for site in s.sites] == ["cloud", "dc-prod"]
    cloud, dc = s.sites
    assert cloud.url == "https://acme.atlassian.net" and cloud.email == "pmo-bot@acme.com"
    assert dc.projects == ("OPS", "NET") and dc.flavour == "dc"
    assert cloud.token_var == "PMO_JIRA_TOKEN_CLOUD" and dc.token_var == "PMO_JIRA_TOKEN_DC_PROD"
    # relative paths mean "next to the config file", whatever cron's working folder is
    assert s.mapping == tmp_path / "etc" / "mappings" / "pmo.yaml"
    assert s.history == str(tmp_path / "etc" / "state" / "history.sqlite")
    assert s.lock == tmp_path / "etc" / "state" / "pmo-jira.lock"
    assert s.mapping_for(dc) == s.mapping
    assert s.config_file == cfg


def test_array_of_tables_form_is_accepted(clean_env):
    write_config(clean_env, """
[[sites]]
name = "a"
url = "https://a.atlassian.net"
[[sites]]
name = "b"
url = "https://b.example.com"
token_env = "B_TOKEN"
""")
    s = load_settings(env={})
    assert [x.name for x in s.sites] == ["a", "b"] and s.sites[1].token_var == "B_TOKEN"


def test_search_order_flag_then_env_then_cwd_then_user_folder(clean_env, tmp_path):
    home_cfg = write_config(tmp_path / "home" / ".config" / "pmo-jira", 'log_format = "json"', "config.toml")
    assert find_config(None, {"HOME": str(tmp_path / "home")}) == home_cfg
    cwd_cfg = write_config(clean_env, 'log_format = "text"')
    assert find_config(None, {"HOME": str(tmp_path / "home")}, cwd=clean_env) == cwd_cfg
    env_cfg = write_config(tmp_path / "env", "")
    flag_cfg = write_config(tmp_path / "flag", "")
    assert find_config(None, {"PMO_JIRA_CONFIG": str(env_cfg)}) == env_cfg
    assert find_config(flag_cfg, {"PMO_JIRA_CONFIG": str(env_cfg)}) == flag_cfg


def test_xdg_config_home_is_honoured(clean_env, tmp_path):
    cfg = write_config(tmp_path / "xdg" / "pmo-jira", "", "config.toml")
    assert find_config(None, {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}) == cfg


def test_config_outside_the_working_folder_is_named_by_its_full_path(clean_env, tmp_path):
    cfg = write_config(tmp_path / "etc", "bogus = 1\n")
    with pytest.raises(ConfigError, match=f"^{cfg}:1: bogus: unknown key$"):
        load_settings(cfg, env={})


def test_missing_explicit_config_is_an_error(clean_env, tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml", env={})


def test_env_overrides_file_and_flags_override_env(clean_env):
    write_config(clean_env, TWO_SITES)
    env = {"PMO_JIRA_MAX_WRITES": "50", "PMO_JIRA_LOG_FORMAT": "json", "PMO_JIRA_NOTIFY": "true",
           "PMO_JIRA_HISTORY": "/srv/h.sqlite"}
    s = load_settings(env=env)
    assert s.writeback.max_writes == 50 and s.writeback.notify is True
    assert s.log_format == "json" and s.history == "/srv/h.sqlite" and s.lock == Path("/srv/pmo-jira.lock")
    s = load_settings(env=env, overrides={"max_writes": 7, "log_format": "text", "history": None})
    assert s.writeback.max_writes == 7 and s.log_format == "text"
    assert s.history == "/srv/h.sqlite"  # a flag left unset does not override


def test_bad_env_value_names_the_variable(clean_env):
    with pytest.raises(ConfigError) as err:
        load_settings(env={"PMO_JIRA_MAX_WRITES": "lots"})
    assert "writeback.max_writes" in str(err.value)


def test_without_config_a_single_site_comes_from_env(clean_env):
    s = load_settings(env={"PMO_JIRA_URL": "https://x.atlassian.net", "PMO_JIRA_EMAIL": "bot@x.com",
                           "PMO_JIRA_FLAVOUR": "cloud", "HOME": str(clean_env)})
    (site,) = s.sites
    assert (site.name, site.url, site.email, site.flavour, site.token_var) == (
        "jira", "https://x.atlassian.net", "bot@x.com", "cloud", "PMO_JIRA_TOKEN")
    assert s.history == str(clean_env / ".local" / "share" / "pmo-jira" / "history.sqlite")


def test_no_site_at_all_says_how_to_configure_one(clean_env):
    s = load_settings(env={})
    with pytest.raises(ConfigError, match="no Jira site configured.*PMO_JIRA_URL"):
        s.select_sites()


def test_unknown_site_name_suggests_the_closest(clean_env):
    write_config(clean_env, TWO_SITES)
    with pytest.raises(ConfigError, match=r"no site named 'dc-prd'.*did you mean 'dc-prod'"):
        load_settings(env={}).select_sites(["dc-prd"])


# --- one clear line per mistake -------------------------------------------------------------------


def _error(folder: Path, text: str) -> str:
    write_config(folder, text)
    with pytest.raises(ConfigError) as err:
        load_settings(env={})
    message = err.value.one_line()
    assert "\n" not in str(err.value)
    return message


def test_unknown_key_in_a_site_names_file_line_and_suggests(clean_env):
    msg = _error(clean_env, """
[[sites]]
name = "a"
url = "https://a.atlassian.net"

[[sites]]
name = "b"
url = "https://b.atlassian.net"
tokne_env = "B"
""")
    assert msg == "pmo-jira.toml:8: sites[1].tokne_env: unknown key (did you mean 'token_env'?)"


def test_unknown_top_level_and_nested_keys(clean_env):
    assert _error(clean_env, 'histroy = "h.sqlite"\n').endswith(
        "pmo-jira.toml:1: histroy: unknown key (did you mean 'history'?)")
    assert _error(clean_env, "[writeback]\nnotify = false\nmax_write = 3\n").endswith(
        "pmo-jira.toml:3: writeback.max_write: unknown key (did you mean 'max_writes'?)")


@pytest.mark.parametrize("key", ["token", "api_token", "password", "secret"])
def test_a_secret_in_the_config_is_refused_with_the_env_var_to_use(clean_env, key):
    msg = _error(clean_env, f"""
[sites.prod]
url = "https://acme.atlassian.net"
email = "bot@acme.com"
{key} = "ATATT3xFfGF0-very-secret"
""")
    assert msg.endswith(f"pmo-jira.toml:4: sites.prod.{key}: secrets are not read from the config file "
                        "(remove it, then set PMO_JIRA_TOKEN_PROD or run `pmo-jira login prod`)")
    assert "very-secret" not in msg


def test_a_token_pasted_into_token_env_is_refused_without_echoing_it(clean_env):
    msg = _error(clean_env, """
[sites.prod]
url = "https://acme.atlassian.net"
token_env = "ATATT3x/abc+def="
""")
    assert "pmo-jira.toml:3: sites.prod.token_env" in msg and "names an environment variable" in msg
    assert "ATATT3x" not in msg


def test_bad_flavour_lists_the_choices(clean_env):
    msg = _error(clean_env, '[sites.dc]\nurl = "https://jira.acme.internal"\nflavour = "server"\n')
    assert msg.endswith("pmo-jira.toml:3: sites.dc.flavour: 'server' is not one of 'cloud', 'dc' or 'auto'")


def test_missing_url_and_bad_url(clean_env):
    assert _error(clean_env, '[sites.dc]\nflavour = "dc"\n').endswith(
        "pmo-jira.toml:1: sites.dc.url: required key is missing")
    assert "not an http(s) URL" in _error(clean_env, '[sites.dc]\nurl = "jira.acme.internal"\n')


def test_duplicate_site_names(clean_env):
    msg = _error(clean_env, '[[sites]]\nname = "a"\nurl = "https://a.example.com"\n'
                            '[[sites]]\nname = "a"\nurl = "https://b.example.com"\n')
    assert msg == "pmo-jira.toml:1: sites: site names must be unique: a appears more than once"


def test_toml_syntax_error_has_the_line(clean_env):
    msg = _error(clean_env, '[sites.dc]\nurl = "https://x\n')
    assert msg.startswith("pmo-jira.toml:2: invalid TOML")


@pytest.mark.parametrize("key, value", [("max_writes", "true"), ("concurrency", "false"),
                                        ("max_resolved_share", "true")])
def test_true_or_false_is_not_a_number_in_the_config(clean_env, tmp_path, key, value):
    cfg = write_config(tmp_path, TWO_SITES.replace("max_writes = 500", f"{key} = {value}"))
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={})
    line = cfg.read_text().splitlines().index(f"{key} = {value}") + 1
    assert str(err.value) == f"{cfg}:{line}: writeback.{key}: expected a number, got {value}"


def test_numbers_from_the_environment_still_convert(clean_env, tmp_path):
    cfg = write_config(tmp_path, TWO_SITES)
    s = load_settings(cfg, env={"PMO_JIRA_MAX_WRITES": "700", "PMO_JIRA_MAX_RESOLVED_SHARE": "0.8"})
    assert (s.writeback.max_writes, s.writeback.max_resolved_share) == (700, 0.8)


def test_a_bad_value_from_the_environment_names_the_variable_not_the_file(clean_env, tmp_path):
    cfg = write_config(tmp_path, TWO_SITES)
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={"PMO_JIRA_MAX_WRITES": "lots"})
    assert str(err.value) == "PMO_JIRA_MAX_WRITES (writeback.max_writes): expected a whole number, got 'lots'"
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, env={"PMO_JIRA_SITES_AT_ONCE": "0"})
    assert str(err.value) == "PMO_JIRA_SITES_AT_ONCE (sites_at_once): must be at least 1, got '0'"


@pytest.mark.parametrize("setting, message", [
    ('mapping = 5', "pmo-jira.toml:1: mapping: expected a file path, got the number 5 (quote it)"),
    ('summary_json = true', "pmo-jira.toml:1: summary_json: expected a file path, got true (quote it)"),
    ('writeback = 5', "pmo-jira.toml:1: writeback: expected a mapping of keys, got the number 5"),
    ('[sites.dc]\nurl = "https://jira.acme.internal"\nprojects = "OPS"',
     "pmo-jira.toml:3: sites.dc.projects: expected a list, got 'OPS' (write [\"OPS\"])"),
])
def test_a_value_of_the_wrong_type_is_said_in_words(clean_env, setting, message):
    assert _error(clean_env, setting + "\n") == message


def test_a_config_saved_with_a_byte_order_mark_is_read(clean_env, tmp_path):
    cfg = tmp_path / "pmo-jira.toml"
    cfg.write_bytes(b"\xef\xbb\xbf" + TWO_SITES.lstrip("\n").encode())
    assert [site.name for site in load_settings(cfg, env={}).sites] == ["cloud", "dc-prod"]


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "pmo-jira.toml:1: the file is not UTF-8 text (save it as UTF-8)"),
    ('[sites.dc]\nurl = "https://x"\n'.encode("utf-16"), "pmo-jira.toml:1: the file is UTF-16 text (save it as UTF-8)"),
])
def test_a_config_that_is_not_text_is_one_line_and_exit_2(pmo, content, message):
    (pmo.home / "pmo-jira.toml").write_bytes(content)
    result = pmo.run(["audit"])
    assert result.exit_code == 2
    assert one_error_line(result) == "Error: " + message


def test_two_sites_whose_names_make_one_token_variable_are_refused(clean_env):
    msg = _error(clean_env, '[sites.dc-prod]\nurl = "https://a.example.com"\n'
                            '[sites.DC_prod]\nurl = "https://b.example.com"\n')
    assert msg == ("pmo-jira.toml: sites: sites 'dc-prod' and 'DC_prod' would both read their token from "
                   "PMO_JIRA_TOKEN_DC_PROD (rename one, or give one its own token_env)")
    s = load_settings(write_config(clean_env, '[sites.dc-prod]\nurl = "https://a.example.com"\n'
                                              '[sites.DC_prod]\nurl = "https://b.example.com"\n'
                                              'token_env = "PMO_JIRA_TOKEN_B"\n'), env={})
    assert [site.token_var for site in s.sites] == ["PMO_JIRA_TOKEN_DC_PROD", "PMO_JIRA_TOKEN_B"]


def test_a_relative_path_from_a_flag_or_the_environment_is_the_working_folders(clean_env, tmp_path):
    """Only the file's own relative paths mean "next to the file": `--summary-json out.json` run
    from a folder writes there, not next to a config in /etc."""
    cfg = write_config(tmp_path / "etc", TWO_SITES)
    s = load_settings(cfg, env={"PMO_JIRA_LOCK": "run.lock", "PMO_JIRA_MAPPING": "mine.yaml"},
                      overrides={"summary_json": "out.json"})
    assert s.summary_json == clean_env / "out.json"
    assert s.lock == clean_env / "run.lock" and s.mapping == clean_env / "mine.yaml"
    assert s.history == str(tmp_path / "etc" / "state" / "history.sqlite")  # the file's: next to it
