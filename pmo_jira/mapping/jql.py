"""Check JQL that people write (``scope.jql``, a waiver's ``jql``, ``--jql``) before it reaches a query.

pmo-jira ANDs user JQL to the query it builds, inside parentheses. A clause that closes those
parentheses early (``status = Open) OR (project is not EMPTY``) would escape the scope and
``exclude_projects``; an ``ORDER BY`` breaks the generated query. Both are refused here, with the
position and a fix, before the site is asked. The site itself then validates what remains
(``/jql/parse`` on Cloud, a zero-result search on Data Center; see ``JiraClient.jql_errors``).
"""

from __future__ import annotations

import re

_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def jql_problem(jql: str) -> tuple[str, str] | None:
    """``(problem, fix)`` for JQL that cannot be combined safely with another query, else None."""
    bad = _CONTROL.search(jql)
    if bad:
        return (f"the JQL contains a control character (U+{ord(bad.group()):04X})",
                "retype the JQL; copy-paste brought in an invisible character")
    depth = 0
    quote: str | None = None
    escaped = False
    plain: list[str] = []  # the query with quoted text blanked, for the ORDER BY search
    for i, char in enumerate(jql):
        if quote is not None:
            plain.append(" ")
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
            continue
        plain.append(char)
        if char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return (f"')' at character {i + 1} closes a parenthesis the JQL never opened, so it would "
                        "escape the scope pmo-jira puts it in",
                        "balance the parentheses, e.g. (status = Open OR labels = pmo)")
    if quote is not None:
        return f"a {quote} quote is never closed", f"close the quoted text with {quote}"
    if depth > 0:
        return (f"{depth} parenthes{'i' if depth == 1 else 'e'}s never closed",
                "balance the parentheses, e.g. (status = Open OR labels = pmo)")
    if _ORDER_BY.search("".join(plain)):
        return ("ORDER BY is not allowed here: pmo-jira orders its own queries and ANDs this JQL to them",
                "remove the ORDER BY clause")
    return None
