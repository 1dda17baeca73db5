"""One self-contained HTML page: the verdict first, detail on demand, definitions last.

The page can be mailed, attached to a steering pack or opened from a file share offline: a
Content-Security-Policy forbids loading anything, every chart is inline SVG, and the only links
go to Jira. Its style and script live in ``report.html``; the sections come from
``html_sections`` in reading order, so another report can build a page from the same pieces
with ``page(title, sections)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files
from string import Template

from pmo_jira_portfolio.html_governance import GOVERNANCE_SECTIONS
from pmo_jira_portfolio.html_sections import SECTIONS, charts_section, e
from pmo_jira_portfolio.rollup import Rollup


def page(title: str, sections: Iterable[str]) -> str:
    """A complete page in the portfolio report's style (``report.html``) around ``sections``."""
    template = Template((files("pmo_jira_portfolio") / "report.html").read_text(encoding="utf-8"))
    return template.substitute(title=e(title), body="\n".join(sections))


def render_html(rollup: Rollup) -> str:
    at = SECTIONS.index(charts_section) + 1  # governance after the charts, before the detail
    sections = (*SECTIONS[:at], *GOVERNANCE_SECTIONS, *SECTIONS[at:])
    return page(f"Portfolio report - {rollup.mapping_name}", (make(rollup) for make in sections))
