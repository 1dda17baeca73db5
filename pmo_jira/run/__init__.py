"""The run layer: what every command that reads Jira does, in one place and in this order.

load the mapping -> read each site -> audit -> plan the write-back -> apply it -> record the run
history -> emit the summary. ``Run`` holds the steps; ``run_audit_command``, ``run_sync_command`` and
``run_report_command`` compose them for the built-in commands, and the demo and plugins' commands
compose their own (``history_context`` gives a report rendered from the run history alone what
it reads). Callers hear about progress through ``RunEvents`` and do their own printing.
"""

from __future__ import annotations

from pmo_jira.run.command import (
                                  Done,
                                  Run,
                                  RunEvents,
                                  RunRequest,
                                  audit_exit_code,
                                  history_context,
                                  run_audit_command,
                                  run_now,
                                  run_report_command,
                                  run_report_from_history,
                                  run_sync_command,
)
from pmo_jira.run.connect import client_for, site_client
from pmo_jira.run.sites import AuditedSites, Scope

__all__ = [
    "AuditedSites", "Done", "Run", "RunEvents", "RunRequest", "Scope", "audit_exit_code", "client_for",
    "history_context", "run_audit_command", "run_now", "run_report_command", "run_report_from_history", "run_sync_command",
    "site_client",
]
