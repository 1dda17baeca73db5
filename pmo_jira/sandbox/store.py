"""The sandbox's in-memory Jira site: projects, users, fields and issues, with writes applied.

The store is flavour-aware only where real Jira differs (field ids, user identity, which fields
exist); JSON rendering lives in :mod:`pmo_jira.sandbox.shapes`, HTTP in
:mod:`pmo_jira.sandbox.server`. Every mutation happens under one lock and bumps ``version`` so
the server can cache search results per ``(jql, version)``.

Time: ``clock()`` is "now" on this site. It defaults to the generator's reference ``now`` plus
the real time elapsed since the store was built, so generated dates stay meaningful relative to
the server's clock, and each write stamps ``updated`` strictly later than the previous write.

Issue property writes also advance ``updated``. Whether real Jira does that is unverified; the
sandbox chooses the stricter behaviour so that a client relying on ``updated`` staying put after
its own property writes is caught here rather than in production.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

from pmo_jira.model import Flavour

MAX_PROPERTY_CHARS = 32768
WRITTEN_HISTORY_IDS = 50_000_000
"""Changelog ids of writes start here, above the generated ones (issue id x 100 + n)."""

# --- statuses and issue types -------------------------------------------------------------

STATUS_CATEGORIES: dict[str, tuple[int, str, str]] = {
    # key -> (id, name, colorName), as GET /statuscategory answers
    "undefined": (1, "No Category", "medium-gray"),
    "new": (2, "To Do", "blue-gray"),
    "done": (3, "Done", "green"),
    "indeterminate": (4, "In Progress", "yellow"),
}

STATUSES: dict[str, tuple[int, str]] = {
    # name -> (id, status category key)
    "To Do": (10000, "new"),
    "In Progress": (3, "indeterminate"),
    "In Review": (10001, "indeterminate"),
    "Blocked": (10002, "indeterminate"),
    "Done": (10003, "done"),
    "Idea": (10010, "new"),
    "Proposed": (10011, "new"),
    "Planning": (10012, "new"),
    "Approved": (10013, "new"),
    "Closed": (6, "done"),
    "Open": (1, "new"),
    "Mitigating": (10020, "indeterminate"),
    "Resolved": (5, "done"),
    "Reopened": (4, "new"),
    "Backlog": (10005, "new"),
    "Selected for Development": (10006, "new"),
}
"""Every status any profile's site may have (a site has the subset its profile names)."""

ISSUE_TYPES: dict[str, tuple[int, int, str]] = {
    # name -> (id, hierarchyLevel, description)
    "Epic": (10000, 1, "A big user story that needs to be broken down."),
    "Story": (10001, 0, "Functionality or a feature expressed as a user goal."),
    "Task": (10002, 0, "A small, distinct piece of work."),
    "Bug": (10003, 0, "A problem or error."),
    "Risk": (10004, 0, "Something that may happen and hurt the plan."),
    "Sub-task": (10005, -1, "A small piece of work that's part of a larger task."),
    "Improvement": (10006, 0, "An improvement or enhancement to an existing feature or task."),
    "New Feature": (10007, 0, "A new feature of the product, which has yet to be developed."),
    "Change Request": (10008, 0, "A request to change an approved baseline (dates, scope or budget)."),
    "Decision": (10009, 0, "A decision taken, with its rationale."),
    "Assumption": (10010, 0, "Something the plan takes as true without proof."),
}

RESOLUTIONS: dict[str, tuple[str, str]] = {
    # name -> (id, description)
    "Done": ("10000", "Work has been completed on this issue."),
    "Won't Do": ("10001", "This issue won't be actioned."),
    "Duplicate": ("10002", "The problem is a duplicate of an existing issue."),
    "Cannot Reproduce": ("10003", "All attempts at reproducing this issue failed."),
    "Fixed": ("1", "A fix for this issue is checked into the tree and tested."),
    "Won't Fix": ("2", "The problem described is an issue which will never be fixed."),
    "Incomplete": ("4", "The problem is not completely described."),
}

@dataclass(frozen=True)
class Profile:
    """What a site has: a bare Cloud or Data Center site as Atlassian ships it, or one a PMO prepared.

    ``status_map`` / ``type_map`` say what the generator's portfolio becomes on this site (its
    epic workflow and Risk type exist only where a PMO set them up).
    """

    name: str
    flavour: Flavour | None  # None: either
    issue_types: tuple[str, ...]
    statuses: tuple[str, ...]
    resolutions: tuple[str, ...]
    status_map: dict[str, str] = field(default_factory=dict)
    type_map: dict[str, str] = field(default_factory=dict)


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("pmo-ready", None, ("Epic", "Story", "Task", "Bug", "Risk", "Sub-task", "Change Request", "Decision",
                                "Assumption"),
            ("To Do", "In Progress", "In Review", "Blocked", "Done", "Idea", "Proposed", "Planning", "Approved",
             "Closed", "Open", "Mitigating"),
            ("Done", "Won't Do", "Duplicate", "Cannot Reproduce")),
    Profile("default-cloud", Flavour.CLOUD, ("Epic", "Story", "Task", "Bug", "Sub-task"),
            ("To Do", "In Progress", "In Review", "Done"), ("Done", "Won't Do", "Duplicate", "Cannot Reproduce"),
            {"Idea": "To Do", "Proposed": "To Do", "Planning": "To Do", "Approved": "To Do", "Open": "To Do",
             "Blocked": "In Progress", "Mitigating": "In Progress", "Closed": "Done"},
            {"Risk": "Task", "Change Request": "Task", "Decision": "Task", "Assumption": "Task"}),
    Profile("default-dc", Flavour.DC, ("Epic", "Story", "Task", "Bug", "Improvement", "New Feature", "Sub-task"),
            ("Open", "In Progress", "Reopened", "Resolved", "Closed", "To Do", "Done", "Backlog",
             "Selected for Development"),
            ("Fixed", "Won't Fix", "Duplicate", "Incomplete", "Cannot Reproduce", "Done", "Won't Do"),
            {"Idea": "Backlog", "Proposed": "Open", "Planning": "Selected for Development",
             "Approved": "Selected for Development", "Blocked": "In Progress", "In Review": "In Progress",
             "Mitigating": "In Progress"},
            {"Risk": "Task", "Change Request": "Task", "Decision": "Task", "Assumption": "Task"}),
)}
"""``sandbox serve --profile``: pmo-ready (the default, everything the PMO standards read) or a bare site."""


PRIORITIES: dict[str, int] = {"Highest": 1, "High": 2, "Medium": 3, "Low": 4, "Lowest": 5}

GROUPS: dict[str, str] = {
    # name -> group id (Cloud's ``identifier``)
    "jira-software-users": "5d1b1ab2-58c3-4b3c-9a7e-000000000001",
    "jira-administrators": "5d1b1ab2-58c3-4b3c-9a7e-000000000002",
    "pmo-office": "5d1b1ab2-58c3-4b3c-9a7e-000000000003",
    "executives": "5d1b1ab2-58c3-4b3c-9a7e-000000000004",
}
ROLES: dict[str, int] = {"Administrators": 10002, "Developers": 10001, "Users": 10000}
"""Project roles (the same in every project here); a role's id is Cloud's ``identifier``."""
BOT_GROUPS, BOT_ROLES = frozenset({"jira-software-users"}), frozenset({"Users", "Developers"})
ADMIN_GROUPS, ADMIN_ROLES = frozenset({"jira-administrators"}), frozenset({"Administrators"})
"""What the bot belongs to; an admin bot also belongs to the admin group and role."""

LINK_TYPES: dict[str, tuple[int, str, str]] = {
    # name -> (id, inward, outward)
    "Relates": (10003, "relates to", "relates to"),
    "Blocks": (10000, "is blocked by", "blocks"),
}

SELECT_OPTIONS: dict[str, tuple[str, ...]] = {
    "phase": ("Initiation", "Planning", "Execution", "Closing"),
    "impact": ("Low", "Medium", "High", "Critical"),
    "likelihood": ("Low", "Medium", "High", "Critical"),
    "objective": ("Grow digital revenue", "Cut the cost to serve", "Stay compliant", "Modernise the platform"),
}


def option_id(attr: str, value: str) -> str:
    """The id of a select option (stable: the option's place in its field's list)."""
    return str(10100 + SELECT_OPTIONS[attr].index(value) + 10 * list(SELECT_OPTIONS).index(attr))


# --- fields ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One entry of GET /field; ``attr`` names the IssueRec attribute (or derived value) behind it."""

    id: str
    name: str
    attr: str
    schema: dict
    clause_names: tuple[str, ...]
    custom: bool = False
    navigable: bool = True
    orderable: bool = True
    searchable: bool = True


_CFT = "com.atlassian.jira.plugin.system.customfieldtypes:"


def _system(fid: str, name: str, stype: str, *, attr: str | None = None, clauses: Iterable[str] = (),
            items: str | None = None, navigable: bool = True, orderable: bool = True,
            searchable: bool = True) -> FieldDef:
    schema: dict[str, Any] = {"type": stype, "system": fid}
    if items:
        schema["items"] = items
    return FieldDef(fid, name, attr or fid, schema, tuple(clauses) or (fid,), navigable=navigable,
                    orderable=orderable, searchable=searchable)


def _custom(num: int, name: str, attr: str, stype: str, custom: str, *, items: str | None = None) -> FieldDef:
    schema: dict[str, Any] = {"type": stype, "custom": custom, "customId": num}
    if items:
        schema["items"] = items
    return FieldDef(f"customfield_{num}", name, attr, schema, (f"cf[{num}]", name), custom=True)


_GH = "com.pyxis.greenhopper.jira:"
_JPO = "com.atlassian.jpo:"

# Custom fields: (Cloud id, Data Center id, name, attr, schema type, custom type, items, profiles).
# Ids differ between flavours like on real sites. "pmo" fields exist only on a prepared site; the
# rest also on a default site (Jira Software's own fields; Data Center bundles Advanced Roadmaps).
_CUSTOM: tuple[tuple[int | None, int | None, str, str, str, str, str | None, frozenset[str]], ...] = (
    (10001, 10205, "Team", "team", "team", "com.atlassian.jira.plugin.system.customfieldtypes:atlassian-team",
     None, frozenset({"pmo-ready", "default-cloud", "default-dc"})),
    (10011, 10101, "Epic Name", "epic_name", "string", _GH + "gh-epic-label", None,
     frozenset({"pmo-ready", "default-dc"})),
    (None, 10100, "Epic Link", "epic_link", "any", _GH + "gh-epic-link", None,  # retired on Cloud: `parent`
     frozenset({"pmo-ready", "default-dc"})),
    (10015, None, "Start date", "start", "date", _CFT + "datepicker", None,
     frozenset({"pmo-ready", "default-cloud"})),
    (None, 10200, "Start date", "start", "date", _CFT + "datepicker", None, frozenset({"pmo-ready"})),
    (10016, None, "Story point estimate", "points", "number", _GH + "jsw-story-points", None,
     frozenset({"pmo-ready", "default-cloud"})),
    (None, 10202, "Story Points", "points", "number", _CFT + "float", None,
     frozenset({"pmo-ready", "default-dc"})),
    (None, 10204, "Parent Link", "parent_link", "any", _JPO + "jpo-custom-field-parent", None,
     frozenset({"pmo-ready", "default-dc"})),
    (10019, 10105, "Rank", "rank", "any", _GH + "gh-lexo-rank", None,
     frozenset({"pmo-ready", "default-cloud", "default-dc"})),
    (10020, 10104, "Sprint", "sprint", "array", _GH + "gh-sprint", "json",
     frozenset({"pmo-ready", "default-cloud", "default-dc"})),
    (10021, 10106, "Flagged", "flagged", "array", _CFT + "multicheckboxes", "option",
     frozenset({"pmo-ready", "default-cloud", "default-dc"})),
    (10022, 10203, "Target start", "target_start", "date", _JPO + "jpo-custom-field-baseline-start", None,
     frozenset({"pmo-ready", "default-dc"})),
    (10023, 10201, "Target end", "target_end", "date", _JPO + "jpo-custom-field-baseline-end", None,
     frozenset({"pmo-ready", "default-dc"})),
    (10100, 10300, "PMO Phase", "phase", "option", _CFT + "select", None, frozenset({"pmo-ready"})),
    (10101, 10301, "Risk Impact", "impact", "option", _CFT + "select", None, frozenset({"pmo-ready"})),
    (10102, 10302, "Risk Likelihood", "likelihood", "option", _CFT + "select", None, frozenset({"pmo-ready"})),
    (10103, 10303, "Mitigation", "mitigation", "string", _CFT + "textarea", None, frozenset({"pmo-ready"})),
    # An epic's strategic objective and its WSJF inputs (number fields, as sites usually add them):
    (10110, 10310, "Strategic Objective", "objective", "option", _CFT + "select", None, frozenset({"pmo-ready"})),
    (10111, 10311, "Business Value", "business_value", "number", _CFT + "float", None, frozenset({"pmo-ready"})),
    (10112, 10312, "Time Criticality", "time_criticality", "number", _CFT + "float", None, frozenset({"pmo-ready"})),
    (10113, 10313, "Risk Reduction", "risk_reduction", "number", _CFT + "float", None, frozenset({"pmo-ready"})),
    (10114, 10314, "Job Size", "job_size", "number", _CFT + "float", None, frozenset({"pmo-ready"})),
    (10104, 10304, "Sponsor", "sponsor", "user", _CFT + "userpicker", None, frozenset({"pmo-ready"})),
    (10105, 10305, "Execution approved by", "gate_approval", "user", _CFT + "userpicker", None,
     frozenset({"pmo-ready"})),
    (10106, 10306, "Sponsor acceptance", "sponsor_acceptance", "user", _CFT + "userpicker", None,
     frozenset({"pmo-ready"})),
    # Work on another Jira site blocking an epic: browse URLs (a remote link is read one issue at a time)
    (10107, 10307, "Blocked by (other sites)", "blocked_by", "string", _CFT + "url", None, frozenset({"pmo-ready"})),
    # Fields that share a name with one above, as apps and old migrations leave them on real sites:
    (10009, 10099, "Start date", "app_start", "date", "com.example.timesheets:start-date", None,
     frozenset({"pmo-ready"})),
    (10026, None, "Story Points", "app_points", "number", _CFT + "float", None, frozenset({"pmo-ready"})),
)


def field_catalogue(flavour: Flavour, profile: str = "pmo-ready") -> tuple[FieldDef, ...]:
    """The fields this site exposes: the system fields and the profile's custom fields."""
    system = [
        _system("summary", "Summary", "string"),
        _system("issuetype", "Issue Type", "issuetype", clauses=("issuetype", "type")),
        _system("status", "Status", "status"),
        _system("statusCategory", "Status Category", "statusCategory", attr="status_category",
                clauses=("statusCategory",), navigable=False, orderable=False),
        _system("project", "Project", "project"),
        _system("assignee", "Assignee", "user"),
        _system("reporter", "Reporter", "user"),
        _system("priority", "Priority", "priority"),
        _system("labels", "Labels", "array", items="string"),
        _system("description", "Description", "string"),
        _system("created", "Created", "datetime", clauses=("created", "createdDate")),
        _system("updated", "Updated", "datetime", clauses=("updated", "updatedDate")),
        _system("duedate", "Due date", "date", attr="due", clauses=("due", "duedate")),
        _system("resolution", "Resolution", "resolution"),
        _system("resolutiondate", "Resolved", "datetime", attr="resolved",
                clauses=("resolutiondate", "resolved")),
        _system("statuscategorychangedate", "Status Category Changed", "datetime",
                attr="status_changed", clauses=("statusCategoryChangedDate",)),
        _system("issuelinks", "Linked Issues", "array", attr="links", items="issuelinks",
                clauses=("issueLink",), orderable=False),
        _system("parent", "Parent", "issuelink", clauses=("parent",), orderable=False),
        _system("comment", "Comment", "comments-page", attr="comments", navigable=False,
                orderable=False),
        _system("subtasks", "Sub-tasks", "array", items="issuelinks", clauses=("subtasks",),
                orderable=False),
        _system("issuekey", "Key", "string", attr="key", clauses=("id", "issue", "issuekey", "key"),
                navigable=False),
        _system("fixVersions", "Fix versions", "array", attr="fix_versions", items="version",
                clauses=("fixVersion",)),
        _system("components", "Components", "array", items="component", clauses=("component",)),
    ]
    cloud = flavour is Flavour.CLOUD
    custom = []
    for cloud_id, dc_id, name, attr, stype, ctype, items, profiles in _CUSTOM:
        num = cloud_id if cloud else dc_id
        if num is not None and profile in profiles:
            custom.append(_custom(num, name, attr, stype, ctype, items=items))
    return tuple(system + sorted(custom, key=lambda f: int(f.id.rsplit("_", 1)[1])))


# --- records --------------------------------------------------------------------------------


@dataclass(slots=True)
class UserRec:
    account_id: str  # Cloud accountId; also the identity the store uses internally
    name: str  # Data Center username
    key: str  # Data Center user key (JIRAUSER10100)
    display_name: str
    email: str
    time_zone: str = "Europe/London"
    active: bool = True


@dataclass(slots=True)
class CategoryRec:
    id: str
    name: str
    description: str


@dataclass(slots=True)
class ProjectRec:
    id: str
    key: str
    name: str
    category_id: str | None
    lead: str  # account id
    description: str = ""
    browsable: bool = True
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CommentRec:
    id: int
    author: str  # account id
    body: Any  # wiki string, or an ADF dict when posted through v3
    created: datetime
    updated: datetime
    update_author: str = ""
    visibility: tuple[str, str] | None = None  # ("group" | "role", name): only members see it


@dataclass(slots=True)
class LinkRec:
    id: int
    type: str  # LINK_TYPES name
    outward: bool  # True: this issue --outward--> other
    other: str  # other issue key


@dataclass(frozen=True, slots=True)
class ChangeItem:
    """One changed field of a history entry: raw ids (``from``/``to``) and what people read."""

    field_id: str
    from_id: str | None
    from_string: str | None
    to_id: str | None
    to_string: str | None


@dataclass(frozen=True, slots=True)
class HistoryRec:
    """One changelog entry: who changed what, when (several fields in one edit share an entry)."""

    id: int
    author: str | None  # account id; None for an automation without a user
    created: datetime
    items: tuple[ChangeItem, ...]


@dataclass(slots=True)
class IssueRec:
    """One issue, compact enough for 100,000+ of them; lists/dicts are None until needed."""

    id: int
    key: str
    project: str
    type: str
    summary: str
    status: str
    created: datetime
    updated: datetime
    status_changed: datetime
    assignee: str | None = None
    reporter: str | None = None
    priority: str = "Medium"
    labels: list[str] | None = None
    description: str = ""  # wiki markup (DC's native form), converted to ADF for v3
    parent: str | None = None  # Cloud parent: the epic of a standard issue, the story of a sub-task
    due: date | None = None
    resolved: datetime | None = None
    start: date | None = None
    target_end: date | None = None
    points: float | None = None
    phase: str | None = None
    impact: str | None = None
    likelihood: str | None = None
    mitigation: str | None = None
    objective: str | None = None
    business_value: float | None = None
    time_criticality: float | None = None
    risk_reduction: float | None = None
    job_size: float | None = None
    sponsor: str | None = None  # account ids, like assignee
    gate_approval: str | None = None
    sponsor_acceptance: str | None = None
    blocked_by: str | None = None  # browse URLs of blocking issues on other sites
    links: list[LinkRec] | None = None
    comments: list[CommentRec] | None = None
    properties: dict[str, Any] | None = None
    history: list[HistoryRec] | None = None  # None: not built yet (see Store.history)

    @property
    def status_category(self) -> str:
        return STATUSES[self.status][1]

    @property
    def hierarchy_level(self) -> int:
        return ISSUE_TYPES[self.type][1]

    @property
    def epic_name(self) -> str | None:
        return self.summary if self.type == "Epic" else None

    @property
    def epic_link(self) -> str | None:
        return self.parent if self.hierarchy_level == 0 else None

    @property
    def resolution(self) -> str | None:
        return "Done" if self.resolved is not None else None


ISSUE_ATTRS = ("summary", "status", "assignee", "reporter", "priority", "labels", "description", "due",
               "start", "target_end", "points", "phase", "impact", "likelihood", "mitigation", "sponsor",
               "gate_approval", "sponsor_acceptance")
"""The issue attributes a changelog records (each has a field in every flavour's catalogue)."""
USER_ATTRS = ("sponsor", "gate_approval", "sponsor_acceptance")
"""User-picker custom fields (governance: who sponsors, who approved the gate, who accepted)."""


class StoreError(Exception):
    """A write Jira would refuse; carries the HTTP status and Jira's error body parts."""

    def __init__(self, status: int, messages: Iterable[str] = (), errors: dict[str, str] | None = None):
        self.status, self.messages, self.errors = status, list(messages), dict(errors or {})
        super().__init__("; ".join(self.messages + [f"{k}: {v}" for k, v in self.errors.items()]))


def _utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


# --- the store ------------------------------------------------------------------------------


class Store:
    """A Jira site in memory. Public attributes are read by the server under ``lock``.

    Change issues through the methods (REST semantics) or the helpers at the end (what a person
    does in the UI): they stamp ``updated`` and bump ``version``. Assigning a record's attributes
    directly is not seen by cached searches until the next write.
    """

    def __init__(self, flavour: Flavour | str, *, now: datetime, clock: Callable[[], datetime] | None = None,
                 profile: str = "pmo-ready"):
        self.flavour = Flavour(flavour)
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
        self.profile = PROFILES[profile]
        if self.profile.flavour not in (None, self.flavour):
            raise ValueError(f"profile {profile!r} is a {self.profile.flavour.value} site, not {self.flavour.value}")
        self.now = _utc(now)
        started = time.monotonic()
        self.clock: Callable[[], datetime] = clock or (lambda: self.now + timedelta(seconds=time.monotonic() - started))
        self.lock = threading.RLock()
        self.version = 0
        self.fields = field_catalogue(self.flavour, profile)
        self.statuses = self.profile.statuses
        self.issue_types = self.profile.issue_types
        self.field_by_id = {f.id: f for f in self.fields}
        self.categories: dict[str, CategoryRec] = {}
        self.projects: dict[str, ProjectRec] = {}
        self.users: dict[str, UserRec] = {}
        self.issues: list[IssueRec] = []
        self.by_key: dict[str, IssueRec] = {}
        self.by_id: dict[int, IssueRec] = {}
        self.subtasks_of: dict[str, list[str]] = {}
        self._next_comment_id = 10000
        self._next_link_id = 10000
        self._next_history_id = WRITTEN_HISTORY_IDS
        self.field_by_attr = {f.attr: f for f in reversed(self.fields)}
        self.logged_attrs = tuple(a for a in ISSUE_ATTRS if a in self.field_by_attr)
        self.history_source: Callable[[Store, IssueRec], list[HistoryRec]] | None = None
        self._last_stamp = self.now
        self.time_zone: tzinfo = timezone.utc
        """The zone timestamps are rendered in and JQL dates read in (the searching user's, in Jira)."""
        self.locale = "en_US"
        self.bot_groups, self.bot_roles = BOT_GROUPS, BOT_ROLES
        self.bot = UserRec("557058:pmo-bot-0000-4000-8000-000000000001", "pmo-bot", "JIRAUSER10000",
                           "PMO Bot", "pmo-bot@example.com", "Etc/UTC")
        self.add_user(self.bot)

    # -- building (used by the generator and tests) --

    def add_user(self, user: UserRec) -> UserRec:
        self.users[user.account_id] = user
        return user

    def add_category(self, cat: CategoryRec) -> CategoryRec:
        self.categories[cat.id] = cat
        return cat

    def add_project(self, project: ProjectRec) -> ProjectRec:
        self.projects[project.key] = project
        return project

    def add_issue(self, issue: IssueRec) -> IssueRec:
        self.issues.append(issue)
        self.by_key[issue.key] = issue
        self.by_id[issue.id] = issue
        if issue.parent and issue.type == "Sub-task":
            self.subtasks_of.setdefault(issue.parent, []).append(issue.key)
        return issue

    def link(self, key: str, link_type: str, other: str) -> None:
        """Link ``key --outward--> other`` (e.g. a Risk 'relates to' its Epic), visible on both ends."""
        a, b = self.by_key[key], self.by_key[other]
        lid = self._next_link_id
        self._next_link_id += 1
        a.links = (a.links or []) + [LinkRec(lid, link_type, True, other)]
        b.links = (b.links or []) + [LinkRec(lid, link_type, False, key)]

    def new_comment_id(self) -> int:
        self._next_comment_id += 1
        return self._next_comment_id

    # -- lookups --

    def user(self, ref: str | None) -> UserRec | None:
        """A user by account id, DC name or DC key."""
        if ref is None:
            return None
        found = self.users.get(ref)
        if found:
            return found
        for u in self.users.values():
            if ref in (u.name, u.key):
                return u
        return None

    def issue(self, key_or_id: str) -> IssueRec | None:
        if key_or_id.isdigit():
            return self.by_id.get(int(key_or_id))
        return self.by_key.get(key_or_id.upper())

    def field(self, ref: str) -> FieldDef | None:
        """A field by id or by (case-insensitive) name."""
        if ref in self.field_by_id:
            return self.field_by_id[ref]
        low = ref.lower()
        return next((f for f in self.fields if f.name.lower() == low), None)

    def history(self, rec: IssueRec) -> list[HistoryRec]:
        """The issue's changelog, oldest first; a generated site builds it on first use."""
        if rec.history is None:
            rec.history = self.history_source(self, rec) if self.history_source else []
        return rec.history

    def change_item(self, attr: str, old: Any, new: Any) -> ChangeItem:
        """How Jira's changelog records one field going from ``old`` to ``new`` (store values)."""
        fdef = self.field_by_attr[attr]
        return ChangeItem(fdef.id, *self._change_value(attr, fdef, old), *self._change_value(attr, fdef, new))

    def _change_value(self, attr: str, fdef: FieldDef, value: Any) -> tuple[str | None, str | None]:
        """(raw id, display string) of a value in a changelog item."""
        if value is None or value == []:
            return None, None
        stype = fdef.schema["type"]
        if attr == "status":
            return str(STATUSES[value][0]), value
        if attr == "resolution":
            return RESOLUTIONS[value][0], value
        if stype == "user":
            user = self.users[value]
            return (user.account_id if self.flavour is Flavour.CLOUD else user.key), user.display_name
        if attr == "priority":
            return str(PRIORITIES[value]), value
        if attr == "labels":
            return None, " ".join(value)
        if stype == "date":
            iso = value.isoformat()
            return iso, (f"{iso} 00:00:00.0" if attr == "due" else iso)
        if stype == "number":
            return None, f"{value:g}"
        if stype == "option":
            return option_id(attr, value), value
        return None, str(value)

    def record_change(self, rec: IssueRec, author: str | None, stamp: datetime,
                      changes: Iterable[tuple[str, Any, Any]]) -> HistoryRec | None:
        """Append one changelog entry for the ``(attr, old, new)`` changes that really changed."""
        items = tuple(self.change_item(attr, old, new) for attr, old, new in changes
                      if old != new and not (old in (None, []) and new in (None, [])))
        if not items:
            return None
        history = self.history(rec)
        self._next_history_id += 1
        entry = HistoryRec(self._next_history_id, author, stamp, items)
        history.append(entry)
        return entry

    def comment(self, rec: IssueRec, comment_id: str | int) -> CommentRec:
        comment = next((c for c in rec.comments or [] if str(c.id) == str(comment_id)), None)
        if comment is None:
            raise StoreError(404, [f"Can not find a comment for the id: {comment_id}."])
        return comment

    def can_see(self, comment: CommentRec) -> bool:
        """Whether the bot sees a comment: unrestricted, or restricted to a group or role it is in."""
        if comment.visibility is None:
            return True
        kind, name = comment.visibility
        return name in (self.bot_groups if kind == "group" else self.bot_roles)

    def workflow(self, rec: IssueRec) -> tuple[str, ...]:
        """The statuses of the issue type's workflow on this site, its first the initial one."""
        from pmo_jira.sandbox.history import ENDINGS, WORKFLOWS

        mapped = self.profile.status_map
        path = WORKFLOWS.get(rec.type, ("To Do", "In Progress"))
        names = [mapped.get(x, x) for x in (*path, *sorted(ENDINGS))]
        return tuple(x for x in dict.fromkeys(names) if x in self.statuses)

    def category_of(self, project_key: str) -> CategoryRec | None:
        cid = self.projects[project_key].category_id
        return self.categories.get(cid) if cid else None

    # -- writes (REST semantics) --

    def _stamp(self) -> datetime:
        stamp = max(self.clock(), self._last_stamp + timedelta(milliseconds=1))
        self._last_stamp = stamp
        self.version += 1
        return stamp

    def _must(self, key: str) -> IssueRec:
        rec = self.issue(key)
        if rec is None:
            raise StoreError(404, ["Issue does not exist or you do not have permission to see it."])
        return rec

    def edit_issue(self, key: str, fields: dict | None = None, update: dict | None = None,
                   author: str | None = None) -> IssueRec:
        """PUT /issue/{key}: ``fields`` set values, ``update`` applies operations (labels add/remove/set).

        The change is logged in the issue's changelog under ``author`` (default: the bot)."""
        fields, update = fields or {}, update or {}
        if not isinstance(fields, dict) or not isinstance(update, dict):
            raise StoreError(400, ["Can not deserialize instance of java.util.LinkedHashMap out of START_ARRAY token"])
        if not fields and not update:
            raise StoreError(400, ["one of 'fields' or 'update' required"])
        both = sorted(set(fields) & set(update))
        if both:
            raise StoreError(400, [], {f: f"Field '{f}' cannot appear in both 'fields' and 'update'" for f in both})
        with self.lock:
            rec = self._must(key)
            changes: dict[str, Any] = dict(fields)
            labels = list(rec.labels or [])
            for fid, ops in update.items():
                if not isinstance(ops, list) or not all(isinstance(o, dict) for o in ops):
                    raise StoreError(400, [], {fid: "Can not instantiate value of type [simple type, class "
                                               "com.atlassian.jira.rest.v2.issue.FieldOperation] from JSON String; "
                                               "no single-String constructor/factory method"})
                if fid != "labels":
                    for op in ops:
                        if set(op) != {"set"}:
                            raise StoreError(400, [], {fid: f"Field '{fid}' does not support operation '{next(iter(op))}'"})
                        changes[fid] = op["set"]
                    continue
                for op in ops:
                    for verb, value in op.items():
                        if verb == "add":
                            _check_label(value)
                            if value not in labels:
                                labels.append(value)
                        elif verb == "remove":
                            if value in labels:
                                labels.remove(value)
                        elif verb == "set":
                            labels = _label_list(value)
                        else:
                            raise StoreError(400, [], {"labels": f"Field 'labels' does not support operation '{verb}'"})
            if "labels" in update:
                changes["labels"] = labels
            self.history(rec)  # a generated history is built from the state before this edit
            before = {attr: getattr(rec, attr) for attr in self.logged_attrs}
            self._apply(rec, changes)
            rec.updated = self._stamp()
            self.record_change(rec, author or self.bot.account_id, rec.updated,
                               ((attr, old, getattr(rec, attr)) for attr, old in before.items()))
            return rec

    def _apply(self, rec: IssueRec, changes: dict[str, Any]) -> None:
        """Validate every change first, then assign, so a bad edit writes nothing."""
        staged: list[tuple[str, Any]] = []
        for fid, value in changes.items():
            fdef = self.field(fid)
            if fdef is None or fdef.attr in ("key", "links", "comments", "created", "updated", "status_category",
                                             "issuetype", "project", "status", "statusCategory", "subtasks",
                                             "epic_name", "epic_link", "resolution", "resolved", "status_changed"):
                raise StoreError(400, [], {fid: f"Field '{fid}' cannot be set. It is not on the appropriate screen, or unknown."})
            staged.append((fdef.attr, self._coerce(fdef, value)))
        for attr, value in staged:
            setattr(rec, attr, value)

    def _coerce(self, fdef: FieldDef, value: Any) -> Any:
        stype = fdef.schema["type"]
        bad = StoreError(400, [], {fdef.id: f"Value for field '{fdef.name}' is not valid."})
        if value is None:
            return None
        if fdef.attr == "labels":
            return _label_list(value)
        if stype == "user":
            ref = value.get("accountId") or value.get("name") or value.get("key") if isinstance(value, dict) else value
            user = self.user(ref)
            if user is None:
                raise StoreError(400, [], {fdef.id: f"User '{ref}' does not exist."})
            return user.account_id
        if stype == "date":
            try:
                return value if isinstance(value, date) else date.fromisoformat(value)
            except (TypeError, ValueError):
                raise StoreError(400, [], {fdef.id: "Error parsing date string: " + str(value)}) from None
        if stype == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise bad
            return float(value)
        if stype == "option":
            chosen = value.get("value") if isinstance(value, dict) else value
            if chosen not in SELECT_OPTIONS[fdef.attr]:
                raise StoreError(400, [], {fdef.id: f"Option value '{chosen}' is not valid"})
            return chosen
        if stype == "priority":
            chosen = value.get("name") if isinstance(value, dict) else value
            if chosen not in PRIORITIES:
                raise bad
            return chosen
        if fdef.attr in ("description", "mitigation"):
            from pmo_jira.sandbox.shapes import adf_to_wiki  # rich text arrives as ADF on v3

            return adf_to_wiki(value) if isinstance(value, dict) else str(value)
        if isinstance(value, str):
            return value
        raise bad

    def add_comment(self, key: str, body: Any, author: str | None = None,
                    visibility: tuple[str, str] | None = None) -> CommentRec:
        _check_body(body)
        with self.lock:
            rec = self._must(key)
            stamp = self._stamp()
            who = author or self.bot.account_id
            comment = CommentRec(self.new_comment_id(), who, body, stamp, stamp, who, visibility)
            rec.comments = (rec.comments or []) + [comment]
            rec.updated = stamp
            return comment

    def edit_comment(self, key: str, comment_id: str | int, body: Any, author: str | None = None,
                     visibility: tuple[str, str] | None | bool = False) -> CommentRec:
        """Replace a comment's body; ``visibility`` False keeps it, None lifts the restriction."""
        _check_body(body)
        with self.lock:
            rec = self._must(key)
            comment = self.comment(rec, comment_id)
            stamp = self._stamp()
            comment.body, comment.updated = body, stamp
            if visibility is not False:
                comment.visibility = visibility  # type: ignore[assignment]
            comment.update_author = author or self.bot.account_id
            rec.updated = stamp
            return comment

    def delete_comment(self, key: str, comment_id: str | int) -> None:
        with self.lock:
            rec = self._must(key)
            comment = self.comment(rec, comment_id)
            rec.comments = [c for c in rec.comments or [] if c is not comment]
            rec.updated = self._stamp()

    def get_property(self, key: str, prop: str) -> Any:
        with self.lock:
            rec = self._must(key)
            props = rec.properties or {}
            if prop not in props:
                raise StoreError(404, [f"The property with key '{prop}' does not exist."])
            return copy.deepcopy(props[prop])

    def property_keys(self, key: str) -> list[str]:
        with self.lock:
            return sorted((self._must(key).properties or {}).keys())

    def set_property(self, key: str, prop: str, value: Any) -> bool:
        """Store a property; True when it was created (Jira answers 201), False when replaced (200)."""
        _check_property(prop, value)
        with self.lock:
            rec = self._must(key)
            created = prop not in (rec.properties or {})
            rec.properties = dict(rec.properties or {})
            rec.properties[prop] = copy.deepcopy(value)
            rec.updated = self._stamp()
            return created

    def delete_property(self, key: str, prop: str) -> None:
        with self.lock:
            rec = self._must(key)
            if prop not in (rec.properties or {}):
                raise StoreError(404, [f"The property with key '{prop}' does not exist."])
            rec.properties = {k: v for k, v in rec.properties.items() if k != prop} or None
            rec.updated = self._stamp()

    def set_project_property(self, project_key: str, prop: str, value: Any) -> bool:
        _check_property(prop, value)
        with self.lock:
            project = self.projects.get(project_key.upper())
            if project is None:
                raise StoreError(404, [f"No project could be found with key '{project_key}'."])
            created = prop not in project.properties
            project.properties[prop] = copy.deepcopy(value)
            self.version += 1
            return created

    # -- helpers for tests and demos: what a person would do in the Jira UI --

    def edit(self, key: str, *, as_user: str | None = None, **changes: Any) -> IssueRec:
        """Change attributes directly (``store.edit("DIG-3", assignee=None, status="Done")``), as a person would.

        The changelog names ``as_user`` (account id, DC name or key; default: the issue's reporter)."""
        with self.lock:
            rec = self._must(key)
            author = self.user(as_user) if as_user else self.user(rec.reporter)
            if as_user and author is None:
                raise KeyError(f"no such user {as_user!r}")
            self.history(rec)
            before = {attr: getattr(rec, attr) for attr in (*self.logged_attrs, "resolved")}
            for attr, value in changes.items():
                if not hasattr(rec, attr) or attr in ("id", "key"):
                    raise AttributeError(f"issue has no editable attribute {attr!r}")
                if attr == "status" and value not in self.statuses:
                    raise ValueError(f"unknown status {value!r}; known: {sorted(self.statuses)}")
                if attr in ("assignee", "reporter", *USER_ATTRS) and value is not None:
                    user = self.user(value)
                    if user is None:
                        raise KeyError(f"no such user {value!r}")
                    value = user.account_id
                setattr(rec, attr, value)
            stamp = self._stamp()
            if "status" in changes:
                rec.status_changed = stamp
                rec.resolved = stamp if STATUSES[rec.status][1] == "done" else None
            rec.updated = stamp
            logged = [(attr, old, getattr(rec, attr)) for attr, old in before.items() if attr != "resolved"]
            if (before["resolved"] is None) != (rec.resolved is None):
                logged.append(("resolution", None if before["resolved"] is None else "Done",
                               None if rec.resolved is None else "Done"))
            self.record_change(rec, author.account_id if author else None, stamp, logged)
            return rec

    def add_comment_as(self, user: str, key: str, text: str, visibility: tuple[str, str] | None = None) -> CommentRec:
        """A person (account id, DC name or key) comments in wiki text, for everyone or only for a
        ``("group", name)`` or ``("role", name)``."""
        author = self.user(user)
        if author is None:
            raise KeyError(f"no such user {user!r}")
        return self.add_comment(key, text, author.account_id, visibility)

    def create_issue(self, project: str, itype: str, summary: str, author: str, values: dict[str, Any]) -> IssueRec:
        """POST /issue after validation: a new issue in the type's initial status, reported by ``author``."""
        with self.lock:
            stamp = self._stamp()
            number = 1 + max((int(r.key.rsplit("-", 1)[1]) for r in self.issues if r.project == project), default=0)
            rec = IssueRec(id=1 + max(self.by_id, default=10000), key=f"{project}-{number}", project=project,
                           type=itype, summary=summary, status="", created=stamp, updated=stamp,
                           status_changed=stamp, reporter=author, history=[])
            rec.status = self.workflow(rec)[0]
            for attr, value in values.items():
                setattr(rec, attr, value)
            return self.add_issue(rec)

    def transition(self, key: str, status: str, author: str | None = None) -> IssueRec:
        """Move an issue to ``status`` (POST /issue/{key}/transitions), logged in its changelog; a
        done status resolves it, leaving one unresolves it."""
        with self.lock:
            rec = self._must(key)
            self.history(rec)
            before_status, before_resolution = rec.status, rec.resolution
            stamp = self._stamp()
            rec.status, rec.status_changed, rec.updated = status, stamp, stamp
            done = STATUSES[status][1] == "done"
            rec.resolved = stamp if done else None
            self.record_change(rec, author or self.bot.account_id, stamp,
                               [("status", before_status, status), ("resolution", before_resolution, rec.resolution)])
            return rec

    def add_label(self, key: str, label: str) -> IssueRec:
        return self.edit_issue(key, update={"labels": [{"add": label}]})


def _check_label(label: Any) -> None:
    if not isinstance(label, str) or not label:
        raise StoreError(400, [], {"labels": "Label must be a non-empty string."})
    if " " in label:
        raise StoreError(400, [], {"labels": f"The label '{label}' contains spaces which is invalid."})
    if len(label) > 255:
        raise StoreError(400, [], {"labels": f"The label '{label}' exceeds the maximum length for a single label of 255 characters."})


def _label_list(value: Any) -> list[str]:
    """A whole new label list (``fields`` or a ``set`` operation): each label valid, duplicates dropped."""
    if not isinstance(value, list):
        raise StoreError(400, [], {"labels": "data was not an array"})
    for v in value:
        _check_label(v)
    return list(dict.fromkeys(value))


def _check_body(body: Any) -> None:
    text = body if isinstance(body, str) else repr(body)
    if not body:
        raise StoreError(400, [], {"comment": "Comment body can not be empty!"})
    if len(text) > 32767:
        raise StoreError(400, [], {"comment": "The entered text is too long. It exceeds the allowed limit of 32767 characters."})


def _check_property(prop: str, value: Any) -> None:
    if not prop or len(prop) > 255:
        raise StoreError(400, ["The property key cannot be longer than 255 characters."])
    if len(json.dumps(value)) > MAX_PROPERTY_CHARS:
        raise StoreError(400, ["The property value cannot be longer than 32768 characters."])
