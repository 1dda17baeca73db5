"""Tokens come from the environment or the system keyring, never from a config file.

Order: the site's env var (``token_env``, default ``PMO_JIRA_TOKEN_<NAME>``), then the shared
``PMO_JIRA_TOKEN``, then the keyring entry ``pmo-jira`` / ``<site name>`` that ``pmo-jira login``
stores. Env first so that unattended runs (cron, CI, Kubernetes Secrets) never touch a keyring
that may be locked or absent there. Every token handed out is registered with the log
redaction filter, so it cannot leak through a log line even by mistake.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pmo_jira.errors import ConfigError
from pmo_jira.jira.client import Credentials, checked_token
from pmo_jira.redaction import register_secret
from pmo_jira.settings import ENV_PREFIX, SiteSettings

KEYRING_SERVICE = "pmo-jira"
SHARED_TOKEN_VAR = f"{ENV_PREFIX}TOKEN"


def keyring_token(site_name: str) -> str | None:
    """The keyring's token for a site; None when there is none or no usable keyring."""
    import keyring  # only when no environment variable holds the token: loading backends is slow
    import keyring.errors

    try:
        return keyring.get_password(KEYRING_SERVICE, site_name) or None
    except keyring.errors.KeyringError:
        return None


def find_token(site: SiteSettings, env: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """``(token, where it came from)`` or None; ``where`` names the env var or the keyring."""
    env = os.environ if env is None else env
    for var in (site.token_var, SHARED_TOKEN_VAR):
        where = f"environment variable {var}"
        token = checked_token(env.get(var) or "", where)
        if token:
            return token, where
    where = f"system keyring ({KEYRING_SERVICE} / {site.name})"
    token = checked_token(keyring_token(site.name) or "", where)
    return (token, where) if token else None


def token_for(site: SiteSettings, env: Mapping[str, str] | None = None) -> str:
    """The site's token, or a ConfigError saying which env var to set or which login to run."""
    found = find_token(site, env)
    if found is None:
        raise ConfigError(f"no token for site {site.name!r}",
                          hint=f"set {site.token_var} or run `pmo-jira login {site.name}`")
    register_secret(found[0])
    return found[0]


def credentials_for(site: SiteSettings, env: Mapping[str, str] | None = None) -> Credentials:
    """Cloud (or an email given): email + API token, Basic. Data Center: the token alone, Bearer."""
    token = token_for(site, env)
    if site.flavour == "cloud" and not site.email:
        raise ConfigError(f"site {site.name!r} is Cloud but has no email",
                          hint="Cloud API tokens authenticate as email + token; "
                               f"add `email = \"bot@example.com\"` to [sites.{site.name}]")
    email = site.email if site.flavour != "dc" else None
    register_secret(token, user=email)  # the Basic header's base64 form too
    return Credentials(email=email, token=token)


def store_token(site: SiteSettings, token: str) -> None:
    """Store a token in the system keyring; ConfigError in one line when no keyring is usable."""
    import keyring
    import keyring.errors

    backend = keyring.get_keyring()
    if getattr(backend, "priority", 1) <= 0:
        raise ConfigError("no system keyring is available on this machine",
                          hint=f"set {site.token_var} in the environment instead")
    try:
        keyring.set_password(KEYRING_SERVICE, site.name, token)
    except keyring.errors.KeyringError as exc:
        raise ConfigError(f"the system keyring refused the token: {type(exc).__name__}",
                          hint=f"set {site.token_var} in the environment instead") from None
