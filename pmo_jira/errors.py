"""The error types pmo-jira raises on purpose.

Every one of them renders as one line that names what failed, where, and (when we know it) how to
fix it. The CLI turns them into exit code 2; nothing here ever carries a credential.
"""

from __future__ import annotations

from pmo_jira.redaction import redact


class PmoError(Exception):
    """Base of all expected failures: bad input, unreachable Jira, refused writes."""

    run_summary: object = None
    """The summary of the run this error stopped (a ``logs.RunSummary``), set by the run; whoever
    reports the error logs its line after the error's, so "stopped early (the error is above)" is
    true on the screen."""

    def one_line(self) -> str:
        return " ".join(redact(str(self)).split())


class ConfigError(PmoError):
    """A mapping or config file is wrong: names file:line, the key path and a fix."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 key: str | None = None, hint: str | None = None):
        self.message, self.file, self.line, self.key, self.hint = message, file, line, key, hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        key = f"{self.key}: " if self.key else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{key}{self.message}{hint}"


class NotInHistory(PmoError):
    """The run history does not hold what a report rendered from it needs (no history, a site
    never recorded, a month without a run, figures an older pmo-jira did not keep)."""


class JiraApiError(PmoError):
    """Jira answered with an error, or could not be reached.

    ``status`` is None when no HTTP answer arrived (DNS, refused connection, timeout).
    """

    def __init__(self, message: str, *, method: str, url: str, status: int | None = None,
                 error_messages: tuple[str, ...] = (), retry_after: float | None = None):
        # masked at birth: Jira or a proxy may echo the request's headers back in its answer
        self.method, self.url, self.status = method, redact(url), status
        self.error_messages = tuple(redact(str(m)) for m in error_messages)
        self.retry_after = retry_after
        self.message = redact(message)
        super().__init__(self._render())

    def _render(self) -> str:
        status = f" -> {self.status}" if self.status is not None else ""
        detail = "; ".join(m for m in self.error_messages if m)
        detail = f": {detail}" if detail else ""
        return f"{self.method} {self.url}{status}: {self.message}{detail}"


class NotifyRefused(JiraApiError):
    """Jira refused a write only because it asked not to notify watchers (``notifyUsers=false``).

    Told by the status (403, or 400 naming ``notifyUsers``) of a request that sent the parameter,
    and the account's permissions, never by the message, which Jira words in the site's language."""


class WritesStopped(JiraApiError):
    """The site's write breaker is open: too many writes in a row got no answer. Nothing was sent."""


class PluginError(PmoError):
    """A plugin failed to load or broke the plugin contract."""


class MissingExtra(PmoError):
    """A feature needs an optional extra that is not installed (``pip install 'pmo-jira[NAME]'``)."""


class WriteBackError(PmoError):
    """A write-back could not be planned or applied safely (blast-radius cap, refused notify)."""


class LockError(PmoError):
    """Another run holds the run lock."""
