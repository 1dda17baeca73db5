"""Jira access: the HTTP client, its retry layer, rich-text conversion and payload parsing."""

from pmo_jira.jira.client import Credentials, JiraClient, connect_from_env
from pmo_jira.jira.retry import RateGate, RetryPolicy

__all__ = ["Credentials", "JiraClient", "RateGate", "RetryPolicy", "connect_from_env"]
