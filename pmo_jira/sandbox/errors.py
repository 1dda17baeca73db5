"""The sandbox's refusals: an HTTP status with Jira's error body."""

from __future__ import annotations

from collections.abc import Iterable


class HttpError(Exception):
    """An answer other than success, with Jira's ``{"errorMessages": [...], "errors": {...}}`` body."""

    def __init__(self, status: int, messages: Iterable[str] = (), errors: dict | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.headers = status, headers or {}
        self.body = {"errorMessages": list(messages), "errors": dict(errors or {})}
