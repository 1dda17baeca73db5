"""Shared helpers for the Jira client tests: captured payloads, simulated time, client factory."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

from pmo_jira.jira.client import Credentials, JiraClient
from pmo_jira.model import Flavour

PAYLOADS = Path(__file__).parent / "payloads"
CLOUD_URL = "https://acme.atlassian.net"
DC_URL = "https://jira.acme.internal"
CLOUD_CREDS = Credentials(email="pmo-bot@acme.example", token="cloud-SECRET-token-123")
DC_CREDS = Credentials(token="dc-SECRET-pat-456")
SECRETS = ("cloud-SECRET-token-123", "dc-SECRET-pat-456")


def payload(flavour: str, name: str) -> Any:
    """A captured-shape Jira response from tests/payloads/<flavour>/<name>.json (a fresh copy)."""
    return json.loads((PAYLOADS / flavour / f"{name}.json").read_text())


class FakeTime:
    """Simulated monotonic time: ``sleep`` records the wait and advances ``clock``."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def make_client(flavour: Flavour | None, *, url: str | None = None, time: FakeTime | None = None,
                **kwargs: Any) -> JiraClient:
    """A client on a fake site; ``flavour=None`` leaves detection to serverInfo."""
    time = time or FakeTime()
    is_dc = flavour is Flavour.DC
    return JiraClient(url or (DC_URL if is_dc else CLOUD_URL), DC_CREDS if is_dc else CLOUD_CREDS,
                      flavour=flavour, sleep=time.sleep, clock=time.clock, rng=random.Random(7),
                      **kwargs)


def issues_like(template: dict, start: int, count: int, project: str = "PM") -> list[dict]:
    """``count`` copies of a captured issue with keys PROJECT-start.. and distinct ids."""
    out = []
    for n in range(start, start + count):
        issue = copy.deepcopy(template)
        issue["key"], issue["id"] = f"{project}-{n}", str(10000 + n)
        issue["self"] = issue["self"].rsplit("/", 1)[0] + f"/{10000 + n}"
        out.append(issue)
    return out
