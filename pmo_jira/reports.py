"""Named reports (``pmo-jira report NAME``) contributed by plugins through ``pmo_jira_reports``.

A report gets one ``ReportContext`` (the audit result, the snapshots it was computed from, the
mapping, the run history and the time) and renders itself in one of its formats. Rendering is
pure: the caller decides where the text or bytes go.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from pmo_jira.collector import collector_paused
from pmo_jira.errors import PluginError, PmoError
from pmo_jira.findings import AuditResult
from pmo_jira.mapping.schema import Mapping as MappingFile
from pmo_jira.model import Snapshot
from pmo_jira.redaction import redact, redact_pieces
from pmo_jira.suggest import did_you_mean

if TYPE_CHECKING:
    from pmo_jira.history import HistoryStore

T = TypeVar("T")


def file_name(name: str, fmt: str) -> str:
    """``<name><suffix>``: the file a report in ``fmt`` is saved as in a folder."""
    from pmo_jira.formats import suffix_of

    return f"{name}{suffix_of(fmt)}"


_WRITE_CHARS = 1 << 20  # a large text is encoded and written this many characters at a time


def write_output(path: Path, content: str | bytes | Iterable[str]) -> None:
    """Save a report or plan; a folder that cannot be made or a file that cannot be written is an
    ``Error:`` line naming the path, not a crash.

    Text is redacted and encoded as it is written, and may come in pieces (a format's
    ``render_pieces``), so a large report is never held whole, redacted or encoded at once. A
    new file left half-written by a failure is removed."""
    existed = os.path.lexists(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a new file is readable by its owner only: reports hold site data (an existing file,
        # e.g. one an admin made group-readable for a web server, keeps its mode)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise PmoError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh, collector_paused():
            if isinstance(content, bytes):
                fh.write(content)
                return
            for text in [redact(content)] if isinstance(content, str) else redact_pieces(content):
                for at in range(0, len(text), _WRITE_CHARS):  # never the whole text's bytes at once
                    fh.write(text[at:at + _WRITE_CHARS].encode("utf-8"))
    except BaseException as exc:
        if not existed and path.is_file():  # no half-written report left where none was
            path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise PmoError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


@dataclass(frozen=True)
class ReportContext:
    result: AuditResult
    snapshots: Sequence[Snapshot]
    mapping: MappingFile
    now: datetime
    history: HistoryStore | None = None  # when a run history is kept
    options: Mapping[str, str] = field(default_factory=dict)
    width: int | None = None  # the terminal's columns a text format should fit (None: no limit)
    color: bool = False  # the text goes to a terminal that shows colour (never with NO_COLOR)
    _shared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def shared(self, key: str, build: Callable[[], T]) -> T:
        """``build()``, once per context: what every format of one report needs (e.g. a roll-up)
        is built once when one command renders several formats from this context."""
        return _once(self._shared, key, build)


@dataclass(frozen=True)
class HistoryContext:
    """What a report rendered from the run history alone gets (``report NAME --from-history``):
    no Jira read, the newest full run of each of ``sites`` is in ``history``."""

    history: HistoryStore
    mapping: MappingFile
    sites: tuple[str, ...]
    now: datetime
    options: Mapping[str, str] = field(default_factory=dict)
    width: int | None = None  # as ReportContext's
    color: bool = False
    _shared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def shared(self, key: str, build: Callable[[], T]) -> T:
        """As ``ReportContext.shared``."""
        return _once(self._shared, key, build)


def _once(memo: dict[str, Any], key: str, build: Callable[[], T]) -> T:
    if key not in memo:
        memo[key] = build()
    return memo[key]  # type: ignore[no-any-return]


@runtime_checkable
class Report(Protocol):
    """A named report. Optional extras: ``options`` (the ``--option`` names it takes; ``--month``
    and ``--level`` set the options of those names) and ``check_options(options, formats)``
    (raise ``PmoError`` for a bad value before the audit runs)."""

    name: str
    title: str
    formats: tuple[str, ...]  # the first one is the default

    def render(self, ctx: ReportContext, fmt: str) -> str | bytes | Mapping[str, str | bytes]: ...


def renders_from_history(report: Report) -> bool:
    """Whether a report can be rendered from the run history alone: it offers
    ``render_from_history(ctx: HistoryContext, fmt) -> str | bytes``."""
    return callable(getattr(report, "render_from_history", None))


def available_reports() -> dict[str, Report]:
    """Every report the installed plugins offer, by name (``pmo_jira_reports`` hook); a plugin
    whose hook raises or returns something else than a list of reports is left out with a warning."""
    from pmo_jira.plugin_manager import collect, left_out

    return collect("pmo_jira_reports", what="report", name_of=lambda r: getattr(r, "name", None) or repr(r),
                   check=_is_report, skip_broken=left_out("reports"))


_REPORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _is_report(name: str, report: Any) -> None:
    if not (isinstance(getattr(report, "name", None), str) and callable(getattr(report, "render", None))):
        raise PluginError(f"report '{name}' is not a report (a {type(report).__name__} without a name "
                          "and a render() method)")
    if not _REPORT_NAME.match(report.name):  # it names the report's file in --out-dir
        raise PluginError(f"report name {report.name!r} must be letters, digits, '.', '-' or '_'")


def find_report(name: str) -> Report:
    """The installed report ``name``, or an error naming the close match and what is installed."""
    reports = available_reports()
    if name not in reports:
        guess = did_you_mean(name, reports)
        hint = f"{guess} " if guess else ""
        raise PmoError(f"no report named '{name}' ({hint}installed: {', '.join(sorted(reports)) or 'none'}; "
                       "see `pmo-jira plugins list`)")
    return reports[name]


def check_options(report: Report, options: Mapping[str, str], formats: Sequence[str] = (), *,
                  to_stdout: bool = False) -> None:
    """Refuse an option name the report does not take (its ``options``), naming the ones it does,
    then let the report check the values (its optional ``check_options(options, formats)``);
    done before the audit, so a typo does not cost a full read."""
    allowed = tuple(getattr(report, "options", ()) or ())
    for name in options:
        if name in allowed:
            continue
        if not allowed:
            raise PmoError(f"report '{report.name}' takes no options (got --option {name}=...)")
        guess = did_you_mean(name, allowed)
        raise PmoError(f"report '{report.name}' has no option '{name}' ({f'{guess} ' if guess else ''}"
                       f"options: {', '.join(allowed)})")
    check_values = getattr(report, "check_options", None)
    if callable(check_values):
        check_values(options, formats)
    for fmt in formats:
        files = files_of(report, fmt, options)
        if to_stdout and len(files) > 1:
            level = " (or --level to pick one)" if "level" in allowed else ""
            raise PmoError(f"format '{fmt}' of report '{report.name}' is {len(files)} files ({', '.join(files)}): "
                           f"give --output DIR or --out-dir DIR{level}")


def chosen_formats(report: Report, fmt: str, out_dir: Path | None) -> list[str]:
    """The formats to render; checked before the audit, so a typo does not cost a full read."""
    formats = list(report.formats) if fmt == "all" else [fmt or report.formats[0]]
    for f in formats:
        if f not in report.formats:
            raise PmoError(f"report '{report.name}' has no format '{f}' (formats: {', '.join(report.formats)})")
    if fmt == "all" and out_dir is None:
        raise PmoError("--format all needs --out-dir DIR")
    return formats


def folder_name(name: str, fmt: str) -> str:
    """``<name>-<fmt>``: the folder a format of several files is saved as in an output folder."""
    return f"{name}-{fmt}"


def files_of(report: Report, fmt: str, options: Mapping[str, str]) -> tuple[str, ...]:
    """The file names ``fmt`` renders to when it is several files (the report's optional
    ``files(fmt, options)``), else ``()``: one text or bytes."""
    files = getattr(report, "files", None)
    return tuple(files(fmt, options)) if callable(files) else ()


def render_report(report: Report, ctx: ReportContext | HistoryContext, fmt: str, *, output: Path | None = None,
                  out_dir: Path | None = None) -> list[Path] | str:
    """Render one format into ``output`` or ``out_dir/<name><suffix>`` (the paths written), or
    return the text when there is no file to go to (binary formats need one).

    A format of several files (``render`` returns file name -> content) is a folder: ``output``,
    or ``out_dir/<name>-<fmt>``; a single one of them is like any one file."""
    content = report.render(ctx, fmt) if isinstance(ctx, ReportContext) else \
        report.render_from_history(ctx, fmt)  # type: ignore[attr-defined]
    if isinstance(content, Mapping):
        if len(content) == 1 and out_dir is None:
            content = next(iter(content.values()))
        else:
            folder = output if output is not None else (out_dir / folder_name(report.name, fmt) if out_dir else None)
            if folder is None:
                raise PmoError(f"format '{fmt}' is {len(content)} files ({', '.join(content)}): give --output DIR "
                               "or --out-dir DIR")
            if folder.exists() and not folder.is_dir():
                raise PmoError(f"cannot write {folder}: it is a file, and format '{fmt}' writes a folder")
            for file in content:
                parts = Path(str(file)).parts
                if not parts or Path(str(file)).is_absolute() or ".." in parts or "\\" in str(file):
                    raise PluginError(f"report '{report.name}' format '{fmt}' names the file {str(file)!r}, "
                                      f"outside its folder {folder}: nothing was written")
            written = []
            for file, data in content.items():
                write_output(folder / file, data)
                written.append(folder / file)
            return written
    target = output if output is not None else (out_dir / file_name(report.name, fmt) if out_dir is not None else None)
    if target is None:
        if isinstance(content, bytes):
            raise PmoError(f"format '{fmt}' is binary: give --output FILE or --out-dir DIR")
        return content
    write_output(target, content)
    return [target]
