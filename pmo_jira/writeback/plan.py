"""The write-back plan: for every issue, exactly which writes would bring Jira in line.

Planning is pure: it compares the audit result with what the run already read (each issue's
labels and its ``pmo-jira.state`` property) and makes no request. A second run over an unchanged
portfolio therefore plans zero writes, and ``sync`` can print the whole plan before touching Jira.

Rules:
- labels: add desired labels that are missing; remove labels that start with the prefix and are
  ours (in this tool's vocabulary or recorded in the state) but no longer desired. Nothing else is
  ever removed, and only add/remove operations are sent, so labels people add meanwhile survive.
- comment: create when there are findings and no owned comment is known; edit when the written
  findings changed; "clear" (an edit saying all is met) when they went to zero; never a new
  comment just to say all is fine.
- state: written whenever anything else is, or when the stored state is missing or stale.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Iterable, Mapping

from pmo_jira.errors import WriteBackError
from pmo_jira.findings import AuditResult, by_item
from pmo_jira.jira.richtext import adf_to_text, to_adf
from pmo_jira.model import Doc, Issue, natural_key
from pmo_jira.writeback.render import (desired_labels, normalise_prefix, render_comment, vocabulary,
                                       written_findings)
from pmo_jira.state import STATE_PROPERTY, IssueState, parse_state, people_updated, state_for

PLAN_FORMAT = "pmo-jira/writeback-plan"
PLAN_VERSION = 1


class CommentOp(str, Enum):
    CREATE = "create"
    EDIT = "edit"
    CLEAR = "clear"  # an edit of the owned comment to say every standard is met


@dataclass(frozen=True)
class IssuePlan:
    site: str
    key: str
    add_labels: tuple[str, ...] = ()
    remove_labels: tuple[str, ...] = ()
    comment: CommentOp | None = None
    comment_body: Doc | None = None
    comment_id: str | None = None  # the owned comment known from the state
    new_state: IssueState | None = None  # None: the property stays as it is
    summary: str = ""
    url: str = ""
    open_codes: tuple[str, ...] = ()
    fixed: tuple[tuple[str, str, int], ...] = ()  # (code, title, items) fixed since the last version

    @property
    def writes(self) -> int:
        """Requests this issue costs: at most one each for comment, labels and state."""
        return (self.comment is not None) + bool(self.add_labels or self.remove_labels) + (
            self.new_state is not None)


@dataclass(frozen=True)
class PlanTotals:
    issues_touched: int
    label_adds: int
    label_removes: int
    comments_created: int
    comments_edited: int
    property_writes: int
    writes: int
    unchanged: int

    def to_json(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass(frozen=True)
class Plan:
    issues: tuple[IssuePlan, ...]  # only issues with at least one write, in key order
    generated: datetime
    mapping_name: str
    mapping_hash: str
    label_prefix: str
    unchanged: int = 0  # issues in scope that need nothing
    not_written: tuple[tuple[str, str], ...] = ()  # (site, key) with findings but no issue: projects

    @property
    def totals(self) -> PlanTotals:
        return PlanTotals(
            issues_touched=len(self.issues),
            label_adds=sum(len(p.add_labels) for p in self.issues),
            label_removes=sum(len(p.remove_labels) for p in self.issues),
            comments_created=sum(p.comment is CommentOp.CREATE for p in self.issues),
            comments_edited=sum(p.comment in (CommentOp.EDIT, CommentOp.CLEAR) for p in self.issues),
            property_writes=sum(p.new_state is not None for p in self.issues),
            writes=sum(p.writes for p in self.issues),
            unchanged=self.unchanged,
        )

    @property
    def empty(self) -> bool:
        return not self.issues

    def to_json(self) -> dict[str, Any]:
        """Machine-readable plan, format ``pmo-jira/writeback-plan`` version 1.

        ``{"format", "version", "generated", "mapping": {"name", "hash"}, "label_prefix",
        "totals": {issues_touched, label_adds, label_removes, comments_created, comments_edited,
        property_writes, writes, unchanged}, "issues": [{"site", "key", "url", "summary",
        "add_labels", "remove_labels", "comment": "create"|"edit"|"clear"|null, "comment_id",
        "comment_text" (plain text or null), "open_codes", "fixed": [{"code", "title", "items"}],
        "state" (the property value to write, or null), "writes"}], "not_written": [{"site", "key"}]}``
        """
        return {
            "format": PLAN_FORMAT,
            "version": PLAN_VERSION,
            "generated": self.generated.isoformat(),
            "mapping": {"name": self.mapping_name, "hash": self.mapping_hash},
            "label_prefix": self.label_prefix,
            "totals": self.totals.to_json(),
            "issues": [{
                "site": p.site,
                "key": p.key,
                "url": p.url,
                "summary": p.summary,
                "add_labels": list(p.add_labels),
                "remove_labels": list(p.remove_labels),
                "comment": p.comment.value if p.comment else None,
                "comment_id": p.comment_id,
                "comment_text": adf_to_text(to_adf(p.comment_body)) if p.comment_body else None,
                "open_codes": list(p.open_codes),
                "fixed": [{"code": c, "title": t, "items": n} for c, t, n in p.fixed],
                "state": p.new_state.to_json() if p.new_state else None,
                "writes": p.writes,
            } for p in self.issues],
            "not_written": [{"site": s, "key": k} for s, k in self.not_written],
        }

    def describe(self, *, comments: bool = False) -> str:
        """What would change, per issue, then the totals: the dry-run output people review.

        ``comments=True`` also prints each comment as it would read (plain text, indented).
        """
        lines: list[str] = []
        for p in self.issues:
            changes: list[str] = []
            if p.add_labels:
                changes.append("add labels " + ", ".join(p.add_labels))
            if p.remove_labels:
                changes.append("remove labels " + ", ".join(p.remove_labels))
            if p.comment is CommentOp.CREATE:
                changes.append(f"post comment ({_n(len(p.open_codes), 'finding')})")
            elif p.comment is CommentOp.EDIT:
                changes.append(f"update comment ({_n(len(p.open_codes), 'finding')})")
            elif p.comment is CommentOp.CLEAR:
                changes.append("update comment: all standards met")
            if p.fixed:
                changes.append("fixed " + ", ".join(c for c, _, _ in p.fixed))
            if p.new_state is not None and not changes:
                changes.append("record state only")
            site = f"{p.site}:" if p.site else ""
            lines.append(f"{site}{p.key}  {p.summary[:60]}\n    " + "; ".join(changes))
            if comments and p.comment_body is not None:
                body = adf_to_text(to_adf(p.comment_body))
                lines += ["      | " + line for line in body.splitlines()]
        t = self.totals
        lines.append(
            f"{t.issues_touched} issues to write ({t.writes} writes): {t.label_adds} labels added, "
            f"{t.label_removes} removed, {t.comments_created} comments posted, {t.comments_edited} "
            f"updated, {t.property_writes} state properties; {t.unchanged} issues unchanged.")
        if self.not_written:
            lines.append(f"{len(self.not_written)} items with findings are not issues (projects) and "
                         "appear only in reports.")
        return "\n".join(lines)


def check_blast_radius(plan: Plan, max_writes: int) -> None:
    """Refuse a plan with more writes than the cap: a mapping mistake must not rewrite a site."""
    t = plan.totals
    if t.writes > max_writes:
        raise WriteBackError(
            f"write-back would make {t.writes} writes to {t.issues_touched} issues, more than the cap "
            f"of {max_writes} (writeback.max_writes); review the plan printed by a `pmo-jira sync` "
            f"dry run, then allow it with `--max-writes {t.writes}`")


def _key_order(site_key: tuple[str, str]) -> tuple:
    site, key = site_key
    return site, natural_key(key)


def _standard_codes(mapping: Any) -> set[str]:
    return {s.code for s in getattr(mapping, "standards", None) or ()}


def _fixed(state: IssueState | None, current: Iterable[str]) -> tuple[tuple[str, str, int], ...]:
    if state is None:
        return ()
    now_open = set(current)
    gone = Counter(code for fp, code in state.findings if fp not in now_open)
    titles = dict(state.titles)
    return tuple((code, titles.get(code, ""), n) for code, n in sorted(gone.items()))


def plan_writeback(result: AuditResult, issues: Mapping[tuple[str, str], Issue], mapping: Any, *,
                   now: datetime) -> Plan:
    """Diff the audit against what Jira holds now; no I/O. See the module docstring for the rules."""
    wb = mapping.writeback
    prefix = normalise_prefix(wb.label_prefix)
    comments_on = bool(wb.comment)
    grouped = by_item(result.findings)
    phases = {(i.site, i.key): i.phase for i in result.items if i.kind == "epic" and i.phase}
    known_codes = _standard_codes(mapping) | {f.code for f in result.findings}
    broken_sites = set(result.site_errors)
    planned: list[IssuePlan] = []
    unchanged = 0

    for site_key in sorted(issues, key=_key_order):
        site, key = site_key
        if site in broken_sites:
            continue  # no audit for this site: absence of findings means nothing
        issue = issues[site_key]
        state = parse_state(issue.properties.get(STATE_PROPERTY))
        written = written_findings(grouped.get(site_key, ()), wb.severities)
        phase = phases.get(site_key)
        desired = desired_labels(prefix, phase, written)
        vocab = vocabulary(prefix, known_codes | {c for _, c in (state.findings if state else ())})
        owned_before = set(state.labels) if state else set()
        present = set(issue.labels)
        ours_present = {lb for lb in present
                        if lb.startswith(prefix) and (lb in vocab or lb in owned_before)}
        if not (written or state or ours_present or phase):
            continue
        add = tuple(sorted(set(desired) - present))
        remove = tuple(sorted(ours_present - set(desired)))

        fps = [f.fingerprint for f in written]
        new = state_for(written, comment_id=state.comment_id if state else None,
                        mapping=result.mapping_hash, labels=desired, updated=now.isoformat(),
                        seen=people_updated(issue.updated, state).isoformat())
        op: CommentOp | None = None
        if comments_on:
            if written and (state is None or state.comment_id is None):
                op = CommentOp.CREATE
            elif written and state.fingerprint != new.fingerprint:
                op = CommentOp.EDIT
            elif not written and state is not None and state.comment_id and state.has_findings:
                op = CommentOp.CLEAR
        fixed = _fixed(state, fps) if op else ()
        body = render_comment(written, fixed, today=now.date()) if op else None
        write_state = bool(add or remove or op) or not new.same_content(state)
        if not write_state:
            unchanged += 1
            continue
        planned.append(IssuePlan(
            site=site, key=key, add_labels=add, remove_labels=remove, comment=op, comment_body=body,
            comment_id=state.comment_id if state else None, new_state=new, summary=issue.summary,
            url=issue.url, open_codes=tuple(f.code for f in written), fixed=fixed))

    not_written = tuple(sorted((k for k in grouped if k not in issues and k[0] not in broken_sites
                                and written_findings(grouped[k], wb.severities)), key=_key_order))
    return Plan(issues=tuple(planned), generated=now, mapping_name=result.mapping_name,
                mapping_hash=result.mapping_hash, label_prefix=prefix, unchanged=unchanged,
                not_written=not_written)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
