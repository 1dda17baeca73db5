"""The plugin contract: the hooks a pmo-jira plugin may implement.

Plugins are modules (or objects) whose functions carry ``@hookimpl`` and share a hook's name. They
are found through the ``pmo_jira`` entry-point group; the built-ins (standards, audit formats) and
the first-party portfolio report are registered exactly like a third party's plugin. An
implementation may accept fewer arguments than its spec, so hooks can grow without breaking plugins.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("pmo_jira")
hookimpl = pluggy.HookimplMarker("pmo_jira")


@hookspec
def pmo_jira_standards() -> Any:
    """Return a list of ``pmo_jira.standards.base.Standard`` subclasses to add to the catalogue."""


@hookspec
def pmo_jira_mapping_sections() -> Any:
    """Return a dict of top-level mapping section name -> its model (a subclass of
    ``pmo_jira.mapping.MappingSection``). The section is validated with the mapping, with the same
    file:line errors; read it as ``mapping.section(name)`` (or ``mapping.<name>``)."""


@hookspec
def pmo_jira_audit_formats() -> Any:
    """Return a dict of audit output format name -> renderer (see ``pmo_jira.formats.base``)."""


@hookspec
def pmo_jira_reports() -> Any:
    """Return a list of report objects (see ``pmo_jira.reports.Report``) for ``pmo-jira report``."""


@hookspec
def pmo_jira_cli_commands(run_options: Any) -> Any:
    """Return a list of click commands to add to the ``pmo-jira`` command group.

    ``run_options`` is the decorator the built-in run commands use: ``@run_options()`` adds
    ``--config``, ``--site``, ``-v``/``-q``, ``--log-format`` and ``--summary-json``, passes them
    as one ``common`` argument (``common.load()`` gives the settings) and turns errors into one
    ``Error:`` line and exit 2. Run the command's work with ``pmo_jira.run.Run``.
    """


@hookspec
def pmo_jira_run_facts(result: Any, snapshots: Any, mapping: Any, now: Any, history: Any) -> Any:
    """Return ``{name: JSON-able figures}`` to keep with the run in the run history.

    Called once per recorded run, after the run and before it is recorded: ``history`` is the
    ``HistoryStore`` as it was before this run (read it, e.g. for the previous run's figures; do
    not write). Read back with ``HistoryStore.run_facts(run_id, name)``. Keep the figures small
    (a run is recorded every night) and name them after your plugin. Figures wrapped in
    ``pmo_jira.history.PerSite({site: figures})`` are kept per site for the newest run of each
    site only (``HistoryStore.latest_site_facts(name, mapping=...)``): what a report needs to
    roll the sites up from the history without reading Jira.
    """
