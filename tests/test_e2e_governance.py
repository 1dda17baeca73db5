"""Governance end to end, both flavours: the real CLI against the sandbox with mappings/sandbox.yaml.

- a target end moved after the planning gate without an approved change request is a finding that
  says by how much, when and by whom; linking an approved change request clears it;
- an epic in execution without the gate approval is a finding naming who may approve; recording
  the approval clears it on the next run;
- the epics' history is read in bulk, never one request per issue.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from pmo_jira.jira import source
from pmo_jira.sandbox.store import IssueRec
from pmo_jira.state import STATE_PROPERTY

SEED, ISSUES = 7, 300
GOVERNANCE_CODES = ("PMO-BSL-001", "PMO-CHG-001", "PMO-CHG-002", "PMO-GAT-001", "PMO-CLS-002", "PMO-CLS-003",
                    "PMO-GOV-003", "PMO-RSK-003", "PMO-RSK-004", "PMO-ISS-001", "PMO-DEP-001", "PMO-PLN-004")
"""Every standard of the governance set: each must fire in the demo's generated portfolio."""


def audit(pmo, sb) -> list[dict]:
    result = pmo.run(["audit", "--format", "json", "--fail-on", "never"], sb=sb)
    assert result.exit_code == 0, result.stderr
    return [f for f in json.loads(result.stdout)["findings"] if f["open"]]


def add_change_request(sb, epic_key: str, status: str) -> str:
    """A person raises a change request in the epic's project and links it to the epic."""
    store = sb.store
    with store.lock:
        epic = store.by_key[epic_key]
        number = 1 + max(int(r.key.rsplit("-", 1)[1]) for r in store.issues if r.project == epic.project)
        now = store._stamp()
        rec = IssueRec(id=max(store.by_id) + 1, key=f"{epic.project}-{number}", project=epic.project,
                       type="Change Request", summary="Move the target end after the vendor slip", status=status,
                       created=now, updated=now, status_changed=now, reporter=epic.assignee, assignee=epic.sponsor)
        store.add_issue(rec)
        store.link(rec.key, "Relates", epic_key)
        store.version += 1
    return rec.key


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_slippage_without_an_approved_cr_is_reported_with_how_much_when_and_who(pmo, sandbox, flavour):
    sb = sandbox(flavour, issues=ISSUES, seed=SEED)
    slips = [f for f in audit(pmo, sb) if f["code"] == "PMO-CHG-001" and f["subject"] == "slip"]
    assert slips, "the generated portfolio has an epic that slipped after its planning gate"
    finding = slips[0]
    m = re.search(r"target end moved from (\S+) to (\S+) \(\+(\d+) days.*since the baseline of (\S+); "
                  r"last moved on (\S+) by (.+?) \(", finding["message"])
    assert m, finding["message"]
    with sb.store.lock:
        epic = sb.store.by_key[finding["item"]]
        moves = [h for h in sb.store.history(epic) for i in h.items if i.field_id in {
            f.id for f in sb.store.fields if f.attr == "target_end"}]
        last = moves[-1]
        assert m.group(2) == epic.target_end.isoformat()
        assert m.group(6) == sb.store.users[last.author].display_name  # by whom
        assert m.group(5) == last.created.date().isoformat()  # when
    assert int(m.group(3)) == (epic.target_end - date.fromisoformat(m.group(1))).days  # by how much

    pending = add_change_request(sb, finding["item"], "In Review")
    again = [f for f in audit(pmo, sb) if f["code"] == "PMO-CHG-001" and f["item"] == finding["item"]]
    assert again and f"{pending} is In Review" in again[0]["message"]

    sb.store.edit(pending, status="Approved")
    assert not [f for f in audit(pmo, sb) if f["code"] == "PMO-CHG-001" and f["item"] == finding["item"]]


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_a_sync_records_the_baseline_and_later_runs_use_it_when_the_history_is_gone(pmo, sandbox, flavour):
    sb = sandbox(flavour, issues=ISSUES, seed=SEED)
    slip = next(f for f in audit(pmo, sb) if f["code"] == "PMO-CHG-001" and f["subject"] == "slip")
    assert pmo.run(["sync", "--apply"], sb=sb).exit_code in (0, 1)
    with sb.store.lock:
        epic = sb.store.by_key[slip["item"]]
        recorded = epic.properties[STATE_PROPERTY]["baseline"]
        epic.history = []  # the changelog no longer reaches the gate (pruned, or past Cloud's limit)
        sb.store.version += 1
    assert recorded["end"] in slip["message"] and recorded["at"][:10] in slip["message"]
    again = [f for f in audit(pmo, sb) if f["code"] == "PMO-CHG-001" and f["item"] == slip["item"]]
    assert again and again[0]["message"].startswith(slip["message"].split("; last moved")[0])
    assert [f for f in audit(pmo, sb) if f["code"] == "PMO-BSL-001" and f["item"] == slip["item"]] == []


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_execution_without_gate_approval_names_approvers_and_recording_it_clears_it(pmo, sandbox, flavour):
    sb = sandbox(flavour, issues=ISSUES, seed=SEED)
    gaps = [f for f in audit(pmo, sb) if f["code"] == "PMO-GAT-001"]
    with sb.store.lock:  # an epic whose sponsor is an active user, so named among the approvers
        finding, epic = next((f, sb.store.by_key[f["item"]]) for f in gaps
                             if sb.store.by_key[f["item"]].sponsor
                             and sb.store.users[sb.store.by_key[f["item"]].sponsor].active)
        sponsor = sb.store.users[epic.sponsor]
    assert finding["message"] == (f"no execution gate approval recorded "
                                  f"(may approve: PMO Board, {sponsor.display_name} (sponsor))")
    assert '"Execution approved by"' in finding["fix"]

    sb.store.edit(epic.key, as_user=sponsor.account_id, gate_approval=sponsor.account_id)
    assert not [f for f in audit(pmo, sb) if f["code"] == "PMO-GAT-001" and f["item"] == epic.key]


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_history_is_read_in_bulk_never_per_issue(pmo, sandbox, flavour):
    sb = sandbox(flavour, issues=ISSUES, seed=SEED)
    sb.log.clear()
    audit(pmo, sb)
    assert not sb.log.matching(path=r"/issue/[^/]+/changelog$")
    bulk = sb.log.matching(path=r"/changelog/bulkfetch$")
    expanded = [r for r in sb.log.matching(path=r"/search(/jql)?$") if "expand=changelog" in r.query]
    assert (len(bulk), len(expanded)) == ((1, 0) if flavour == "cloud" else (0, 1))


def test_the_demo_shows_the_governance_standards_firing(pmo, tmp_path):
    result = pmo.run(["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "demo" / "audit.json").read_text())
    failing = [f for f in report["findings"] if f["open"] and f["outcome"] == "fail"]
    fired = {f["code"] for f in failing}
    assert set(GOVERNANCE_CODES) <= fired, set(GOVERNANCE_CODES) - fired
    sponsors = {f["message"] for f in failing if f["code"] == "PMO-GOV-003"}
    assert any(m.endswith("is deactivated") for m in sponsors), sponsors  # a sponsor who left
    assert any(m.startswith("sponsor and owner are the same person") for m in sponsors)
    assert any("cannot be scored: no likelihood" in f["message"] for f in failing if f["code"] == "PMO-RSK-003")
    across = [f for f in failing if f["code"] == "PMO-DEP-001" and f["subject"].startswith("dc-demo:")]
    assert across and all(f["site"] == "cloud-demo" and "on dc-demo)" in f["message"] for f in across)


def test_the_run_history_keeps_the_baselines_taken_in_a_run(pmo, sandbox, tmp_path):
    from pmo_jira.history import HistoryStore

    sb = sandbox("cloud", issues=ISSUES, seed=SEED)
    db = tmp_path / "history.sqlite"
    result = pmo.run(["audit", "--format", "json", "--fail-on", "never"], sb=sb, env={"PMO_JIRA_HISTORY": str(db)})
    assert result.exit_code == 0, result.stderr
    with HistoryStore(db) as store:
        (run,) = store.runs(None)
        kept = store.run_facts(run.id, "baselines")
    slip = next(f for f in json.loads(result.stdout)["findings"] if f["code"] == "PMO-CHG-001" and f["open"])
    record = kept[slip["site"]][slip["item"]]
    assert record["end"] in slip["message"] and set(record) == {"at", "by", "start", "end", "children", "points"}


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_history_of_an_unchanged_epic_is_not_read_again_and_an_edited_one_is(pmo, sandbox, flavour, monkeypatch):
    sb = sandbox(flavour, issues=ISSUES, seed=SEED)
    read: list[list[str]] = []
    original = source._read_changelogs

    def spy(client, key_of, *args):
        read.append(sorted(key_of.values()))
        return original(client, key_of, *args)

    monkeypatch.setattr(source, "_read_changelogs", spy)
    report = pmo.run(["audit", "--format", "json", "--fail-on", "never"], sb=sb)
    items = json.loads(report.stdout)["items"]
    first = [f for f in json.loads(report.stdout)["findings"] if f["open"]]
    slip = next(f for f in first if f["code"] == "PMO-CHG-001" and f["subject"] == "slip")
    # only the epics a history-reading standard judges (execution, closing) have their history read
    judged = {i["key"] for i in items if i["kind"] == "epic" and i["phase"] in ("execution", "closing")}
    assert slip["item"] in read[0] and set(read[0]) == judged
    assert len(judged) < sum(1 for i in items if i["kind"] == "epic")

    sb.log.clear()
    read.clear()
    assert audit(pmo, sb) == first  # nothing changed: the same findings, no history request
    assert read == [] and not sb.log.matching(path=r"/changelog/bulkfetch$")
    assert not [r for r in sb.log.matching(path=r"/search$") if "changelog" in r.query]

    with sb.store.lock:
        epic = sb.store.by_key[slip["item"]]
        new_end = epic.target_end + timedelta(days=30)
        person = next(u for u in sb.store.users.values() if u.active and u is not sb.store.bot)
    sb.store.edit(epic.key, as_user=person.account_id, target_end=new_end)
    again = [f for f in audit(pmo, sb) if f["code"] == "PMO-CHG-001" and f["item"] == epic.key]
    assert read == [[epic.key]]  # the edited epic's history, and only its
    assert again and f"by {person.display_name} (" in again[0]["message"]
    assert f" -> {new_end.isoformat()})" in again[0]["message"]


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_after_a_sync_the_written_epics_histories_are_kept_and_an_edit_meanwhile_is_not_lost(
        pmo, sandbox, flavour, monkeypatch):
    sb = sandbox(flavour, issues=ISSUES, seed=SEED)
    read: list[list[str]] = []
    original = source._read_changelogs
    edited: list[str] = []

    def spy(client, key_of, *args):
        read.append(sorted(key_of.values()))
        if len(read) == 2:  # the read after the writes: a person moves a target end just before it
            with sb.store.lock:
                epic = next(sb.store.by_key[k] for k in read[-1] if sb.store.by_key[k].target_end)
            sb.store.edit(epic.key, target_end=epic.target_end + timedelta(days=9))
            edited.append(epic.key)
        return original(client, key_of, *args)

    monkeypatch.setattr(source, "_read_changelogs", spy)
    assert pmo.run(["sync", "--apply"], sb=sb).exit_code in (0, 1)
    assert len(read) == 2 and edited and set(read[1]) <= set(read[0])  # the epics written, read once more
    read.clear()
    first = audit(pmo, sb)
    assert read == [edited]  # pmo-jira's own writes cost no history read; the person's edit does
    read.clear()
    assert audit(pmo, sb) == first and read == []  # nothing changed since: no history read at all
