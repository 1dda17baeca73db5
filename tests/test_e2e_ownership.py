"""Forged state and duplicate comments against the sandbox, through the real CLI, both flavours.

The sandbox bot may edit and delete every comment (as an admin bot can on a real site), so only
pmo-jira's own proof of ownership stands between a forged ``pmo-jira.state`` and people's work.
"""

from __future__ import annotations

import json

import pytest

from pmo_jira.sandbox.server import SandboxServer
from pmo_jira.state import STATE_PROPERTY

from cli_fixtures import owned_comments, run_subprocess, site_env

SEED, ISSUES = 7, 200


@pytest.fixture(params=["cloud", "dc"])
def sb(request):
    with SandboxServer(request.param, issues=ISSUES, seed=SEED) as server:
        yield server


def sync(pmo, sb, *args: str):
    result = pmo.run(["sync", "--apply", *args], sb=sb)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def person(sb) -> str:
    return next(u for u in sb.store.users.values() if u.account_id != sb.store.bot.account_id).account_id


def flagged(sb) -> list[str]:
    with sb.store.lock:
        return [r.key for r in sb.store.issues if (r.properties or {}).get(STATE_PROPERTY, {}).get("comment_id")]


def comments_of(sb, key: str) -> list[tuple[str, str]]:
    from cli_fixtures import comment_text
    with sb.store.lock:
        return [(c.author, comment_text(c.body)) for c in sb.store.issue(key).comments or ()]


def test_forged_state_changes_nothing_of_anyone_else(pmo, sb):
    sync(pmo, sb)
    # a flagged issue whose findings a person's comment cannot fix (a stale one would turn fresh)
    with sb.store.lock:
        victim = next(k for k in flagged(sb) if "pmo-exe-001" not in (sb.store.issue(k).labels or ()))
    words = "Budget approved by the steering board, minutes attached"
    theirs = sb.store.add_comment_as(person(sb), victim, words)
    sb.store.add_label(victim, "pmo-budget-approved")
    with sb.store.lock:
        state = dict(sb.store.issue(victim).properties[STATE_PROPERTY])
    state.update(comment_id=str(theirs.id), labels=[*state["labels"], "pmo-budget-approved"],
                 findings={**state["findings"], "forged": "BUDGET-APPROVED"}, fingerprint="0" * 16)
    sb.store.set_property(victim, STATE_PROPERTY, state)

    result = sync(pmo, sb)
    assert victim in result.stderr and str(theirs.id) in result.stderr  # the warning names them
    assert (person(sb), words) in comments_of(sb, victim)
    with sb.store.lock:
        labels = set(sb.store.issue(victim).labels)
    assert "pmo-budget-approved" in labels
    assert len(owned_comments(sb, victim)) == 1
    sb.log.clear()
    sync(pmo, sb)
    assert not [r for r in sb.log if r.method in ("PUT", "POST", "DELETE") and "/search" not in r.path
                and not r.path.endswith("/changelog/bulkfetch")]  # reads, not writes


def test_duplicate_and_deleted_owned_comments_converge(pmo, sb):
    sync(pmo, sb)
    dup, gone = flagged(sb)[:2]
    with sb.store.lock:
        body = sb.store.issue(dup).comments[-1].body
        gone_id = sb.store.issue(gone).properties[STATE_PROPERTY]["comment_id"]
    sb.store.add_comment(dup, body)  # a second runner's copy
    sb.store.add_comment(dup, body)
    sb.store.delete_comment(gone, gone_id)  # a person deleted the owned comment
    result = pmo.run(["sync"], sb=sb)
    assert f"{dup}" in result.stdout and "delete 2 duplicate comments" in result.stdout
    sync(pmo, sb)
    assert len(owned_comments(sb, dup)) == 1 and len(owned_comments(sb, gone)) == 1


def test_two_syncs_with_different_lock_paths_end_with_one_comment_each(pmo, sb, tmp_path):
    procs = []
    for name in ("a", "b"):
        env = {**pmo.base_env(), **site_env(sb), "PMO_JIRA_LOCK": str(tmp_path / f"{name}.lock"),
               "PMO_JIRA_HISTORY": str(tmp_path / f"{name}.sqlite")}
        procs.append(run_subprocess(["sync", "--apply", "--concurrency", "2"], env, tmp_path))
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, 1), err
    sync(pmo, sb)
    keys = flagged(sb)
    assert keys and all(len(owned_comments(sb, k)) == 1 for k in keys)
    sb.log.clear()
    plan = json.loads(pmo.run(["sync", "--plan-json", "-"], sb=sb).stdout)
    assert plan["totals"]["writes"] == 0
