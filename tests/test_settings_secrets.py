"""Tokens: the site's env var, then PMO_JIRA_TOKEN, then the keyring; a missing one says what to do."""

from __future__ import annotations

import logging

import keyring.errors
import pytest

from pmo_jira.credentials import credentials_for, find_token, token_for
from pmo_jira.errors import ConfigError
from pmo_jira.logs import setup_logging
from pmo_jira.settings import SiteSettings

from cli_fixtures import one_error_line
from ops_fixtures import MemoryKeyring

CLOUD = SiteSettings(name="cloud", url="https://acme.atlassian.net", flavour="cloud", email="bot@acme.com")
DC = SiteSettings(name="dc-prod", url="https://jira.acme.internal", flavour="dc")


def test_site_env_var_wins_over_shared_and_keyring(memory_keyring):
    memory_keyring.set_password("pmo-jira", "cloud", "from-keyring")
    env = {"PMO_JIRA_TOKEN_CLOUD": "site-token", "PMO_JIRA_TOKEN": "shared-token"}
    assert find_token(CLOUD, env) == ("site-token", "environment variable PMO_JIRA_TOKEN_CLOUD")
    assert token_for(CLOUD, {"PMO_JIRA_TOKEN": "shared-token"}) == "shared-token"
    assert find_token(CLOUD, {}) == ("from-keyring", "system keyring (pmo-jira / cloud)")


def test_custom_token_env(memory_keyring):
    site = DC.model_copy(update={"token_env": "JIRA_PAT"})
    assert token_for(site, {"JIRA_PAT": "pat", "PMO_JIRA_TOKEN_DC_PROD": "other"}) == "pat"


def test_missing_token_names_the_env_var_and_the_login_command(memory_keyring):
    with pytest.raises(ConfigError) as err:
        token_for(DC, {})
    assert err.value.one_line() == ("no token for site 'dc-prod' (set PMO_JIRA_TOKEN_DC_PROD or run "
                                    "`pmo-jira login dc-prod`)")


def test_a_broken_keyring_counts_as_no_token(memory_keyring, monkeypatch):
    def refuse(*args):
        raise keyring.errors.NoKeyringError("no backend")

    monkeypatch.setattr(MemoryKeyring, "get_password", refuse)
    with pytest.raises(ConfigError, match="no token for site 'dc-prod'"):
        token_for(DC, {})


def test_credentials_cloud_basic_dc_bearer(memory_keyring):
    cloud = credentials_for(CLOUD, {"PMO_JIRA_TOKEN_CLOUD": "t1"})
    assert (cloud.email, cloud.token) == ("bot@acme.com", "t1")
    dc = credentials_for(DC, {"PMO_JIRA_TOKEN_DC_PROD": "t2"})
    assert (dc.email, dc.token) == (None, "t2")
    assert "t1" not in repr(cloud)


def test_cloud_site_without_email_is_a_config_error(memory_keyring):
    site = CLOUD.model_copy(update={"email": None})
    with pytest.raises(ConfigError, match="is Cloud but has no email"):
        credentials_for(site, {"PMO_JIRA_TOKEN_CLOUD": "t"})


def test_a_token_handed_out_is_masked_in_logs(memory_keyring, capsys):
    token = token_for(DC, {"PMO_JIRA_TOKEN_DC_PROD": "plain-looking-value-42"})
    setup_logging(0, "text")
    logging.getLogger("pmo_jira.test").info("connecting with %s", token)
    assert "plain-looking-value-42" not in capsys.readouterr().err


@pytest.mark.parametrize("flavour, around", [("dc", "\n"), ("dc", "\r\n"), ("cloud", "\r\n"), ("cloud", " ")])
def test_a_token_with_a_line_end_from_a_secret_file_still_authenticates(pmo, sandbox, flavour, around):
    """`kubectl create secret --from-file` and Windows editors leave a line end after the token:
    Data Center's Bearer header refused it with the token in 'unexpected ValueError', Cloud got 401."""
    sb = sandbox(flavour, issues=30)
    result = pmo.run(["audit", "--no-history", "--fail-on", "never"], sb=sb,
                     env={"PMO_JIRA_TOKEN": sb.credentials.token + around})
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("flavour", ["dc", "cloud"])
def test_a_token_with_a_break_inside_is_one_line_that_never_shows_it(pmo, sandbox, flavour):
    sb = sandbox(flavour, issues=30)
    pasted = "Tok3n-SECRET-part1\nTok3n-SECRET-part2"
    result = pmo.run(["audit", "--no-history"], sb=sb, env={"PMO_JIRA_TOKEN": pasted})
    assert result.exit_code == 2
    assert one_error_line(result) == (
        "Error: site jira: the token in environment variable PMO_JIRA_TOKEN has a space or a control "
        "character inside it (a token is one word: copy it again from where it was created)")
    assert "SECRET" not in result.output
