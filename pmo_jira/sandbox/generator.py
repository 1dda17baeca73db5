"""A seeded, deterministic, believable portfolio for the sandbox, from ~30 to 100,000+ issues.

Same ``(flavour, issues, seed, now)`` gives the same site, issue for issue. Every date is placed
relative to ``now`` (default :data:`REFERENCE_NOW`, fixed so tests are reproducible; the
``sandbox serve`` command passes the current time so a real clock sees fresh and overdue work
where the generator meant it). The store's clock starts at the same ``now``.

The portfolio: projects in the categories "Digital", "Operations", "Infrastructure" and "Ideas",
one project without a category and one ("VAULT") the bot may not browse. Each project holds epics
in all four PMO phases, their stories/tasks/bugs (a few with sub-tasks), and Risk issues linked to
their epic ("Relates"). Roughly a third of the work breaks a PMO standard on purpose: missing
owner, missing dates, stale or long-blocked status, overdue epics, children outside their epic's
dates, epics without risks, open high risks without mitigation, closed epics with open children,
epics whose description lacks an "Objective" section.
"""

from __future__ import annotations

import random
import zlib
from datetime import date, datetime, timedelta, timezone

from pmo_jira.model import Flavour
from pmo_jira.sandbox.history import history_source
from pmo_jira.sandbox.store import SELECT_OPTIONS, CategoryRec, CommentRec, IssueRec, ProjectRec, Store, UserRec

GOVERNANCE_SHARE = 0.02
"""Share of a site's issues that are change requests, decisions and assumptions."""
EXECUTING = ("In Progress", "Blocked")
PLANNED = ("Planning", "Approved")
LESSONS = ("Book vendor lead times before the gate.", "Involve operations from the first sprint.",
           "Freeze scope before the pilot.", "Keep the risk review weekly, not monthly.")
RECORDS = {
    "Change Request": ("Extend the target end after the vendor slip", "Add the reporting module to scope",
                       "Move the pilot to the next quarter", "Add a second market to the launch"),
    "Decision": ("Go with the managed service", "Pilot in one region first", "Keep the legacy API until Q3"),
    "Assumption": ("The vendor delivers the hardware on time", "Two engineers join from the platform team",
                   "The regulator keeps the current reporting rules"),
}

REFERENCE_NOW = datetime(2026, 1, 15, 9, 0, tzinfo=timezone.utc)
"""Default "now" of a generated site: fixed, so that tests see the same data every run."""

FIRST_ISSUE_ID = 10000

CATEGORIES = (
    ("10000", "Digital", "Customer-facing products and channels"),
    ("10001", "Operations", "Running the business"),
    ("10002", "Infrastructure", "Platforms, networks and security"),
    ("10003", "Ideas", "Proposals not yet approved"),
)

# key, name, category id (None: uncategorised); VAULT is added separately and hidden from the bot.
BASE_PROJECTS = (
    ("DIG", "Digital Banking", "10000"),
    ("WEB", "Web Storefront", "10000"),
    ("MOB", "Mobile App", "10000"),
    ("OPS", "Service Operations", "10001"),
    ("FIN", "Finance Systems", "10001"),
    ("INF", "Cloud Platform", "10002"),
    ("NET", "Network Refresh", "10002"),
    ("IDEA", "Innovation Backlog", "10003"),
    ("MISC", "Shared Services", None),
)
# With ``mixed_health`` (the demo's portfolio) projects differ in how well they are run, as in a
# real portfolio: flaws are rarer in the well-run ones and commoner in the troubled ones; every
# other project keeps the base rates. Without it every project has the base rates.
DISCIPLINE = {"MOB": 0.1, "NET": 0.1, "OPS": 1.5, "FIN": 1.5}
EXTRA_STEMS = (("DIG", "10000"), ("OPS", "10001"), ("INF", "10002"), ("IDEA", "10003"))

FIRST = ("Alice", "Bruno", "Chen", "Dana", "Emeka", "Fatima", "Gustav", "Hana", "Ivan", "Julia", "Kofi",
         "Lena", "Marco", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tara", "Umar", "Vera",
         "Wei", "Ximena", "Yusuf", "Zoe")
LAST = ("Andersen", "Baptiste", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
        "Jensen", "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Schmidt",
        "Tanaka", "Usman", "Varga", "Weber", "Yilmaz", "Zhou")
ZONES = ("Europe/London", "Europe/Paris", "America/New_York", "Asia/Singapore", "Australia/Sydney")

VERBS = ("Launch", "Migrate", "Modernise", "Consolidate", "Automate", "Replace", "Harden", "Roll out",
         "Redesign", "Integrate", "Decommission", "Scale")
OBJECTS = ("customer self-service portal", "payments gateway", "data warehouse", "identity platform",
           "mobile onboarding", "billing engine", "network core", "observability stack", "CRM",
           "supplier portal", "loyalty programme", "disaster recovery site", "API gateway",
           "document archive", "HR self-service", "fraud detection", "search experience", "ERP ledger")
CHILD_VERBS = ("Implement", "Design", "Test", "Document", "Configure", "Review", "Migrate", "Spike on",
               "Fix", "Automate", "Instrument", "Refactor")
CHILD_OBJECTS = ("login flow", "data model", "API contract", "batch job", "dashboard", "alerting",
                 "access roles", "import script", "release pipeline", "error handling", "audit trail",
                 "cut-over plan", "load test", "user guide", "cache layer", "feature flag")
RISKS = ("Vendor delivery may slip", "Key engineer may leave", "Regulator may change reporting rules",
         "Legacy data quality may block migration", "Budget approval may be delayed",
         "Integration partner API may change", "Security review may find blockers",
         "Peak season freeze may cut the release window")
MITIGATIONS = ("Weekly check-in with the vendor; fallback supplier identified.",
               "Pair a second engineer on every critical component.",
               "Track the consultation and keep reporting configurable.",
               "Run a data-quality sprint before the migration window.",
               "Phase the spend so that the first release needs no new budget.")
LABELS = ("customer", "compliance", "tech-debt", "regulatory", "q1", "q2", "security", "quick-win")

DESC_OBJECTIVE = (
    "h2. Objective\nGive customers a faster, cheaper way to get things done and cut support calls.\n\n"
    "h2. Scope\n* Discovery and design\n* Build and migration\n* Roll-out and training\n\n"
    "h2. Success criteria\n* Adoption above 60% within a quarter of launch",
    "h2. Objective\nRetire the legacy platform before its support contract ends.\n\n"
    "h2. Scope\n* Inventory of integrations\n* Migration waves\n\n"
    "h2. Benefits\nLower run costs and fewer incidents.",
    "h2. Objective\nMeet the new regulatory reporting obligation on time.\n\n"
    "h2. Approach\nDeliver in three increments, each reviewed by Compliance.",
)
DESC_NO_OBJECTIVE = (
    "h2. Background\nThis came up in the quarterly review.\n\nh2. Scope\n* TBD",
    "Some notes from the kick-off meeting. Details to follow.",
    "",
)
CHILD_DESC = ("", "", "As agreed in refinement.", "h2. Acceptance criteria\n* Works on staging\n* Documented")

# PMO phase -> epic statuses (weights), per the contract's sandbox facts.
EPIC_STATUS = {
    "Initiation": (("Idea", 0.5), ("Proposed", 0.5)),
    "Planning": (("Planning", 0.6), ("Approved", 0.4)),
    "Execution": (("In Progress", 0.85), ("Blocked", 0.15)),
    "Closing": (("Done", 0.6), ("Closed", 0.4)),
}
PHASE_WEIGHTS = (("Initiation", 0.18), ("Planning", 0.24), ("Execution", 0.43), ("Closing", 0.15))
IDEAS_PHASE_WEIGHTS = (("Initiation", 0.85), ("Planning", 0.15))


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    x = rng.random()
    for value, weight in weighted:
        x -= weight
        if x < 0:
            return value
    return weighted[-1][0]


class _Builder:
    """Holds the running counters of one generation; one method per kind of record."""

    def __init__(self, store: Store, rng: random.Random, now: datetime, discipline: dict[str, float]):
        self.store, self.rng, self.now = store, rng, now
        self.discipline = discipline
        self.today = now.date()
        self.next_id = FIRST_ISSUE_ID
        self.counters: dict[str, int] = {}
        self.people: list[str] = []

    def ago(self, days: float) -> datetime:
        """A moment ``days`` before now, at a plausible office time, never in the future."""
        moment = self.now - timedelta(days=days)
        moment = moment.replace(hour=8 + int(self.rng.random() * 9), minute=int(self.rng.random() * 60),
                                second=int(self.rng.random() * 60),
                                microsecond=int(self.rng.random() * 1000) * 1000)
        return min(moment, self.now)

    def person(self, p_missing: float) -> str | None:
        return None if self.rng.random() < p_missing else self.rng.choice(self.people)

    def users(self, count: int) -> None:
        for i in range(count):
            first, last = FIRST[i % len(FIRST)], LAST[(i * 7 + i // len(FIRST)) % len(LAST)]
            suffix = "" if i < len(FIRST) else str(i // len(FIRST))
            name = f"{first[0].lower()}{last.lower()}{suffix}"
            account = f"712020:{self.rng.getrandbits(128):032x}"
            account = f"{account[:15]}-{account[15:19]}-{account[19:23]}-{account[23:27]}-{account[27:]}"
            user = UserRec(account, name, f"JIRAUSER{10100 + i}", f"{first} {last}{(' ' + suffix) if suffix else ''}",
                           f"{name}@example.com", ZONES[i % len(ZONES)], active=(i % 23 != 22))
            self.store.add_user(user)
            self.people.append(account)

    def issue(self, project: str, itype: str, **kw) -> IssueRec:
        n = self.counters.get(project, 0) + 1
        self.counters[project] = n
        rec = IssueRec(id=self.next_id, key=f"{project}-{n}", project=project, type=itype, **kw)
        self.next_id += 1
        return self.store.add_issue(rec)

    def times(self, created_days: float, changed_days: float, updated_days: float,
              not_before: datetime | None = None) -> dict:
        """created <= status changed <= updated, each about ``x`` days ago (and not before ``not_before``)."""
        created = self.ago(created_days)
        if not_before is not None:
            created = max(created, not_before)
        changed = max(self.ago(min(changed_days, created_days)), created)
        updated = max(self.ago(min(updated_days, changed_days, created_days)), changed)
        return {"created": created, "status_changed": changed, "updated": updated}

    def epic(self, project: str, phase: str) -> tuple[IssueRec, dict]:
        rng = self.rng
        status = _pick(rng, EPIC_STATUS[phase])
        age = {"Initiation": 60, "Planning": 120, "Execution": 300, "Closing": 500}[phase]
        created_days = rng.uniform(age * 0.3, age * 1.5)
        k = self.discipline.get(project, 1.0)
        flaws = {
            "owner": rng.random() < 0.10 * k,
            "dates": phase != "Initiation" and rng.random() < 0.12 * k,
            "objective": rng.random() < 0.18 * k,
            "stale": phase == "Execution" and rng.random() < 0.15 * k,
            "overdue": phase == "Execution" and rng.random() < 0.12 * k,
            "no_risks": phase != "Initiation" and rng.random() < 0.15 * k,
            "open_children": phase == "Closing" and rng.random() < 0.2 * k,
            "blocked_long": status == "Blocked" and rng.random() < 0.6 * k,
            "outside": rng.random() < 0.10 * k,
            "unestimated": phase != "Initiation" and rng.random() < 0.18 * k,
        }
        start = target_end = None
        if phase != "Initiation" or rng.random() < 0.3:
            if phase == "Closing":
                start = self.today - timedelta(days=int(rng.uniform(200, 420)))
                target_end = start + timedelta(days=int(rng.uniform(90, 180)))
            elif phase == "Execution":
                start = self.today - timedelta(days=int(rng.uniform(20, 200)))
                target_end = (self.today - timedelta(days=int(rng.uniform(5, 60))) if flaws["overdue"]
                              else self.today + timedelta(days=int(rng.uniform(20, 240))))
            else:
                start = self.today + timedelta(days=int(rng.uniform(5, 90)))
                target_end = start + timedelta(days=int(rng.uniform(60, 270)))
        if flaws["dates"]:
            if rng.random() < 0.5:
                start = None
            else:
                target_end = None
        if phase == "Closing":
            changed, updated = rng.uniform(5, 150), rng.uniform(1, 60 if k >= 1 else 12)
        elif flaws["stale"] or flaws["blocked_long"]:
            changed, updated = rng.uniform(25, 120), rng.uniform(20, 90)
        elif status == "Blocked":
            changed, updated = rng.uniform(1, 6), rng.uniform(0, 3)
        else:
            changed, updated = rng.uniform(5, 60), rng.uniform(0, 10)
        rec = self.issue(
            project, "Epic", summary=f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}", status=status,
            **self.times(created_days, changed, updated),
            assignee=None if flaws["owner"] else rng.choice(self.people), reporter=rng.choice(self.people),
            priority=_pick(rng, (("High", 0.3), ("Medium", 0.5), ("Low", 0.2))),
            labels=[rng.choice(LABELS)] if rng.random() < 0.3 else None,
            description=rng.choice(DESC_NO_OBJECTIVE if flaws["objective"] else DESC_OBJECTIVE),
            start=start, target_end=target_end, due=target_end,
            phase=phase if rng.random() < 0.3 else None,
        )
        if rec.status_category == "done":
            rec.resolved = rec.status_changed
        return rec, flaws

    def child(self, epic: IssueRec, phase: str, flaws: dict) -> IssueRec:
        rng = self.rng
        itype = _pick(rng, (("Story", 0.55), ("Task", 0.3), ("Bug", 0.15)))
        if phase in ("Initiation", "Planning"):
            status = _pick(rng, (("To Do", 0.9), ("In Progress", 0.1)))
        elif phase == "Execution":
            status = _pick(rng, (("Done", 0.35), ("In Progress", 0.3), ("To Do", 0.2), ("In Review", 0.1), ("Blocked", 0.05)))
        else:
            status = _pick(rng, (("Done", 0.5), ("In Progress", 0.3), ("To Do", 0.2))) if flaws["open_children"] else "Done"
        epic_created_days = (self.now - epic.created).total_seconds() / 86400
        created_days = rng.uniform(epic_created_days * 0.3, epic_created_days)
        # a stale epic has no recent update anywhere below it either (that is what "status fresh" reads)
        if flaws["stale"] or (status in ("In Progress", "In Review") and rng.random() < 0.05):
            changed, updated = rng.uniform(25, 100), rng.uniform(20, 80)
        elif status == "Blocked":
            changed, updated = (rng.uniform(12, 60), rng.uniform(10, 40)) if rng.random() < 0.3 else (rng.uniform(1, 5), rng.uniform(0, 2))
        else:
            changed, updated = rng.uniform(1, 40), rng.uniform(0, 12)
        start = end = None
        if epic.start and epic.target_end and rng.random() < 0.85:
            span = max((epic.target_end - epic.start).days, 2)
            offset = int(rng.uniform(0, span * 0.7))
            start = epic.start + timedelta(days=offset)
            end = start + timedelta(days=max(1, int(rng.uniform(5, span - offset))))
            if flaws["outside"] and rng.random() < 0.5:
                end = epic.target_end + timedelta(days=int(rng.uniform(3, 45)))
        missing = 0.5 if flaws["unestimated"] else 0.03
        points = None if rng.random() < missing else float(rng.choice((1, 2, 3, 5, 8, 13)))
        rec = self.issue(
            epic.project, itype, summary=f"{rng.choice(CHILD_VERBS)} {rng.choice(CHILD_OBJECTS)}", status=status,
            **self.times(created_days, changed, updated, epic.created),
            assignee=self.person(0.10 if status != "To Do" else 0.35), reporter=rng.choice(self.people),
            priority=_pick(rng, (("High", 0.2), ("Medium", 0.6), ("Low", 0.2))),
            labels=[rng.choice(LABELS)] if rng.random() < 0.25 else None,
            description=rng.choice(CHILD_DESC), parent=epic.key, start=start, target_end=end, due=end,
            points=points,
        )
        if rec.status_category == "done":
            rec.resolved = rec.status_changed
        return rec

    def subtask(self, story: IssueRec) -> IssueRec:
        rng = self.rng
        status = "Done" if story.status == "Done" else _pick(rng, (("To Do", 0.5), ("In Progress", 0.3), ("Done", 0.2)))
        age = (self.now - story.created).total_seconds() / 86400
        rec = self.issue(story.project, "Sub-task", summary=f"{rng.choice(CHILD_VERBS)} {rng.choice(CHILD_OBJECTS)}",
                         status=status, **self.times(rng.uniform(0, age), rng.uniform(0, 20), rng.uniform(0, 10), story.created),
                         assignee=story.assignee, reporter=story.reporter, parent=story.key)
        if rec.status_category == "done":
            rec.resolved = rec.status_changed
        return rec

    def risk(self, epic: IssueRec) -> IssueRec:
        rng = self.rng
        impact = _pick(rng, (("Low", 0.2), ("Medium", 0.35), ("High", 0.3), ("Critical", 0.15)))
        likelihood = _pick(rng, (("Low", 0.3), ("Medium", 0.4), ("High", 0.25), ("Critical", 0.05)))
        status = _pick(rng, (("Open", 0.55), ("Mitigating", 0.25), ("Closed", 0.2)))
        k = self.discipline.get(epic.project, 1.0)
        mitigation = None if rng.random() < 0.15 * k else rng.choice(MITIGATIONS)
        epic_created_days = (self.now - epic.created).total_seconds() / 86400
        rec = self.issue(
            epic.project, "Risk", summary=rng.choice(RISKS), status=status,
            **self.times(rng.uniform(0, epic_created_days), rng.uniform(1, 60), rng.uniform(0, 30), epic.created),
            assignee=self.person(0.08 * k), reporter=rng.choice(self.people),
            priority="High" if impact in ("High", "Critical") else "Medium",
            description="h2. Risk\nIf this happens the plan slips.", impact=impact, likelihood=likelihood,
            mitigation=mitigation,
        )
        if rec.status_category == "done":
            rec.resolved = rec.status_changed
        self.store.link(rec.key, "Relates", epic.key)
        return rec

    def governance(self, budget: int) -> None:
        """Sponsors, gate approvals, acceptances and lessons on the epics, cross-project blockers, and
        ``budget`` change requests, decisions and assumptions linked to epics past initiation.

        At base rates about one epic in ten has its owner as sponsor or none, a quarter of those in
        execution lack the gate approval, half the open risks scoring high were last reviewed weeks
        ago and a few children are logged RAID issues; well-run projects (``DISCIPLINE``) have far
        fewer such gaps and an approved change request behind every running epic.
        """
        rng, store = self.rng, self.store
        epics = [r for r in store.issues if r.type == "Epic"]
        work: dict[str, list[IssueRec]] = {}  # open stories and tasks by epic
        children: dict[str, list[IssueRec]] = {}
        for r in store.issues:
            if r.type in ("Story", "Task") and r.parent:
                children.setdefault(r.parent, []).append(r)
                if r.status_category != "done":
                    work.setdefault(r.parent, []).append(r)
        pool = [w for ws in work.values() for w in ws]
        for epic in epics:
            flaw = _governance_flaws(epic.project)
            others = [p for p in self.people if p != epic.assignee]
            roll = rng.random()
            epic.sponsor = (None if roll < 0.05 * flaw else epic.assignee if roll < 0.1 * flaw
                            else rng.choice(others) if others else None)
            begun = epic.status in EXECUTING or epic.status_category == "done"
            if begun and epic.sponsor and rng.random() >= 0.25 * flaw:
                epic.gate_approval = epic.sponsor
            if epic.status_category == "done":
                if epic.sponsor and rng.random() >= 0.4 * flaw:
                    epic.sponsor_acceptance = epic.sponsor
                if rng.random() >= 0.5 * flaw:
                    epic.description += "\nh2. Lessons learned\n" + rng.choice(LESSONS)
            mine = work.get(epic.key, [])
            if epic.status in EXECUTING:
                if pool and rng.random() < 0.3 * flaw:
                    blocker = rng.choice(pool)
                    if blocker.project != epic.project:
                        store.link(blocker.key, "Blocks", epic.key)
                for child in mine:
                    if rng.random() < 0.1 * flaw:  # logged as a RAID issue, often undated
                        child.labels = (child.labels or []) + ["raid-issue"]
                        if rng.random() < 0.6 * flaw:
                            child.due = None
            kids = children.get(epic.key, [])
            if kids and (epic.status in PLANNED or epic.status in EXECUTING) and rng.random() >= 0.3 * flaw:
                for label in ("raid-assumption", "raid-decision"):  # logged on a child
                    child = rng.choice(kids)
                    child.labels = (child.labels or []) + [label]
        for risk in store.issues:  # some serious risks nobody has looked at for weeks
            if (risk.type == "Risk" and risk.status_category != "done" and risk.impact in ("High", "Critical")
                    and risk.likelihood in ("High", "Critical")
                    and rng.random() < 0.5 * _governance_flaws(risk.project)):
                risk.updated = max(risk.created, self.now - timedelta(days=rng.uniform(35, 90)))
                risk.status_changed = min(risk.status_changed, risk.updated)
        for risk in store.issues:  # troubled projects: a few open risks nobody scored, off the heat map
            if (risk.type == "Risk" and risk.status_category != "done" and self.discipline.get(risk.project, 1) > 1
                    and zlib.crc32(risk.key.encode()) % 6 == 0):
                risk.likelihood = None  # decided by the key, so the generator's random sequence is unchanged
        well_run = [e for e in epics if e.status in EXECUTING and DISCIPLINE.get(e.project, 1.0) < 1]
        planned = [e for e in epics if e.status in PLANNED or e.status in EXECUTING]
        for n in range(budget if planned else 0):
            first = n < len(well_run)
            epic = well_run[n] if first else planned[n % len(planned)]
            kind = ("Change Request" if first or (epic.status in EXECUTING and n % 3 == 0)
                    else ("Decision", "Assumption")[n % 2])
            age = max((self.now - epic.created).total_seconds() / 86400, 1.0)
            status = {"Change Request": "Approved" if first else _pick(rng, (("Approved", 0.5), ("In Review", 0.3),
                                                                             ("To Do", 0.2))),
                      "Decision": "Done", "Assumption": _pick(rng, (("Open", 0.7), ("Closed", 0.3)))}[kind]
            rec = self.issue(epic.project, kind, summary=rng.choice(RECORDS[kind]), status=status,
                             **self.times(rng.uniform(0, age * 0.8), rng.uniform(0, 20), rng.uniform(0, 10), epic.created),
                             assignee=epic.sponsor if kind == "Change Request" else epic.assignee,
                             reporter=epic.assignee or rng.choice(self.people),
                             description=f"h2. {kind}\n{rng.choice(RECORDS[kind])}.")
            if rec.status_category == "done":
                rec.resolved = rec.status_changed
            store.link(rec.key, "Relates", epic.key)

    def comment(self, rec: IssueRec) -> None:
        rng = self.rng
        when = rec.updated - timedelta(minutes=int(rng.uniform(0, 600)))
        when = max(when, rec.created)
        author = rng.choice(self.people)
        text = rng.choice(("Status update: on track.", "Waiting for the vendor to confirm the date.",
                           "Moved to next sprint after refinement.", "h2. Decision\nWe go with option B."))
        rec.comments = (rec.comments or []) + [CommentRec(self.store.new_comment_id(), author, text, when, when, author)]


def cross_site_blockers(store: Store, other: Store, other_url: str, count: int = 4) -> list[tuple[str, str]]:
    """Name late or unowned open work of ``other`` (a second site at ``other_url``) in the
    ``blocked_by`` field of up to ``count`` running epics of troubled projects of ``store``.

    Chosen by key order, not at random, so the sites' generated data stay as they were; returns
    the (epic, blocker) pairs."""
    today = other.now.date()
    blockers = sorted((r for r in other.issues if r.type in ("Story", "Task") and r.status_category != "done"
                       and (r.assignee is None or (r.due is not None and r.due < today))), key=lambda r: r.id)
    epics = sorted((r for r in store.issues if r.type == "Epic" and r.status in EXECUTING
                    and _governance_flaws(r.project) > 1), key=lambda r: r.id)
    pairs = []
    for epic, blocker in zip(epics, blockers[::max(len(blockers) // max(count, 1), 1)]):
        if len(pairs) == count:
            break
        epic.blocked_by = f"{other_url.rstrip('/')}/browse/{blocker.key}"
        pairs.append((epic.key, blocker.key))
    return pairs


def _governance_flaws(project: str) -> float:
    """How often governance gaps occur in a project: never in the well-run ones, more in troubled ones."""
    discipline = DISCIPLINE.get(project, 1.0)
    return 0.0 if discipline < 1 else discipline


def generate(flavour: Flavour | str = Flavour.CLOUD, issues: int = 300, seed: int = 1, *,
             now: datetime = REFERENCE_NOW, clock=None, profile: str = "pmo-ready",
             mixed_health: bool = False) -> Store:
    """Build a site with exactly ``issues`` issues (at least 30 are advisable for every kind of record).

    On a bare ``profile`` the same portfolio lives in the site's own workflow and issue types
    (an epic in "Planning" is "To Do" on a default Cloud site, a Risk is a Task)."""
    if issues < 0:
        raise ValueError("issues must be >= 0")
    now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    store = Store(flavour, now=now, clock=clock, profile=profile)
    rng = random.Random(seed)
    b = _Builder(store, rng, now, DISCIPLINE if mixed_health else {})
    b.users(24 + issues // 400)
    for cid, name, desc in CATEGORIES:
        store.add_category(CategoryRec(cid, name, desc))

    n_projects = max(len(BASE_PROJECTS), min(150, issues // 700))
    projects = list(BASE_PROJECTS)
    for i in range(len(BASE_PROJECTS), n_projects):
        stem, cid = EXTRA_STEMS[i % len(EXTRA_STEMS)]
        projects.append((f"{stem}{i}", f"{dict((c[0], c[1]) for c in CATEGORIES)[cid]} Programme {i}", cid))
    for i, (key, name, cid) in enumerate(projects):
        store.add_project(ProjectRec(str(10000 + i), key, name, cid, rng.choice(b.people),
                                     f"{name}: portfolio project."))
    store.add_project(ProjectRec(str(10000 + len(projects)), "VAULT", "Vault (restricted)", "10001",
                                 rng.choice(b.people), "Restricted project.", browsable=False))
    keys = [p[0] for p in projects] + ["VAULT"]

    reserve = int(issues * GOVERNANCE_SHARE) if issues >= 60 else 0  # for change requests and RAID records

    def budget_left() -> int:
        return issues - reserve - len(store.issues)

    turn = 0
    while budget_left() > 0:
        project = keys[turn % len(keys)]
        turn += 1
        ideas = store.projects[project].category_id == "10003"
        phase = _pick(rng, IDEAS_PHASE_WEIGHTS if ideas else PHASE_WEIGHTS)
        epic, flaws = b.epic(project, phase)
        if rng.random() < 0.08:
            b.comment(epic)
        n_children = int(rng.uniform(1, 5) if phase == "Initiation" else rng.uniform(3, 13))
        for _ in range(n_children):
            if budget_left() <= 0:
                break
            child = b.child(epic, phase, flaws)
            if rng.random() < 0.06:
                b.comment(child)
            if child.type == "Story" and rng.random() < 0.05 and budget_left() > 0:
                b.subtask(child)
        if phase != "Initiation" and not flaws["no_risks"]:
            for _ in range(int(rng.uniform(1, 4))):
                if budget_left() <= 0:
                    break
                b.risk(epic)
    b.rng = random.Random(seed * 7_919 + 13)  # its own stream: the portfolio above is the same with or without it
    b.governance(issues - len(store.issues))
    statuses, types = store.profile.status_map, store.profile.type_map
    if statuses or types:
        for rec in store.issues:
            rec.status = statuses.get(rec.status, rec.status)
            rec.type = types.get(rec.type, rec.type)
    _strategy(store, random.Random(f"strategy-{seed}"))
    _overload(store, random.Random(f"overload-{seed}"), b.today)
    store.history_source = history_source(seed)
    store.version = 0
    return store


WSJF_SCALE = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0)
OVERLOADED = ("Alice Andersen", "Bruno Haddad")
"""People the generator gives more work due in the next weeks than a person does in a month."""


def _overload(store: Store, rng: random.Random, today: date) -> None:
    """Over-allocated people, at any size of site: eight open children each, due within three weeks."""
    people = [u.account_id for u in store.users.values() if u.display_name in OVERLOADED]
    open_children = [r for r in store.issues if r.type in ("Story", "Task", "Bug") and r.status_category != "done"
                     and r.parent is not None]
    picked = rng.sample(open_children, min(len(open_children), 8 * len(people)))
    for i, rec in enumerate(picked):
        rec.assignee = people[i % len(people)]
        rec.due = today + timedelta(days=rng.randint(5, 20))
        rec.points = rec.points or rng.choice((5.0, 8.0, 13.0))


def _strategy(store: Store, rng: random.Random) -> None:
    """Objectives and WSJF inputs on epics, from their own random stream (the rest of the site
    stays issue for issue what it was): most epics serve one objective, about one in six none;
    about one in ten lacks a WSJF input and ranks unscored."""
    objectives = SELECT_OPTIONS["objective"]
    for rec in store.issues:
        if rec.type != "Epic":
            continue
        rec.objective = None if rng.random() < 0.17 else rng.choice(objectives)
        if rng.random() < 0.9:
            rec.business_value, rec.time_criticality, rec.risk_reduction, rec.job_size = (
                rng.choice(WSJF_SCALE) for _ in range(4))
