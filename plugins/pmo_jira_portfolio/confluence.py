"""Publish the portfolio report as one Confluence page, created once and updated in place.

The page is found by space and title. It is rewritten only when its content changed (the
"as of" line alone does not count), so a nightly publish does not add a page version, and
watchers are not notified, when nothing moved.

Confluence storage format is XHTML with Atlassian macros; it cannot hold inline SVG, so the
charts become tables: the RAG heat-map uses Confluence's status macro (coloured lozenges), the
phase distribution and the trend are small tables. Every text from Jira is escaped.

Both Confluence Cloud (``https://SITE.atlassian.net/wiki``, email + API token) and Data Center
(base URL, personal access token as Bearer) serve the content REST API used here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlsplit

from pmo_jira.errors import PmoError
from pmo_jira.formats.base import iso, one_line
from pmo_jira.jira.client import Credentials
from pmo_jira_portfolio.columns import cell, level_columns, plain
from pmo_jira_portfolio.html_charts import heatmap_rows, trend_points
from pmo_jira_portfolio.rag import RAG_DIMENSIONS
from pmo_jira_portfolio.render_text import change_lines, definition_rows, frame, headline
from pmo_jira_portfolio.rollup import LEVELS, Rollup

_STATUS_COLOUR = {"green": "Green", "amber": "Yellow", "red": "Red", "none": "Grey"}
_STAMP = re.compile(r"^<p><em>Report as of [^<]*</em></p>")
_TITLES = {"portfolio": "Portfolios", "project": "Projects", "epic": "Epics"}


@dataclass(frozen=True)
class Published:
    action: str  # "created" | "updated" | "unchanged"
    page_id: str
    version: int
    url: str


def _t(text: object) -> str:
    return escape(one_line(str(text)), quote=True)


def _status(colour: str | None) -> str:
    colour = colour or "none"
    title = "-" if colour == "none" else colour.upper()
    return ('<ac:structured-macro ac:name="status">'
            f'<ac:parameter ac:name="colour">{_STATUS_COLOUR.get(colour, "Grey")}</ac:parameter>'
            f'<ac:parameter ac:name="title">{title}</ac:parameter></ac:structured-macro>')


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_t(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tbody><tr>{head}</tr>{body}</tbody></table>"


def _level_table(rollup: Rollup, level: str) -> str:
    cols = level_columns(rollup, level)
    rows = []
    for _, r in frame(rollup, level).iterrows():
        row = []
        for c in cols:
            value = plain(r[c.field])
            if c.kind == "rag":
                row.append(_status(value))
                continue
            text = _t(cell(value, c.kind))
            url = str(r.get("url") or "")
            if c.field == {"project": "project", "epic": "key"}.get(level) and url.startswith(("https://", "http://")):
                text = f'<a href="{escape(url, quote=True)}">{text}</a>'
            row.append(text)
        rows.append(row)
    return _table([c.header for c in cols], rows) if rows else "<p>none</p>"


def storage_body(rollup: Rollup) -> str:
    """The page in Confluence storage format (XHTML); the first paragraph is the 'as of' line."""
    parts = [f"<p><em>Report as of {iso(rollup.now)}</em></p>", f"<p>{_t(headline(rollup))}</p>"]
    parts += [f"<p><strong>Site {_t(s)} could not be audited:</strong> {_t(m)}</p>"
              for s, m in sorted(rollup.site_errors.items())]
    parts += ["<h2>RAG definitions</h2>",
              _table(["Dimension", "Amber from", "Red from", "Definition"],
                     [[_status(n) if n in _STATUS_COLOUR else _t(n), _t(a), _t(r), _t(d)]
                      for n, a, r, d in definition_rows(rollup)])]
    parts += ["<h2>RAG by project</h2>",
              _table(["Project", *RAG_DIMENSIONS, "overall"],
                     [[_t(label), *(_status(colours[d]) for d in (*RAG_DIMENSIONS, "overall"))]
                      for label, colours in heatmap_rows(rollup)])]
    parts += ["<h2>Epics by phase</h2>",
              _table(["Phase", "Epics"], [[_t(p), str(n)] for p, n in rollup.phase_counts.items()])]
    parts += ["<h2>Open findings over runs</h2>",
              _table(["Run", "Open findings", "High or worse"],
                     [[_t(d), str(a), str(b)] for d, a, b in trend_points(rollup)])]
    for level in LEVELS:
        parts += [f"<h2>{_TITLES[level]}</h2>", _level_table(rollup, level)]
    lines = change_lines(rollup)
    parts += ["<h2>Changes since the previous run</h2>", f"<p>{_t(lines[0])}</p>", f"<p>{_t(lines[1])}</p>"]
    if lines[2:]:
        parts.append("<ul>" + "".join(f"<li>{_t(x.strip())}</li>" for x in lines[2:]) + "</ul>")
    return "".join(parts)


def _content(body: str) -> str:
    """The body without its 'as of' line: what decides whether the page changed."""
    return _STAMP.sub("", body.strip(), count=1).strip()


def base_url(url: str) -> str:
    """Cloud sites serve Confluence under /wiki; accept the site URL or the wiki URL."""
    url = url.rstrip("/")
    host = urlsplit(url).hostname or ""
    if host.endswith(".atlassian.net") and not url.endswith("/wiki"):
        url += "/wiki"
    return url


def connect(url: str, credentials: Credentials, *, session: Any = None, timeout: float = 30.0):
    """A Confluence client: Basic (email + API token) when an email is given, else Bearer (PAT)."""
    from atlassian.confluence import ConfluenceServer  # the content REST API both Cloud and DC serve

    kwargs: dict[str, Any] = {"timeout": timeout, "session": session}
    if credentials.email:
        kwargs.update(username=credentials.email, password=credentials.token)
    else:
        kwargs.update(token=credentials.token)
    return ConfluenceServer(base_url(url), **kwargs)


def _error(what: str, exc: Exception, url: str) -> PmoError:
    """One line naming the operation and Confluence's answer; never a header or a token."""
    if getattr(exc, "response", None) is None and getattr(exc, "reason", None) is not None:
        exc = exc.reason  # atlassian's ApiError family wraps the HTTP error
    response = getattr(exc, "response", None)
    if response is None:
        problem = "cannot reach" if isinstance(exc, OSError) else "unexpected answer from"
        return PmoError(f"Confluence {what} failed: {problem} {url} ({type(exc).__name__})")
    detail = ""
    try:
        data = response.json()
        detail = data.get("message") or "; ".join(data.get("errorMessages") or ()) if isinstance(data, dict) else ""
    except ValueError:
        pass
    hint = {401: " (check the email and API token)", 403: " (the account lacks permission in this space)",
            404: " (check the space key and the Confluence URL)"}.get(response.status_code, "")
    return PmoError(f"Confluence {what} failed: HTTP {response.status_code}"
                    f"{': ' + one_line(detail) if detail else ''}{hint}")


def publish(confluence: Any, *, space: str, title: str, body: str, parent_id: str | None = None) -> Published:
    """Create the page, or update it when its content differs; one line of PmoError on failure."""
    try:
        found = confluence.get_page_by_title(space, title, expand="body.storage,version")
        # The content search answers {"results": [...]}; some library versions unwrap the first page.
        results = found["results"] if isinstance(found, dict) and "results" in found else [found] if found else []
        if not results:
            page = confluence.create_page(space, title, body, parent_id=parent_id, representation="storage")
            return Published("created", str(page["id"]), int(page.get("version", {}).get("number", 1)),
                             _link(confluence, page))
        page = results[0]
        current = page.get("body", {}).get("storage", {}).get("value", "")
        version = int(page.get("version", {}).get("number", 1))
        if _content(current) == _content(body):
            return Published("unchanged", str(page["id"]), version, _link(confluence, page))
        updated = confluence.update_page(page["id"], title, body, parent_id=parent_id, representation="storage",
                                         minor_edit=True, always_update=True,
                                         version_comment="pmo-jira portfolio report")
        return Published("updated", str(updated["id"]), int(updated.get("version", {}).get("number", version + 1)),
                         _link(confluence, updated))
    except Exception as exc:
        raise _error(f"publish of '{title}' in space {space}", exc, confluence.url) from None


def _link(confluence: Any, page: dict) -> str:
    links = page.get("_links", {})
    base = links.get("base") or confluence.url
    return f"{base}{links['webui']}" if links.get("webui") else ""
