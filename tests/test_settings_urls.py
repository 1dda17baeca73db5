"""A site URL that cannot work is one config error naming the setting (exit 2), not a puzzle later."""

from __future__ import annotations

import pytest

from pmo_jira.errors import ConfigError
from pmo_jira.settings import load_settings

from cli_fixtures import MAPPING, one_error_line
from ops_fixtures import write_config

BAD = [
    ("http://[::1", "an IPv6 address must be closed by ']'"),
    ("http://[::1:8080/", "an IPv6 address must be closed by ']'"),
    ("http://localhost:99999", "the port must be a number from 1 to 65535"),
    ("https://jira.example.com:0", "the port must be a number from 1 to 65535"),
    ("https://jira.example.com:https", "the port must be a number from 1 to 65535"),
    ("jira.example.com", "the scheme is missing: https://jira.example.com"),
    ("//jira.example.com", "the scheme is missing: https://jira.example.com"),
    ("ftp://jira.example.com", "not an http(s) URL"),
    ("https://", "it names no host"),
    ("https://jira example.com", "holds spaces or control characters"),
    ("https://jira.example.com/?os_authType=basic", "remove the '?...' or '#...' part"),
]


@pytest.mark.parametrize("url, reason", BAD)
def test_a_bad_url_in_the_config_file_names_file_line_and_key(clean_env, tmp_path, url, reason):
    cfg = write_config(tmp_path, f'mapping = "m.yaml"\n\n[sites.prod]\nurl = "{url}"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    line = info.value.one_line()
    assert "pmo-jira.toml:4: sites.prod.url: " in line and reason in line


def test_a_password_in_the_url_is_refused_without_repeating_it(clean_env, tmp_path):
    cfg = write_config(tmp_path, '[sites.prod]\nurl = "https://bot:hunter2@[::1"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    assert "a user name or password in the URL is refused" in str(info.value)
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("url, reason", BAD[:3])
def test_a_bad_url_from_the_environment_is_one_line_naming_the_variable(pmo, url, reason):
    result = pmo.run(["audit", "--no-history"], env={"PMO_JIRA_URL": url, "PMO_JIRA_TOKEN": "t",
                                                      "PMO_JIRA_MAPPING": str(MAPPING)})
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith("Error: PMO_JIRA_URL: not a valid URL: ") and reason in line
    assert "unexpected" not in line


def test_good_urls_keep_working(clean_env, tmp_path):
    cfg = write_config(tmp_path, '[sites.a]\nurl = "https://acme.atlassian.net/"\n'
                                 '[sites.b]\nurl = "http://[::1]:8080/jira"\n'
                                 '[sites.c]\nurl = "https://jira.example.com:8443"\n')
    assert [s.url for s in load_settings(cfg, env={}).sites] == [
        "https://acme.atlassian.net", "http://[::1]:8080/jira", "https://jira.example.com:8443"]
