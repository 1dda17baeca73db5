"""pmo-jira portfolio roll-up: RAG per portfolio, project and epic, as text, xlsx, HTML or Confluence.

A first-party plugin, registered through the ``pmo_jira`` entry-point group exactly like a
third party's (see docs/plugins.md).
"""

from __future__ import annotations

__all__ = ["REPORT_NAME"]

REPORT_NAME = "portfolio"
