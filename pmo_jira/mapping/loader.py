"""Load a mapping file, turning every mistake into one line: ``FILE:LINE: key.path: problem (fix)``.

PyYAML is used at the node level so each key and list item keeps its line, duplicate keys are
caught (PyYAML would silently keep the last one), and only YAML 1.2-style scalars are implicit:
``NO`` (a project key) stays text instead of becoming ``false`` and dates stay text for the
schema to check.
"""

from __future__ import annotations

import hashlib
import re
import typing
import unicodedata
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from pmo_jira.errors import ConfigError
from pmo_jira.mapping.schema import (
    Mapping,
    consistency_issues,
    describe,
    format_path,
    mapping_sections,
    nearest_line,
    plain_error,
    waiver_issues,
)
from pmo_jira.printable import INVISIBLE
from pmo_jira.suggest import did_you_mean
from pmo_jira.textfile import read_small_text

Path_ = tuple[str | int, ...]

_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


MAX_BYTES = 2 * 1024 * 1024
"""Largest mapping file read (2 MiB; the biggest real mappings, with hundreds of waivers, are a
tenth of that). A larger file is refused before it is read, so a wrong path answers at once."""
MAX_DEPTH = 40
"""Deepest nesting of lists and mappings (a real mapping nests 6 deep)."""
MAX_NODES = 50_000
"""Most values a file may expand to, anchors counted each time they are used (a "billion
laughs" file stops here instead of filling the memory)."""

def invisible_character(text: str) -> str | None:
    """``U+001B (ESC)`` style name of the first control or invisible character in ``text``, else None."""
    found = INVISIBLE.search(text)
    if found is None:
        return None
    char = found.group()
    names = {"\x00": "NUL", "\x1b": "ESC, a terminal escape code", "\x07": "BEL", "\u202e": "RIGHT-TO-LEFT OVERRIDE",
             "\u202d": "LEFT-TO-RIGHT OVERRIDE", "\u200b": "ZERO WIDTH SPACE", "\ufeff": "BYTE ORDER MARK"}
    name = names.get(char) or unicodedata.name(char, "control character")
    return f"U+{ord(char):04X} ({name})"


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans (true/false only), no implicit timestamps, and a nesting
    limit checked while composing (PyYAML composes recursively: deep input would otherwise end in
    a RecursionError after a long time)."""

    file = ""
    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise ConfigError(f"the YAML nests more than {MAX_DEPTH} levels deep", file=self.file,
                                  line=mark.line + 1, hint="a mapping nests a few levels; check the brackets")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))

_CSafeLoader: Any = getattr(yaml, "CSafeLoader", None)  # PyYAML built with libyaml (every wheel is)


class _FastLoader(_CSafeLoader or yaml.SafeLoader):  # type: ignore[misc]
    """libyaml's composer with ``_Loader``'s scalar rules: the same nodes (tags, values, lines)
    in a twentieth of the time. Used only for files ``_shallow`` lets through."""

    yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers


_BRACKET = re.compile(r"[][{}]")


def _shallow(text: str) -> bool:
    """True when ``text`` cannot nest deeper than ``MAX_DEPTH``. libyaml composes recursively in
    C, where ``_Loader``'s depth check cannot reach, so only such files go to it. A loose bound:
    the deepest bracket nesting (quoted brackets count too) plus, on the worst line, two block
    levels per indentation step (a mapping and a sequence can share one) and one per indicator."""
    flow = flows = 0
    for found in _BRACKET.finditer(text):
        flow += 1 if found.group() in "[{" else -1
        flows = max(flows, flow)
    blocks = 0
    for line in text.splitlines():
        body = line.lstrip(" ")
        if not body or body.startswith("#"):
            continue
        end = body.rstrip()
        indicators = (line.count("- ") + line.count(": ") + line.count("? ")
                      + (1 if end.endswith(("-", ":", "?")) else 0))
        blocks = max(blocks, 2 * (len(line) - len(body) + 1) + indicators)
    return blocks + flows <= MAX_DEPTH


class _Source:
    """The parsed file: plain data plus the line of every key path."""

    def __init__(self, file: str):
        self.file = file
        self.lines: dict[Path_, int] = {}
        self.nodes = 0

    def error(self, path: Path_, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, file=self.file, line=self.line(path), key=format_path(path) or None,
                           hint=hint or None)

    def line(self, path: Path_) -> int:
        return nearest_line(self.lines, path) or 1

    def build(self, loader: _Loader, node: yaml.Node, path: Path_) -> Any:
        self.nodes += 1
        if len(path) > MAX_DEPTH or self.nodes > MAX_NODES:
            raise ConfigError("the YAML nests or repeats too much (a recursive or exploding anchor?)",
                              file=self.file, line=node.start_mark.line + 1, key=format_path(path[:3]) or None,
                              hint="write the values out instead of using anchors")
        if isinstance(node, yaml.ScalarNode):
            odd = invisible_character(node.value)
            if odd:
                raise ConfigError(f"the value contains the invisible character {odd}", file=self.file,
                                  line=node.start_mark.line + 1, key=format_path(path) or None,
                                  hint="retype it without escape codes or invisible characters")
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                raise self.error(path, f"unsupported YAML tag {node.tag}", "remove the tag")
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                line = key_node.start_mark.line + 1
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise ConfigError("YAML merge keys (<<) are not supported", file=self.file, line=line,
                                      key=format_path(path) or None, hint="write the keys out")
                if not isinstance(key_node, yaml.ScalarNode):
                    raise ConfigError("a key must be plain text", file=self.file, line=line,
                                      key=format_path(path) or None, hint="check the indentation")
                key = key_node.value
                if key in out:
                    raise ConfigError(f"duplicate key (first on line {self.lines[path + (key,)]})", file=self.file,
                                      line=line, key=format_path(path + (key,)), hint="keep one of them")
                self.lines[path + (key,)] = line
                out[key] = self.build(loader, value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise self.error(path, f"unsupported YAML tag {node.tag}", "remove the tag")
            items = []
            for i, item in enumerate(node.value):
                self.lines[path + (i,)] = item.start_mark.line + 1
                items.append(self.build(loader, item, path + (i,)))
            return items
        return loader.construct_object(node, deep=True)


def _yaml_hint(exc: yaml.MarkedYAMLError) -> str:
    text = f"{exc.problem or ''} {exc.context or ''}"
    if "\\t" in text or "\t" in text:
        return "indent with spaces, not tabs"
    if "constructor for the tag" in text:
        return "a mapping is plain YAML: remove the tag"
    if "single document" in text:
        return "keep one mapping per file; remove the '---' separator"
    return "check the indentation, and quote values that contain ': ' or start with { [ * & ! % @"


def _parse(path: str) -> tuple[Any, _Source, str]:
    """Read and parse the file; raises ConfigError for anything that is not a usable YAML mapping."""
    raw, text = read_small_text(Path(path), path, what="mapping", max_bytes=MAX_BYTES, hints={
        "missing": "check the path; presets live in mappings/", "folder": "name a .yaml file",
        "too_big": "is this the right file? a mapping is a few kilobytes of YAML"})
    digest = hashlib.sha256(raw).hexdigest()[:12]
    found = INVISIBLE.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise ConfigError(f"the file contains the invisible character {invisible_character(found.group())}",
                          file=path, line=line,
                          hint="retype the line without escape codes or invisible characters")
    composed = _compose_fast(text, path)
    if composed is not None:
        data, source = composed
    else:
        data, source = _compose(text, path)
    if data is None:
        raise ConfigError("the mapping file is empty", file=path, line=1,
                          hint="start from mappings/pmbok-default.yaml")
    if not isinstance(data, dict):
        raise ConfigError(f"the top level must be a mapping of keys (version, name, scope ...), got {describe(data)}",
                          file=path, line=1, hint="start from mappings/pmbok-default.yaml")
    return data, source, digest


def _compose_fast(text: str, path: str) -> tuple[Any, _Source] | None:
    """The data and lines of ``text`` through libyaml; None when it may not or cannot be used
    (no libyaml, a file that could nest too deep, or invalid YAML: ``_compose`` reads such a
    file again, so every error says what it always said)."""
    if _CSafeLoader is None or not _shallow(text):
        return None
    source = _Source(path)
    loader = _FastLoader(text)
    try:
        node = loader.get_single_node()
        return (None if node is None else source.build(loader, node, ())), source
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()


def _compose(text: str, path: str) -> tuple[Any, _Source]:
    """The data and lines of ``text`` through the pure-Python loader, its errors as ConfigError."""
    source = _Source(path)
    loader = _Loader(text)
    loader.file = path
    try:
        node = loader.get_single_node()
        return (None if node is None else source.build(loader, node, ())), source
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ConfigError(f"invalid YAML: {what}", file=path, line=mark.line + 1 if mark else None,
                          hint=_yaml_hint(exc)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=path) from None
    finally:
        loader.dispose()


# --- pydantic errors -> one line ---------------------------------------------------------------


def _data_path(data: Any, loc: tuple[Any, ...], missing: bool) -> Path_:
    """The part of a pydantic error location that exists in the file (union tags dropped)."""
    out: list[str | int] = []
    cur = data
    for i, part in enumerate(loc):
        if isinstance(cur, dict) and part in cur:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        elif missing and i == len(loc) - 1 and isinstance(part, str):
            out.append(part)
    return tuple(out)


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional/Union down to the model, list or dict type inside."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            structured = [a for a in args if typing.get_origin(a) in (list, dict)
                          or (isinstance(a, type) and issubclass(a, BaseModel))]
            tp = structured[0] if structured else args[0]
        else:
            return tp


def _allowed_keys(path: Path_) -> list[str]:
    """The keys the schema allows at a path of the file (plugins' sections included), for
    did-you-mean on unknown keys."""
    sections = mapping_sections()
    if not path:
        return [*(f.alias or n for n, f in Mapping.model_fields.items()), *sections]
    tp: Any = Mapping
    if path[0] in sections:
        tp, path = sections[str(path[0])], path[1:]
    for part in path:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = next((f for n, f in tp.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return []
            tp = field.annotation
        elif origin is list and isinstance(part, int):
            tp = typing.get_args(tp)[0]
        elif origin is dict:
            tp = typing.get_args(tp)[1]
        else:
            return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or n for n, f in tp.model_fields.items()]
    return []


def _translate(err: dict[str, Any], data: dict[str, Any], source: _Source) -> ConfigError:
    kind = err["type"]
    path = _data_path(data, tuple(err["loc"]), missing=kind == "missing")
    value = err.get("input")
    ctx = err.get("ctx") or {}
    hint: str | None = None
    if kind == "pmo":
        message, hint = ctx["problem"], ctx.get("hint")
    elif kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        allowed = _allowed_keys(path[:-1])
        message = "unknown key"
        hint = did_you_mean(key, allowed) or ("allowed keys: " + ", ".join(allowed) if allowed else None)
    elif kind == "missing":
        message = "required key missing"
        hint = f"add '{path[-1]}:'" if path else None
    else:
        message, hint = plain_error(kind, value, ctx) or (err["msg"], None)
    return source.error(path, message, hint)


def _errors(path: str, known_codes: Iterable[str] | None,
            today: date | None = None) -> tuple[Mapping | None, list[ConfigError]]:
    data, source, digest = _parse(path)
    try:
        mapping = Mapping.model_validate(data, context={"defer_consistency": True})
    except ValidationError as exc:
        errors, seen = [], set()
        for err in exc.errors(include_url=False):
            error = _translate(dict(err), data, source)
            if error.key not in seen:
                seen.add(error.key)
                errors.append(error)
        return None, sorted(errors, key=lambda e: e.line or 0)
    codes = None if known_codes is None else frozenset(known_codes)
    issues = consistency_issues(mapping, codes) + (waiver_issues(mapping, today) if today else [])
    errors = [source.error(p, text, hint) for p, text, hint in issues]
    if errors:
        return None, sorted(errors, key=lambda e: e.line or 0)
    mapping._source_file = path
    mapping._content_hash = digest
    mapping._lines = dict(source.lines)
    return mapping, []


def check_mapping(path: str | Path, known_codes: Iterable[str] | None = None, *,
                  today: date | None = None) -> tuple[Mapping | None, list[ConfigError]]:
    """The mapping and every problem of its file, in file order (a YAML-level problem stops at
    the first); the mapping is None when there is a problem. The file is read once, so a pipe
    (``mappings check /dev/stdin``) is checked as well as a file.

    ``today``: also report waivers that expired before it and live duplicates (``mappings check``
    does; a run only warns about expired ones, so a waiver running out never stops the nightly sync)."""
    try:
        return _errors(str(path), known_codes, today)
    except ConfigError as exc:
        return None, [exc]


def validate_mapping(path: str | Path, known_codes: Iterable[str] | None = None, *,
                     today: date | None = None) -> list[ConfigError]:
    """Every problem of a mapping file (see ``check_mapping``)."""
    return check_mapping(path, known_codes, today=today)[1]


def load_mapping(path: str | Path, known_codes: Iterable[str] | None = None) -> Mapping:
    """Load and validate a mapping file; raises ConfigError naming the first problem.

    ``known_codes``: the standard codes of the catalogue; when given, unknown codes are errors.
    """
    mapping, errors = _errors(str(path), known_codes)
    if errors:
        raise errors[0]
    assert mapping is not None
    return mapping

