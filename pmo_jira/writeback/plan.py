"""The write-back plan: for every issue, exactly which writes would bring Jira in line.

Planning is pure: it compares the audit result with what the run already read (each issue's
labels and its ``pmo-jira.state`` property) and makes no request. A second run over an unchanged
portfolio therefore plans zero writes, and ``sync`` can print the whole plan before touching Jira.

Rules:
- labels: add desired labels that are missing; remove labels that are in this tool's own
  vocabulary (phase labels, standard codes, the non-compliant label, all under the prefix) and
  that the state recorded writing, but are no longer desired. A person's ``pmo-budget-approved``
  is never in the vocabulary, whatever a forged state lists. Only add/remove operations are
  sent, so labels people add meanwhile survive.
- comment: create when there are findings and no owned comment is known; edit when the written
  findings changed; "clear" (an edit saying all is met) when they went to zero; never a new
  comment just to say all is fine. With ``comments`` (``ownership.check_read``, from the comments the run read) the
  plan knows which comments are provably the bot's: a deleted one is posted again, a stale one
  found without a trustworthy state is rewritten, and duplicates are deleted, keeping one.
- state: written whenever anything else is, or when the stored state is missing or stale. A
  stored value that fails validation (shape, size, a comment id that is not the bot's) counts as
  absent, with a warning naming the issue.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from pmo_jira.errors import WriteBackError
from pmo_jira.findings import AuditResult, by_item
from pmo_jira.jira.richtext import adf_to_text, to_adf
from pmo_jira.model import Doc, Issue, natural_key
from pmo_jira.printable import visible
from pmo_jira.state import STATE_PROPERTY, IssueState, parse_state, people_updated, state_for
from pmo_jira.writeback.ownership import MAX_DELETES_PER_RUN, CommentCheck
from pmo_jira.writeback.render import desired_labels, normalise_prefix, render_comment, vocabulary, written_findings

log = logging.getLogger("pmo_jira.writeback")
_CODE_LABEL = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*-[0-9]{3}$")


def _code_label_shape(prefix: str, label: str) -> bool:
    """A label a standard code gives ('pmo-old-042'): a retired standard's label recorded in the
    state is still removed, while a person's 'pmo-budget-approved' never is, whatever it says."""
    return label.startswith(prefix) and bool(_CODE_LABEL.match(label[len(prefix):]))

GUARD_MIN_OPEN = 10
"""The resolution guard looks at sites with at least this many open findings: on a smaller one a
team fixing its last few findings is no sign of a broken mapping."""

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
    comment_id: str | None = None  # the owned comment (from the state, or found by its author and marker)
    delete_comments: tuple[str, ...] = ()  # duplicate owned comments to delete
    comments_verified: bool = False  # the comment ids were read and proven the bot's in this run
    new_state: IssueState | None = None  # None: the property stays as it is
    summary: str = ""
    url: str = ""
    open_codes: tuple[str, ...] = ()
    fixed: tuple[tuple[str, str, int], ...] = ()  # (code, title, items) fixed since the last version
    issue_id: str = ""  # Jira's numeric id, for reading the issue back after writing it

    @property
    def writes(self) -> int:
        """Requests this issue costs: at most one each for comment, labels and state."""
        return (self.comment is not None) + bool(self.add_labels or self.remove_labels) + (
            self.new_state is not None) + len(self.delete_comments)


@dataclass(frozen=True)
class PlanTotals:
    issues_touched: int
    label_adds: int
    label_removes: int
    comments_created: int
    comments_edited: int
    comments_deleted: int
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
    open_before: int = 0  # findings the issues' states record as written and open
    resolving: int = 0  # of those, the ones this plan would mark fixed
    warnings: tuple[str, ...] = ()  # "site: ..." per site whose plan resolves more than its share

    @property
    def totals(self) -> PlanTotals:
        return PlanTotals(
            issues_touched=len(self.issues),
            label_adds=sum(len(p.add_labels) for p in self.issues),
            label_removes=sum(len(p.remove_labels) for p in self.issues),
            comments_created=sum(p.comment is CommentOp.CREATE for p in self.issues),
            comments_edited=sum(p.comment in (CommentOp.EDIT, CommentOp.CLEAR) for p in self.issues),
            comments_deleted=sum(len(p.delete_comments) for p in self.issues),
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
        comments_deleted, property_writes, writes, unchanged}, "issues": [{"site", "key", "url",
        "summary", "add_labels", "remove_labels", "comment": "create"|"edit"|"clear"|null,
        "comment_id", "delete_comments",
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
                "delete_comments": list(p.delete_comments),
                "comment_text": adf_to_text(to_adf(p.comment_body)) if p.comment_body else None,
                "open_codes": list(p.open_codes),
                "fixed": [{"code": c, "title": t, "items": n} for c, t, n in p.fixed],
                "state": p.new_state.to_json() if p.new_state else None,
                "writes": p.writes,
            } for p in self.issues],
            "not_written": [{"site": s, "key": k} for s, k in self.not_written],
            "resolving": {"open_before": self.open_before, "resolving": self.resolving},
            "warnings": list(self.warnings),
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
            if p.delete_comments:
                changes.append(f"delete {_n(len(p.delete_comments), 'duplicate comment')}")
            if p.fixed:
                changes.append("fixed " + ", ".join(c for c, _, _ in p.fixed))
            if p.new_state is not None and not changes:
                changes.append("record state only")
            site = f"{visible(p.site)}:" if p.site else ""
            lines.append(f"{site}{visible(p.key)}  {visible(p.summary[:60])}\n    " + "; ".join(changes))
            if comments and p.comment_body is not None:
                body = adf_to_text(to_adf(p.comment_body))
                lines += ["      | " + visible(line) for line in body.splitlines()]
        t = self.totals
        lines.append(
            f"{t.issues_touched} issues to write ({t.writes} writes): {t.label_adds} labels added, "
            f"{t.label_removes} removed, {t.comments_created} comments posted, {t.comments_edited} "
            f"updated, {t.property_writes} state properties; {t.unchanged} issues unchanged."
            + (f" {t.comments_deleted} duplicate comments deleted." if t.comments_deleted else ""))
        if self.not_written:
            lines.append(f"{len(self.not_written)} items with findings are not issues (projects) and "
                         "appear only in reports.")
        lines += [f"warning: {visible(w)}" for w in self.warnings]
        return "\n".join(lines)


def check_blast_radius(plan: Plan, max_writes: int) -> None:
    """Refuse a plan with more writes than the cap: a mapping mistake must not rewrite a site."""
    t = plan.totals
    if t.writes > max_writes:
        raise WriteBackError(
            f"write-back would make {t.writes} writes to {t.issues_touched} issues, more than the cap "
            f"of {max_writes} (writeback.max_writes); review the plan printed by a `pmo-jira sync` "
            f"dry run, then allow it with `--max-writes {t.writes}`")


def resolution_warning(site: str, open_before: int, resolving: int, max_share: float) -> str | None:
    """Why a site's plan would mark suspiciously many open findings fixed at once, or None.

    A renamed field, a mapping edit or a site answering oddly looks exactly like a portfolio that
    fixed everything overnight; more than ``max_share`` of at least ``GUARD_MIN_OPEN`` open
    findings resolving in one run is held back until someone says it is real."""
    if open_before < GUARD_MIN_OPEN or resolving <= max_share * open_before:
        return None
    return (f"{site}: {resolving} of {open_before} open findings ({resolving / open_before:.0%}) would be marked "
            f"fixed in one run, more than writeback.max_resolved_share ({max_share:.0%}); if that is real, "
            "apply it once with `pmo-jira sync --apply --allow-mass-resolve`")


def _key_order(site_key: tuple[str, str]) -> tuple[Any, ...]:
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
                   now: datetime, comments: Mapping[tuple[str, str], CommentCheck] | None = None,
                   known_codes: Iterable[str] = (), max_resolved_share: float | None = None) -> Plan:
    """Diff the audit against what Jira holds now; no I/O. See the module docstring for the rules.

    ``comments``: per issue, which of its comments are the bot's, from this run's read (an
    issue missing from it is planned from its state alone, and checked again when applied).
    ``known_codes``: every installed standard's code, so labels of a standard the mapping no
    longer runs are still recognised as pmo-jira's own. ``max_resolved_share`` overrides the
    mapping's ``writeback.max_resolved_share`` (see ``resolution_warning``).
    """
    wb = mapping.writeback
    prefix = normalise_prefix(wb.label_prefix)
    comments_on = bool(wb.comment)
    grouped = by_item(result.findings)
    phases = {(i.site, i.key): i.phase for i in result.items if i.kind == "epic" and i.phase}
    codes = _standard_codes(mapping) | {f.code for f in result.findings} | set(known_codes)
    broken_sites = set(result.site_errors)
    planned: list[IssuePlan] = []
    unchanged = 0
    open_before: Counter[str] = Counter()  # per site
    resolving: Counter[str] = Counter()

    for site_key in sorted(issues, key=_key_order):
        site, key = site_key
        if site in broken_sites:
            continue  # no audit for this site: absence of findings means nothing
        issue = issues[site_key]
        raw_state = issue.properties.get(STATE_PROPERTY)
        state = parse_state(raw_state)
        # the audit measured freshness from this state before ownership was checked; recording the
        # same "people last touched" keeps the next run from seeing a change nobody made
        seen = people_updated(issue.updated, state)
        if raw_state is not None and state is None:
            log.warning("%s:%s: its %s property is not one pmo-jira wrote (wrong shape or too large); "
                        "treated as absent", site, key, STATE_PROPERTY)
        check = comments.get(site_key) if comments is not None else None
        if state is not None and state.comment_id and check is not None \
                and state.comment_id not in check.owned:
            if state.comment_id in check.all_ids:
                log.warning("%s:%s: its %s property names comment %s, which the pmo-jira account did "
                            "not write; the property is treated as absent and that comment left alone",
                            site, key, STATE_PROPERTY, state.comment_id)
                state = None
            else:  # a person deleted the owned comment
                state = dataclasses.replace(state, comment_id=None)
        written = written_findings(grouped.get(site_key, ()), wb.severities)
        if state is not None:
            still_open = {f.fingerprint for f in written}
            open_before[site] += len(state.findings)
            resolving[site] += sum(1 for fp, _ in state.findings if fp not in still_open)
        phase = phases.get(site_key)
        desired = desired_labels(prefix, phase, written)
        vocab = vocabulary(prefix, codes)
        present = set(issue.labels)
        # ours: in the vocabulary (or shaped like a retired standard's label) and, when a state is
        # trusted, recorded in it as written by us
        ours_present = {lb for lb in present if lb in vocab and (state is None or lb in state.labels)
                        or state is not None and lb in state.labels and _code_label_shape(prefix, lb)}
        owned = check.owned if check is not None else ()
        if not (written or state or ours_present or phase or owned):
            continue
        add = tuple(sorted(set(desired) - present))
        remove = tuple(sorted(ours_present - set(desired)))

        stated_id = state.comment_id if state else None
        comment_id = stated_id or (owned[0] if owned else None)
        delete = tuple(c for c in owned if c != comment_id)[:MAX_DELETES_PER_RUN] if comments_on else ()
        fps = [f.fingerprint for f in written]
        # a baseline is recorded once, the first time the epic is seen past its planning gate, and kept
        baseline = state.baseline if state is not None and state.baseline else result.baselines.get(site_key)
        new = state_for(written, comment_id=comment_id,
                        mapping=result.mapping_hash, labels=desired, updated=now.isoformat(),
                        seen=seen.isoformat(), baseline=baseline)
        op: CommentOp | None = None
        if comments_on:
            adopted = comment_id != stated_id  # found by author and marker: its text is unknown
            if written and comment_id is None:
                op = CommentOp.CREATE
            elif written and (adopted or state is None or state.fingerprint != new.fingerprint):
                op = CommentOp.EDIT
            elif not written and comment_id and (adopted or state is None or state.has_findings):
                op = CommentOp.CLEAR
        fixed = _fixed(state, fps) if op else ()
        body = render_comment(written, fixed, today=now.date()) if op else None
        write_state = bool(add or remove or op or delete) or not new.same_content(state)
        if not write_state:
            unchanged += 1
            continue
        planned.append(IssuePlan(
            site=site, key=key, add_labels=add, remove_labels=remove, comment=op, comment_body=body,
            comment_id=comment_id, delete_comments=delete,
            comments_verified=check is not None and check.proven,
            new_state=new, summary=issue.summary, url=issue.url,
            open_codes=tuple(f.code for f in written), fixed=fixed,
            issue_id=str(getattr(issue, "id", "") or "")))

    not_written = tuple(sorted((k for k in grouped if k not in issues and k[0] not in broken_sites
                                and written_findings(grouped[k], wb.severities)), key=_key_order))
    share = wb.max_resolved_share if max_resolved_share is None else max_resolved_share
    warnings = tuple(w for site in sorted(open_before)
                     if (w := resolution_warning(site, open_before[site], resolving[site], share)))
    return Plan(issues=tuple(planned), generated=now, mapping_name=result.mapping_name,
                mapping_hash=result.mapping_hash, label_prefix=prefix, unchanged=unchanged,
                not_written=not_written, open_before=sum(open_before.values()),
                resolving=sum(resolving.values()), warnings=warnings)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
