"""Which comments pmo-jira may edit or delete: the ones it can prove it wrote.

A comment is owned when its author is the bot account itself, as Jira's ``/myself`` names it
(asked once per client, never taken from the state property, which anyone who can edit the issue
can rewrite), and its text carries the marker. A person's comment quoting the marker, or a state
property naming a person's comment id, therefore never makes pmo-jira touch that comment.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from pmo_jira.jira.payloads import parse_comment
from pmo_jira.model import Comment
from pmo_jira.writeback.render import is_marked

MAX_DELETES_PER_RUN = 5
"""Duplicate owned comments deleted per issue and run; more go on the next run (Cloud's per-issue
write limit is 20 in 2 s)."""

_BOTS: WeakKeyDictionary[Any, frozenset[str]] = WeakKeyDictionary()
_BOTS_LOCK = threading.Lock()


@dataclass(frozen=True)
class CommentCheck:
    """One issue's comments as far as ownership goes."""

    owned: tuple[str, ...]  # ids of comments by the bot carrying the marker, oldest first
    all_ids: frozenset[str]  # every comment id on the issue (to tell "deleted" from "not ours")
    proven: bool = True  # False: authorship not checked yet (the write-back checks before writing)


def bot_ids(client: Any) -> frozenset[str]:
    """The bot account's identities on ``client``'s site (Cloud accountId; DC key and name)."""
    with _BOTS_LOCK:
        ids = _BOTS.get(client)
    if ids is None:
        me = client.myself() or {}
        ids = frozenset(str(me[k]) for k in ("accountId", "key", "name") if me.get(k))
        with _BOTS_LOCK:
            _BOTS[client] = ids
    return ids


def classify(comments: Sequence[Comment], bot: frozenset[str]) -> CommentCheck:
    """Which of an issue's comments (oldest first) are provably the bot's."""
    owned = tuple(c.id for c in comments
                  if c.author is not None and c.author.account_id in bot and is_marked(c.body_text))
    return CommentCheck(owned=owned, all_ids=frozenset(c.id for c in comments))


def check_comments(client: Any, key: str) -> CommentCheck:
    """One read of the issue's comments: which are provably ours."""
    return classify([parse_comment(raw, client.flavour) for raw in client.comments(key)], bot_ids(client))


def check_read(client: Any, comments: Mapping[str, Sequence[Comment]],
               stated: Mapping[str, str | None]) -> dict[str, CommentCheck]:
    """Checks from comments a search already returned (``stated``: the comment id each issue's
    state names). An issue without a marked comment owns none; one whose only marked comment is
    the one its state names needs nothing now and is left unproven (the write-back proves it before
    editing); any other asks ``/myself``, once per site. An unchanged re-sync costs no request."""
    out: dict[str, CommentCheck] = {}
    for key, listed in comments.items():
        marked = [c.id for c in listed if is_marked(c.body_text)]
        if not marked:  # nothing can be ours: proven without asking who we are
            out[key] = CommentCheck(owned=(), all_ids=frozenset(c.id for c in listed))
        elif stated.get(key) and marked == [stated[key]]:
            out[key] = CommentCheck(owned=(marked[0],), all_ids=frozenset(c.id for c in listed),
                                    proven=False)
        else:
            out[key] = classify(listed, bot_ids(client))
    return out
