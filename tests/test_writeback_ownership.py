"""Ownership pmo-jira can prove: a forged state property never makes it touch people's work.

Anyone who can edit an issue can rewrite its ``pmo-jira.state`` property. These tests forge it
(another person's comment id, a person's labels, a huge or malformed value) against an admin bot
that Jira would let edit and delete anyone's comment, in both flavours, and check that only
comments the bot wrote (per ``/myself``) carrying the marker, and labels from pmo-jira's own
vocabulary that it recorded writing, are ever changed.
"""

from __future__ import annotations

import logging

import pytest

from pmo_jira.jira.payloads import parse_comment
from pmo_jira.model import Flavour
from pmo_jira.state import parse_state
from pmo_jira.writeback import STATE_PROPERTY, apply_plan, plan_writeback
from pmo_jira.writeback.ownership import check_read
from pmo_jira.writeback.render import MARKER

from writeback_fixtures import NOW, FakeClient, FakeJira, finding, mapping, result, writes


@pytest.fixture(params=[Flavour.CLOUD, Flavour.DC], ids=["cloud", "dc"])
def jira(request):
    j = FakeJira(request.param)
    j.bot_edits_all = True  # the worst case: Jira would allow every edit and delete
    for n in range(1, 4):
        j.add(f"ABC-{n}")
    return j


def sync(jira, res, m=None):
    """What `pmo-jira sync --apply` does: the comments of touched issues come with the search
    (``Issue.comments``), then plan and apply."""
    m = m or mapping()
    client = FakeClient(jira)
    snapshot = jira.snapshot()
    touched = [k for k, i in snapshot.items()
               if STATE_PROPERTY in i.properties or any(lb.startswith("pmo-") for lb in i.labels)]
    read = {key: tuple(parse_comment(c, jira.flavour) for c in jira.issues[key].comments) for _, key in touched}
    stated = {key: getattr(parse_state(snapshot["jira", key].properties.get(STATE_PROPERTY)), "comment_id", None)
              for key in read}
    comments = {("jira", k): c for k, c in check_read(client, read, stated).items()}
    plan = plan_writeback(res, snapshot, m, now=NOW, comments=comments)
    return plan, apply_plan(plan, {"jira": client}, notify=False)


def text(jira, raw):
    return parse_comment(raw, jira.flavour).body_text


def forge(jira, key, **value):
    jira.issues[key].properties[STATE_PROPERTY] = {"v": 1, "fingerprint": "0" * 16, "comment_id": None,
                                                   "labels": [], **value}


def test_forged_comment_id_and_labels_change_nothing_of_anyone_else(jira, caplog):
    jira.person_comments("ABC-1", "Budget approved by the board, see minutes")
    theirs = jira.issues["ABC-1"].comments[0]["id"]
    jira.issues["ABC-1"].labels += ["pmo-budget-approved", "customer-x"]
    forge(jira, "ABC-1", comment_id=theirs, labels=["pmo-budget-approved", "customer-x"],
          findings={"f1": "BUDGET-APPROVED", "f2": "PMO-BUDGET-APPROVED"})
    with caplog.at_level(logging.WARNING, logger="pmo_jira"):
        _, report = sync(jira, result([finding("ABC-1")]))
    assert report.all_applied
    assert text(jira, jira.issues["ABC-1"].comments[0]) == "Budget approved by the board, see minutes"
    assert {"pmo-budget-approved", "customer-x"} <= set(jira.issues["ABC-1"].labels)
    assert any("ABC-1" in r.getMessage() and theirs in r.getMessage() for r in caplog.records)
    (ours,) = jira.owned_comments("ABC-1")
    assert MARKER in text(jira, ours)
    # findings gone: our labels go, the person's stay, their comment is still theirs
    sync(jira, result([]))
    assert sorted(jira.issues["ABC-1"].labels) == ["customer-x", "pmo-budget-approved"]
    assert text(jira, jira.issues["ABC-1"].comments[0]) == "Budget approved by the board, see minutes"


def test_forged_labels_alone_never_remove_a_persons_label(jira):
    jira.issues["ABC-2"].labels += ["pmo-budget-approved", "pmo-review"]
    forge(jira, "ABC-2", fingerprint="", labels=["pmo-budget-approved", "pmo-review"],
          findings={"a": "PMO-REVIEW-001"})
    plan, _ = sync(jira, result([]))
    assert all(not p.remove_labels for p in plan.issues)
    assert sorted(jira.issues["ABC-2"].labels) == ["pmo-budget-approved", "pmo-review"]


def test_own_vocabulary_label_not_recorded_in_a_trusted_state_is_left(jira):
    sync(jira, result([finding("ABC-1")]))
    jira.issues["ABC-1"].labels.append("pmo-exe-001")  # a person added one of our words by hand
    sync(jira, result([]))
    assert jira.issues["ABC-1"].labels == ["pmo-exe-001"]


def test_state_too_large_or_malformed_is_treated_as_absent_with_a_warning(jira, caplog):
    jira.issues["ABC-1"].labels.append("pmo-keep-me")
    forge(jira, "ABC-1", labels=["pmo-keep-me"], titles={"PMO-GOV-001": "x" * 40_000})
    jira.issues["ABC-2"].properties[STATE_PROPERTY] = {"v": 1, "fingerprint": "not hex"}
    with caplog.at_level(logging.WARNING, logger="pmo_jira"):
        _, report = sync(jira, result([finding("ABC-1")]))
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "jira:ABC-1" in warned and "jira:ABC-2" in warned and "treated as absent" in warned
    assert report.all_applied and "pmo-keep-me" in jira.issues["ABC-1"].labels
    assert len(jira.issues["ABC-1"].properties[STATE_PROPERTY]["titles"]["PMO-GOV-001"]) < 200


def test_person_quoting_the_marker_is_not_owned(jira):
    jira.person_comments("ABC-1", f"copied from the bot: {MARKER}")
    sync(jira, result([finding("ABC-1")]))
    assert text(jira, jira.issues["ABC-1"].comments[0]) == f"copied from the bot: {MARKER}"
    assert len(jira.owned_comments("ABC-1")) == 1 and len(jira.issues["ABC-1"].comments) == 2


def test_duplicate_owned_comments_converge_to_one_and_others_survive(jira):
    sync(jira, result([finding("ABC-1")]))
    (first,) = jira.owned_comments("ABC-1")
    jira.issues["ABC-1"].comments.append(dict(first, id="20001"))  # a second runner posted too
    jira.issues["ABC-1"].comments.append(dict(first, id="20002"))
    jira.person_comments("ABC-1", f"{MARKER} (quoted)")
    plan, report = sync(jira, result([finding("ABC-1")]))
    (p,) = plan.issues
    assert p.comment is None and p.delete_comments == ("20001", "20002")
    assert "delete 2 duplicate comments" in plan.describe()
    assert report.comments_deleted == 2
    assert [c["id"] for c in jira.owned_comments("ABC-1")] == [first["id"]]
    assert len(jira.issues["ABC-1"].comments) == 2  # the person's quote stays
    assert sync(jira, result([finding("ABC-1")]))[0].empty


def test_deleted_owned_comment_is_posted_again_while_findings_stay(jira):
    sync(jira, result([finding("ABC-1")]))
    jira.issues["ABC-1"].comments.clear()
    jira.log.clear()
    plan, report = sync(jira, result([finding("ABC-1")]))
    assert [p.comment.value for p in plan.issues] == ["create"]
    assert report.comments_created == 1 and len(jira.owned_comments("ABC-1")) == 1
    assert sync(jira, result([finding("ABC-1")]))[0].empty


def test_stale_comment_after_a_corrupted_state_is_brought_up_to_date(jira):
    sync(jira, result([finding("ABC-1")]))
    jira.issues["ABC-1"].properties[STATE_PROPERTY] = "garbage"
    _, report = sync(jira, result([]))
    (ours,) = jira.owned_comments("ABC-1")
    assert "All PMO standards met" in text(jira, ours) and "1 open finding" not in text(jira, ours)
    assert jira.issues["ABC-1"].labels == []
    assert sync(jira, result([]))[0].empty


def test_unchanged_portfolio_still_plans_no_write(jira):
    sync(jira, result([finding("ABC-1"), finding("ABC-2", "PMO-RSK-001")]))
    jira.log.clear()
    plan, _ = sync(jira, result([finding("ABC-1"), finding("ABC-2", "PMO-RSK-001")]))
    assert plan.empty and writes(jira.log) == []
