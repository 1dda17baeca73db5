"""`pmo-jira login SITE` stores a token in the system keyring; a run then finds it there."""

from __future__ import annotations

import keyring
import pytest
from click.testing import CliRunner
from keyring.backends import fail

from pmo_jira.cli.main import cli
from pmo_jira.credentials import token_for
from pmo_jira.settings import load_settings

from ops_fixtures import write_config

CONFIG = """
[sites.prod]
url = "https://acme.atlassian.net"
flavour = "cloud"
email = "bot@acme.com"
"""


def test_login_prompts_hidden_and_stores_in_keyring(clean_env, memory_keyring):
    write_config(clean_env, CONFIG)
    result = CliRunner().invoke(cli, ["login", "prod"], input="s3cret-token\n")
    assert result.exit_code == 0, result.output
    assert memory_keyring.passwords == {("pmo-jira", "prod"): "s3cret-token"}
    assert "s3cret-token" not in result.output  # hidden input is not echoed
    assert "bot@acme.com at https://acme.atlassian.net" in result.output
    assert token_for(load_settings().site("prod"), env={}) == "s3cret-token"


def test_login_unknown_site_is_one_error_line(clean_env, memory_keyring):
    write_config(clean_env, CONFIG)
    result = CliRunner().invoke(cli, ["login", "prd"], input="x\n")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: pmo-jira.toml: no site named 'prd' (did you mean 'prod'?)"]
    assert memory_keyring.passwords == {}


def test_login_without_a_keyring_backend_says_so_in_one_line(clean_env):
    write_config(clean_env, CONFIG)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        result = CliRunner().invoke(cli, ["login", "prod"], input="tok\n")
    finally:
        keyring.set_keyring(previous)
    assert result.exit_code == 2
    last = result.output.strip().splitlines()[-1]
    assert last == ("Error: no system keyring is available on this machine "
                    "(set PMO_JIRA_TOKEN_PROD in the environment instead)")


@pytest.mark.parametrize("given", ["\n", "   \n"])
def test_login_refuses_an_empty_token(clean_env, memory_keyring, given):
    write_config(clean_env, CONFIG)
    result = CliRunner().invoke(cli, ["login", "prod"], input=given + given + given)
    assert result.exit_code != 0 and memory_keyring.passwords == {}
