"""`pmo-jira sync` end to end: the real CLI writing to the sandbox, in both flavours.

Each test starts its own small site (writes change it). The findings written are the open ones
at medium severity or worse (writeback.severities of mappings/sandbox.yaml).
"""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest

from pmo_jira.findings import Severity
from pmo_jira.sandbox.faults import Faults
from pmo_jira.sandbox.generator import REFERENCE_NOW
from pmo_jira.sandbox.server import SandboxServer

from cli_fixtures import MAPPING, end_state, owned_comments, run_subprocess, site_env, writes

SEED, ISSUES = 7, 200
WRITTEN = {Severity.MEDIUM.value, Severity.HIGH.value, Severity.CRITICAL.value}


@pytest.fixture(params=["cloud", "dc"])
def flavour(request) -> str:
    return request.param


@pytest.fixture
def sb(flavour):
    with SandboxServer(flavour, issues=ISSUES, seed=SEED) as server:
        yield server


def audit(pmo, sb) -> dict:
    result = pmo.run(["audit", "--format", "json", "--fail-on", "never", "--no-history"], sb=sb)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def expected_codes(report: dict) -> dict[str, set[str]]:
    """Issue key -> the codes sync writes for it (open findings at a written severity)."""
    out: dict[str, set[str]] = {}
    for f in report["findings"]:
        if f["open"] and f["severity"] in WRITTEN and f["kind"] != "project":
            out.setdefault(f["item"], set()).add(f["code"])
    return out


def sync(pmo, sb, *args: str, code: int = 0):
    result = pmo.run(["sync", *args], sb=sb)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def labels(sb, key: str) -> set[str]:
    with sb.store.lock:
        return set(sb.store.issue(key).labels or ())


def comment_ids(sb, key: str) -> list[int]:
    with sb.store.lock:
        return [c.id for c in sb.store.issue(key).comments or () if c.author == sb.store.bot.account_id]


def person(sb) -> str:
    return next(u for u in sb.store.users.values() if u.account_id != sb.store.bot.account_id).account_id


def code_label(code: str) -> str:
    return "pmo-" + code.lower().removeprefix("pmo-")


# --- convergence ----------------------------------------------------------------------------------


def test_first_sync_writes_labels_and_one_comment_per_issue_then_nothing(pmo, sb):
    expected = expected_codes(audit(pmo, sb))
    assert len(expected) >= 5

    sync(pmo, sb, "--apply")
    for key, codes in expected.items():
        assert {"pmo-noncompliant", *map(code_label, codes)} <= labels(sb, key), key
        (text,) = owned_comments(sb, key)  # exactly one owned comment
        for code in codes:
            assert code in text
    with sb.store.lock:
        flagged = {r.key for r in sb.store.issues if "pmo-noncompliant" in (r.labels or ())}
        commented = {r.key for r in sb.store.issues if any(c.author == sb.store.bot.account_id
                                                           for c in r.comments or ())}
    assert flagged == commented == set(expected)

    sb.log.clear()
    second = sync(pmo, sb, "--apply")
    assert writes(sb) == []  # nothing planned, nothing written
    assert "0 issues to write (0 writes)" in second.stdout
    resync_requests = len(sb.log)
    sb.log.clear()
    audit(pmo, sb)
    assert resync_requests <= len(sb.log)  # an unchanged re-sync costs no more than an audit


def test_next_nights_rewrite_nothing_and_stale_epics_stay_flagged(pmo, sb):
    """The sync's own edits bump `updated`; that must not make a stale epic look fresh."""
    sync(pmo, sb, "--apply")
    first = end_state(sb)
    stale = {key for key, (labels_, _, _) in first.items() if "pmo-exe-001" in labels_}
    assert stale
    for days in (1, 2):
        sb.log.clear()
        later = (REFERENCE_NOW + timedelta(days=days)).isoformat()
        result = pmo.run(["sync", "--apply"], sb=sb, env={"PMO_JIRA_NOW": later})
        assert result.exit_code == 0, result.output
        assert writes(sb) == []
    assert end_state(sb) == first


def test_fixing_an_issue_clears_its_labels_and_edits_its_comment(pmo, sb):
    expected = expected_codes(audit(pmo, sb))
    key = min(k for k, codes in expected.items() if codes == {"PMO-GOV-001"})  # only the owner missing
    sync(pmo, sb, "--apply")
    (before_id,) = comment_ids(sb, key)
    (before,) = owned_comments(sb, key)
    assert "pmo-gov-001" in labels(sb, key)

    sb.store.edit(key, assignee=person(sb))  # a person sets the accountable owner
    result = sync(pmo, sb, "--apply")
    assert key in result.stdout and "fixed PMO-GOV-001" in result.stdout

    ours = {lb for lb in labels(sb, key) if lb.startswith("pmo-")}
    assert ours and all(lb.startswith("pmo-phase-") for lb in ours)  # only the phase label is left
    assert comment_ids(sb, key) == [before_id]  # edited in place, still one comment
    (after,) = owned_comments(sb, key)
    assert after != before and "all met" in after
    assert "Fixed since last check" in after and "PMO-GOV-001" in after.split("Fixed since last check")[1]

    sb.log.clear()
    sync(pmo, sb, "--apply")
    assert writes(sb) == []  # and it stays that way


def test_what_people_add_survives_every_run(pmo, sb):
    expected = expected_codes(audit(pmo, sb))
    key = min(k for k, codes in expected.items() if "PMO-GOV-001" in codes)
    sb.store.add_label(key, "pmo-review")  # looks like ours, but a person wrote it
    sb.store.add_label(key, "team-alpha")
    mine = sb.store.add_comment_as(person(sb), key, "Owner is being hired, see HR-12")

    sync(pmo, sb, "--apply")
    sb.store.edit(key, assignee=person(sb))
    sync(pmo, sb, "--apply")
    sync(pmo, sb, "--apply")

    assert {"pmo-review", "team-alpha"} <= labels(sb, key)
    with sb.store.lock:
        theirs = [c for c in sb.store.issue(key).comments if c.id == mine.id]
    assert theirs and theirs[0].body == "Owner is being hired, see HR-12"


def test_a_label_added_between_plan_and_apply_survives(pmo, sb, monkeypatch):
    import pmo_jira.run.command as sync_command

    plan_sites = sync_command.plan_sites
    touched: list[str] = []

    def plan_then_a_person_edits(*args, **kwargs):
        plans = plan_sites(*args, **kwargs)
        for plan in plans.values():
            for p in plan.issues:
                if p.add_labels:
                    sb.store.add_label(p.key, "added-meanwhile")
                    touched.append(p.key)
        return plans

    monkeypatch.setattr(sync_command, "plan_sites", plan_then_a_person_edits)
    sync(pmo, sb, "--apply")
    assert touched
    for key in touched:
        assert "added-meanwhile" in labels(sb, key)  # labels are sent as add/remove, never "set"


def test_a_narrowed_sync_writes_only_there_and_agrees_with_a_full_one(pmo, sb):
    expected = expected_codes(audit(pmo, sb))
    chosen = sorted(expected)[:3]
    sync(pmo, sb, "--apply", "--jql", f"key in ({', '.join(chosen)})")
    assert set(end_state(sb)) == set(chosen)
    narrowed = end_state(sb)

    sb.log.clear()
    sync(pmo, sb, "--apply")
    assert not [r for r in writes(sb) if any(f"/issue/{k}/" in r.path + "/" for k in chosen)]
    assert {k: end_state(sb)[k] for k in chosen} == narrowed
    sb.log.clear()
    sync(pmo, sb, "--apply", "--project", chosen[0].split("-")[0])
    assert writes(sb) == []


# --- review before writing ------------------------------------------------------------------------


def test_dry_run_prints_the_plan_and_writes_nothing(pmo, sb, tmp_path):
    result = sync(pmo, sb)
    assert "issues to write" in result.stdout and "sync --apply" in result.output
    assert writes(sb) == []

    as_json = sync(pmo, sb, "--plan-json", "-")
    plan = json.loads(as_json.stdout)
    assert plan["format"] == "pmo-jira/writeback-plan" and plan["version"] == 1
    assert plan["totals"]["writes"] > 0 and plan["issues"]

    target = tmp_path / "plan.json"
    sync(pmo, sb, "--plan-json", str(target))
    assert json.loads(target.read_text())["totals"] == plan["totals"]
    assert writes(sb) == []


def test_blast_radius_cap_stops_before_any_write(pmo, sb):
    result = sync(pmo, sb, "--apply", "--max-writes", "5", code=2)
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("Error: ")]
    planned = json.loads(sync(pmo, sb, "--plan-json", "-").stdout)["totals"]["writes"]
    assert f"--max-writes {planned}" in line and "cap of 5" in line
    assert writes(sb) == []


# --- Jira refusing to stay quiet -----------------------------------------------------------------


def _mapping_with(tmp_path: Path, setting: str) -> Path:
    text = MAPPING.read_text()
    assert "on_notify_refused: notify" in text
    path = tmp_path / f"mapping-{setting}.yaml"
    path.write_text(text.replace("on_notify_refused: notify", f"on_notify_refused: {setting}"))
    return path


def test_refused_notify_fails_with_one_message_or_notifies_as_configured(pmo, flavour, tmp_path):
    with SandboxServer(flavour, issues=ISSUES, seed=SEED, bot_is_admin=False) as sb:
        refused = pmo.run(["sync", "--apply", "--mapping", str(_mapping_with(tmp_path, "fail"))], sb=sb)
        assert refused.exit_code == 2
        errors = [ln for ln in refused.stderr.splitlines() if ln.startswith("Error: ")]
        assert len(errors) == 1 and "notif" in errors[0] and "on_notify_refused" in errors[0]
        assert "Traceback" not in refused.output

        allowed = pmo.run(["sync", "--apply", "--mapping", str(_mapping_with(tmp_path, "notify"))], sb=sb)
        assert allowed.exit_code == 0, allowed.output
        assert "writing with notifications instead" in allowed.stderr
        again = pmo.run(["sync", "--apply", "--plan-json", "-"], sb=sb)
        assert json.loads(again.stdout)["totals"]["writes"] == 0
        with sb.store.lock:
            keys = [r.key for r in sb.store.issues]
        assert all(len(owned_comments(sb, k)) <= 1 for k in keys)


# --- failures during apply ------------------------------------------------------------------------


def _fresh_end_state(pmo, flavour: str) -> dict:
    with SandboxServer(flavour, issues=ISSUES, seed=SEED) as clean:
        sync(pmo, clean, "--apply")
        return end_state(clean)


def test_a_killed_sync_converges_without_duplicate_comments(pmo, flavour, tmp_path):
    # recording the state (the last write per issue: with the labels in one edit on Cloud, on its
    # own on Data Center) is slow: the kill lands after comments are posted and before the run has
    # noted their ids, the window a crash-safe sync must survive
    slow_state = Faults(rate_slow=1.0, slow_seconds=0.3,
                        only_paths=r"/issue/[A-Z]+-\d+$|/properties/pmo-jira\.state$")
    with SandboxServer(flavour, issues=ISSUES, seed=SEED, faults=slow_state) as sb:
        env = {**pmo.base_env(), **site_env(sb)}
        proc = run_subprocess(["sync", "--apply", "--concurrency", "2"], env, tmp_path)
        try:
            deadline = time.monotonic() + 30
            while sb.log.count(method="POST", path=r"/comment$", status=201) < 3:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "no comment was posted in 30 s"
                time.sleep(0.01)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=10)
            proc.stdout.close()
            proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        interrupted = end_state(sb)
        # killed between posting a comment and recording it: the next run must adopt, not re-post
        assert any(comments and state is None for _, comments, state in interrupted.values())

        sb.faults = Faults()
        sync(pmo, sb, "--apply")
        final = end_state(sb)
    assert final == _fresh_end_state(pmo, flavour)
    assert final != interrupted  # the kill really left work undone
    assert all(len(comments) == 1 for _, comments, _ in final.values() if comments)


def test_lost_answers_to_writes_converge_without_duplicate_comments(pmo, no_sleep, flavour):
    # half the writes land but their answer is lost (comment posts among them): the run cannot
    # know whether they happened, so it must look before writing again (one issue at a time, so
    # the seeded faults hit the same requests on every run)
    lost = Faults(rate_drop_after_apply=0.5, only_paths=r"/issue/", only_methods=frozenset({"PUT", "POST"}), seed=3)
    with SandboxServer(flavour, issues=ISSUES, seed=SEED, faults=lost) as sb:
        first = pmo.run(["sync", "--apply", "--concurrency", "1"], sb=sb)
        assert "Traceback" not in first.output
        assert sb.log.count(method="POST", path=r"/comment$", status=0) > 0
        assert sb.log.count(method="PUT", status=0) > 0
        assert all(len(comments) <= 1 for _, comments, _ in end_state(sb).values())
        sb.faults = Faults()
        sync(pmo, sb, "--apply")
        final = end_state(sb)
        again = sync(pmo, sb)  # a dry run: nothing left to do
    assert final == _fresh_end_state(pmo, flavour)
    assert all(len(comments) == 1 for _, comments, _ in final.values() if comments)
    assert "0 issues to write (0 writes)" in again.output


def test_rate_limits_and_outages_end_in_the_same_state(pmo, no_sleep, flavour):
    with SandboxServer(flavour, issues=ISSUES, seed=SEED) as sb:
        sb.faults = Faults(rate_429=0.2, rate_503=0.05, retry_after=1, seed=11)
        sync(pmo, sb, "--apply")
        assert sb.log.count(status=429) > 10 and sb.log.count(status=503) > 0
        # each 429 was followed by a wait of at least its Retry-After (in simulated time)
        assert sum(w >= 1 for w in no_sleep) >= sb.log.count(status=429)
        sb.faults = Faults()
        faulty = end_state(sb)
    assert faulty == _fresh_end_state(pmo, flavour)


def _delete_issue(sb, key: str) -> None:
    """What a person deleting the issue in Jira does to the site."""
    with sb.store.lock:
        rec = sb.store.by_key.pop(key)
        sb.store.by_id.pop(rec.id)
        sb.store.issues.remove(rec)
        sb.store.version += 1


def test_an_issue_deleted_after_planning_is_reported_and_the_rest_applied(pmo, sb, monkeypatch):
    import pmo_jira.run.command as sync_command

    plan_sites = sync_command.plan_sites
    deleted: list[str] = []
    planned: list[str] = []

    def plan_then_delete(*args, **kwargs):
        plans = plan_sites(*args, **kwargs)
        keys = [p.key for plan in plans.values() for p in plan.issues]
        planned.extend(keys)
        deleted.append(keys[len(keys) // 2])
        _delete_issue(sb, deleted[0])
        return plans

    monkeypatch.setattr(sync_command, "plan_sites", plan_then_delete)
    result = sync(pmo, sb, "--apply", code=1)
    (failure,) = [ln for ln in result.stderr.splitlines() if deleted[0] in ln and "ERROR" not in ln]
    assert "not found" in failure and "deleted" in failure
    with sb.store.lock:
        applied = [k for k in planned if k != deleted[0]
                   and "pmo-jira.state" in (sb.store.issue(k).properties or {})]
    assert len(applied) == len(planned) - 1
