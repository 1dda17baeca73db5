"""A ``JiraClient`` per configured site: its URL, flavour, name and credentials."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pmo_jira.credentials import credentials_for
from pmo_jira.jira.client import Credentials, JiraClient
from pmo_jira.model import Flavour
from pmo_jira.settings import SiteSettings


def client_for(site: SiteSettings, env: Mapping[str, str] | None = None, **client_kwargs: Any) -> JiraClient:
    """A ``JiraClient`` for a configured site with its own credentials."""
    return site_client(site, credentials_for(site, env), **client_kwargs)


def site_client(site: SiteSettings, credentials: Credentials, **client_kwargs: Any) -> JiraClient:
    """A ``JiraClient`` for a configured site: its URL, flavour (unless auto) and name."""
    flavour = None if site.flavour == "auto" else Flavour(site.flavour)
    return JiraClient(site.url, credentials, flavour=flavour, site_name=site.name, **client_kwargs)
