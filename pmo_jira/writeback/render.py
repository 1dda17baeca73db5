"""What pmo-jira wants an issue to carry: its labels and the text of its owned comment.

Label scheme (all lowercase, no spaces, at most 255 characters; ``prefix`` from
``mapping.writeback.label_prefix``, here ``pmo-``):

- ``pmo-phase-<phase>``   the PMO phase of a classified epic (``pmo-phase-execution``);
- ``pmo-noncompliant``    the issue has at least one written finding;
- ``pmo-<code>``          one per failing standard, the code lowercased. When the code already starts
  with the prefix's word (``PMO-GOV-001`` under ``pmo-``) that word is not repeated:
  ``pmo-gov-001``, not ``pmo-pmo-gov-001``. Other codes keep it (``ACME-SEC-001`` -> ``pmo-acme-sec-001``).

The owned comment is a ``Doc``; every piece of Jira or standard text sits in ``Text`` runs, which
the client escapes (no mentions, no markup). It is kept under ``SAFE_COMMENT_CHARS`` in both wiki
and ADF form, far below Jira's 32,767-character limit, by dropping findings from the end of the
list and saying how many were left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from pmo_jira.errors import WriteBackError
from pmo_jira.findings import Finding, Outcome, Severity
from pmo_jira.jira.richtext import to_adf, to_wiki
from pmo_jira.model import PHASES, BulletList, Doc, Heading, Paragraph, Text

MARKER = "pmo-jira · managed comment · do not edit"
"""Marks the owned comment; with the bot as author it identifies the comment when no id is stored."""
SAFE_COMMENT_CHARS = 30_000
JIRA_TEXT_LIMIT = 32_767
MAX_RUN_CHARS = 2_000
"""One finding's message or fix longer than this is cut: a comment is not a report."""

NONCOMPLIANT = "noncompliant"
_LABEL_JUNK = re.compile(r"[^a-z0-9._:-]+")


def normalise_prefix(prefix: str) -> str:
    """The label prefix as used everywhere; refuses prefixes that would make removal unsafe."""
    p = (prefix or "").strip().lower()
    if not p or _LABEL_JUNK.search(p) or len(p) > 64:
        raise WriteBackError(
            f"writeback.label_prefix {prefix!r} is not usable: it must be 1-64 characters of "
            "a-z, 0-9, '.', '_', ':' or '-' (e.g. 'pmo-'); labels starting with it are the only ones "
            "pmo-jira ever removes")
    return p


def _label(prefix: str, suffix: str) -> str:
    return (prefix + _LABEL_JUNK.sub("-", suffix.lower()).strip("-"))[:255]


def code_label(prefix: str, code: str) -> str:
    word = prefix.rstrip("-_.:")
    lowered = code.lower()
    if word and lowered.startswith(word + "-"):
        lowered = lowered[len(word) + 1:]
    return _label(prefix, lowered)


def phase_label(prefix: str, phase: str) -> str:
    return _label(prefix, f"phase-{phase}")


def noncompliant_label(prefix: str) -> str:
    return _label(prefix, NONCOMPLIANT)


def vocabulary(prefix: str, codes: Iterable[str]) -> frozenset[str]:
    """Every label this tool could have written for ``codes``; only these (or those recorded in
    the issue's state) are ever removed, so a person's ``pmo-review`` survives."""
    return frozenset({noncompliant_label(prefix), *(phase_label(prefix, p) for p in PHASES),
                      *(code_label(prefix, c) for c in codes)})


def written_findings(findings: Iterable[Finding], severities: Iterable[Severity | str]) -> list[Finding]:
    """The findings that go to Jira: failed checks at a configured severity, worst first.

    A standard that crashed (an ERROR finding) is the tool's problem, not the team's: it shows in
    reports and the exit code, never in a team's Jira.
    """
    wanted = {Severity(s) for s in severities}
    chosen = [f for f in findings if f.outcome is Outcome.FAIL and f.severity in wanted]
    return sorted(chosen, key=lambda f: (-f.severity.rank, f.code, f.subject, f.fingerprint))


def desired_labels(prefix: str, phase: str | None, findings: Sequence[Finding]) -> tuple[str, ...]:
    labels = {code_label(prefix, f.code) for f in findings}
    if findings:
        labels.add(noncompliant_label(prefix))
    if phase:
        labels.add(phase_label(prefix, phase))
    return tuple(sorted(labels))


# --- the owned comment ------------------------------------------------------------------------


def _cut(text: str, limit: int = MAX_RUN_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _finding_item(f: Finding) -> tuple[Text, ...]:
    # Spaces stay outside strong runs: wiki markup only bolds "*word*", never "* word *".
    runs = [Text(f.code, strong=True), Text(f" {_cut(f.title, 200)} ({f.severity.value}): "),
            Text(_cut(f.message))]
    if f.fix:
        runs += [Text(" "), Text("Fix:", strong=True), Text(" " + _cut(f.fix))]
    return tuple(runs)


def _fixed_items(fixed: Sequence[tuple[str, str, int]]) -> tuple[tuple[Text, ...], ...]:
    return tuple((Text(code, strong=True),
                  Text(f" {_cut(title, 200)}" + (f" ({n} items)" if n > 1 else "")))
                 for code, title, n in fixed)


def comment_size(doc: Doc) -> int:
    """Characters Jira counts for this body in either flavour (the larger of wiki and ADF JSON)."""
    return max(len(to_wiki(doc)), len(json.dumps(to_adf(doc), ensure_ascii=False)))


def _doc(findings: Sequence[Finding], fixed: Sequence[tuple[str, str, int]], today: date,
         shown: int) -> Doc:
    day = today.isoformat()
    blocks: list[Any] = []
    if findings:
        n = len(findings)
        blocks.append(Heading(3, (Text(f"PMO standards: {n} open finding{'s' if n != 1 else ''}"),)))
    else:
        blocks.append(Heading(3, (Text("PMO standards: all met"),)))
    blocks.append(Paragraph((Text(MARKER, code=True),)))
    if findings:
        blocks.append(Paragraph((Text(f"Checked {day}. Figures are as of that date."),)))
        blocks.append(BulletList(tuple(_finding_item(f) for f in findings[:shown])))
        if shown < len(findings):
            rest = len(findings) - shown
            blocks.append(Paragraph((Text(
                f"... and {rest} more finding{'s' if rest != 1 else ''} (see the PMO report)"),)))
    else:
        blocks.append(Paragraph((Text(f"All PMO standards met as of {day}."),)))
    if fixed:
        blocks.append(Paragraph((Text("Fixed since last check:", strong=True),)))
        blocks.append(BulletList(_fixed_items(fixed)))
    return Doc(tuple(blocks))


def render_comment(findings: Sequence[Finding], fixed: Sequence[tuple[str, str, int]], *,
                   today: date, limit: int = SAFE_COMMENT_CHARS) -> Doc:
    """The owned comment: open findings (worst first), then what was fixed since the last version.

    ``fixed`` is (code, title, how many items) per standard no longer failing. No findings gives
    the "all met" note. Findings are dropped from the end until the body fits ``limit``.
    """
    fixed = list(fixed)
    doc = _doc(findings, fixed, today, len(findings))
    if comment_size(doc) <= limit:
        return doc
    lo, hi = 0, len(findings) - 1  # the most findings that fit, by bisection
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if comment_size(_doc(findings, fixed, today, mid)) <= limit:
            lo = mid
        else:
            hi = mid - 1
    doc = _doc(findings, fixed, today, lo)
    while comment_size(doc) > limit and fixed:
        fixed.pop()
        doc = _doc(findings, fixed, today, lo)
    return doc


def is_marked(body_text: str) -> bool:
    """Whether a comment's flattened text carries the marker (tolerant of leftover escapes)."""
    return MARKER in " ".join(body_text.replace("\\", "").split())
