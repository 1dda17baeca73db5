"""The user documentation cannot drift from the code.

- docs/standards.md documents every built-in standard with the code's title, default severity,
  default phases, target and options, and documents no standard that does not exist;
- every `pmo-jira ...` command line in a fenced sh/console block of docs/*.md and README.md uses
  commands, sub-commands and options that exist (plugin commands included), unless the line ends
  with `# illustrative`;
- relative links between the docs and README point to files (and headings) that exist.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from pmo_jira.cli.main import cli
from pmo_jira.standards.registry import builtin_registry

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MARKDOWN = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]
SHELL_LANGS = {"sh", "console", "bash", "shell"}
SHELL_OPERATORS = {"&&", "||", ";", "|", "&", ">", ">>", "<", ">&", "|&", "(", ")", ";;"}
COMMAND_PREFIXES = {"sudo", "exec", "time", "nohup", "env", "then", "do", "!"}
ILLUSTRATIVE = "# illustrative"


# --- markdown helpers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    file: Path
    line: int  # 1-based line of the first content line
    lang: str
    lines: tuple[str, ...]


_FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")


def fenced_blocks(path: Path) -> list[Block]:
    """Fenced code blocks (``` or ~~~, any length, possibly indented in a list)."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group("fence"), m.group("info").strip()
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = _FENCE.match(lines[j])
            if closing and closing.group("fence")[0] == fence[0] and len(closing.group("fence")) >= len(fence) \
                    and not closing.group("info").strip():
                break
            body.append(lines[j])
            j += 1
        blocks.append(Block(path, i + 2, info.split()[0].lower() if info else "", tuple(body)))
        i = j + 1
    return blocks


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the lines outside fenced code blocks."""
    inside = set()
    for block in fenced_blocks(path):
        inside.update(range(block.line - 1, block.line + len(block.lines) + 1))
    return [(n, text) for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
            if n not in inside]


# --- 1. the standards catalogue ----------------------------------------------------------------------


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def catalogue_problems(text: str, registry) -> list[str]:
    """What docs/standards.md (given as text) gets wrong about the registry's standards."""
    problems: list[str] = []
    sections: dict[str, str] = {}
    for m in re.finditer(r"^### (?P<code>[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)\s*$(?P<body>.*?)(?=^#{1,3} |\Z)",
                         text, re.MULTILINE | re.DOTALL):
        sections[m.group("code")] = m.group("body")
    overview = {}
    for line in text.splitlines():
        m = re.match(r"^\|\s*\[(?P<code>[A-Z0-9-]+)\]\(#(?P<anchor>[a-z0-9-]+)\)\s*\|", line)
        if m:
            overview[m.group("code")] = _cells(line)
    known = {cls.code for cls in registry}
    for code in sorted(set(sections) - known):
        problems.append(f"{code} is documented but is not a built-in standard")
    for cls in registry:
        code, title = cls.code, cls.title
        severity, phases = cls.default_severity.value, ", ".join(cls.default_phases)
        row = overview.get(code)
        if row is None:
            problems.append(f"{code}: missing from the overview table")
        elif row[1:5] != [title, severity, phases, cls.applies_to]:
            problems.append(f"{code}: overview row says {row[1:5]}, the code says "
                            f"{[title, severity, phases, cls.applies_to]}")
        body = sections.get(code)
        if body is None:
            problems.append(f"{code}: no '### {code}' section")
            continue
        facts = {}
        for line in body.splitlines():
            cells = _cells(line) if line.startswith("|") else []
            if len(cells) == 2:
                facts[cells[0]] = cells[1]
        for name, want in (("Title", title), ("Default severity", severity), ("Default phases", phases),
                           ("Applies to", cls.applies_to)):
            if facts.get(name) != want:
                problems.append(f"{code}: {name} is {facts.get(name)!r} in the docs, {want!r} in the code")
        for option, default in cls.option_defaults().items():
            row_re = rf"^\|\s*`{re.escape(option)}`\s*\|\s*`{re.escape(json.dumps(default))}`\s*\|"
            if not re.search(row_re, body, re.MULTILINE):
                problems.append(f"{code}: option {option} (default {json.dumps(default)}) is not documented")
        example = cls.example_yaml().strip()
        if example and example not in body:
            problems.append(f"{code}: the example from the standard's docstring is not in its section")
    return problems


STANDARDS_MD = DOCS / "standards.md"


def test_standards_catalogue_matches_the_registry():
    problems = catalogue_problems(STANDARDS_MD.read_text(encoding="utf-8"), builtin_registry())
    assert not problems, "docs/standards.md drifted from the code:\n" + "\n".join(problems)


@pytest.mark.parametrize("mutate, expected", [
    (lambda t: t.replace("### PMO-EXE-002\n", "### PMO-EXE-0002\n"), "PMO-EXE-002: no '### PMO-EXE-002' section"),
    (lambda t: re.sub(r"(### PMO-GOV-001.*?\| Default severity \| )high", r"\1medium", t, count=1, flags=re.DOTALL),
     "PMO-GOV-001: Default severity"),
    (lambda t: re.sub(r"(### PMO-PLN-001.*?\| Default phases \| )planning, execution", r"\1execution", t, count=1,
                      flags=re.DOTALL), "PMO-PLN-001: Default phases"),
    (lambda t: t.replace("| Title | Status fresh |", "| Title | Status is fresh |"), "PMO-EXE-001: Title"),
    (lambda t: t.replace("| [PMO-RSK-001](#pmo-rsk-001) | Risk register kept | high |",
                         "| [PMO-RSK-001](#pmo-rsk-001) | Risk register kept | medium |"), "PMO-RSK-001: overview row"),
    (lambda t: t.replace("| `max_days` | `14` |", "| `max_days` | `21` |"), "PMO-EXE-001: option max_days"),
], ids=["section-missing", "severity", "phases", "title", "overview-row", "option-default"])
def test_the_catalogue_check_catches_drift(mutate, expected):
    text = STANDARDS_MD.read_text(encoding="utf-8")
    mutated = mutate(text)
    assert mutated != text, "the mutation did not apply; adapt the test to the catalogue's layout"
    problems = catalogue_problems(mutated, builtin_registry())
    assert any(p.startswith(expected) for p in problems), problems


# --- 2. command lines in the docs ----------------------------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    where: str  # file:line
    argv: tuple[str, ...]  # after the program name


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def _is_program(token: str) -> bool:
    return token == "pmo-jira" or (token.endswith("/pmo-jira") and "=" not in token)


def invocations_in(line: str) -> list[tuple[str, ...]]:
    """argv of every pmo-jira run in command position on one shell line."""
    out = []
    tokens = _tokens(line)
    start = True  # at the start of a simple command
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in SHELL_OPERATORS:
            start = True
        elif start and (re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", token) or token in COMMAND_PREFIXES):
            pass  # VAR=value or a prefix like sudo: the command comes next
        elif start and _is_program(token):
            argv = []
            for arg in tokens[i + 1:]:
                if arg in SHELL_OPERATORS:
                    break
                argv.append(arg)
            out.append(tuple(argv))
            i += len(argv)
            start = False
        else:
            start = False
        i += 1
    return out


def shell_lines(block: Block) -> list[tuple[int, str]]:
    """(line number, command) of a sh/console block; console blocks: only `$ ` lines, continuations joined."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for offset, raw in enumerate(block.lines):
        number = block.line + offset
        if pending is not None:
            line = pending[1] + " " + raw.strip()
            number = pending[0]
        elif block.lang == "console":
            if not raw.lstrip().startswith("$ "):
                continue
            line = raw.lstrip()[2:]
        else:
            line = raw
        if line.rstrip().endswith("\\"):
            pending = (number, line.rstrip()[:-1])
            continue
        pending = None
        out.append((number, line))
    return out


def doc_invocations() -> list[Invocation]:
    found = []
    for path in MARKDOWN:
        for block in fenced_blocks(path):
            if block.lang not in SHELL_LANGS:
                continue
            for number, line in shell_lines(block):
                if line.rstrip().endswith(ILLUSTRATIVE):
                    continue
                for argv in invocations_in(line):
                    found.append(Invocation(f"{path.relative_to(ROOT)}:{number}", argv))
    return found


def _options(command: click.Command) -> dict[str, click.Option]:
    out = {opt: p for p in command.params if isinstance(p, click.Option) for opt in p.opts + p.secondary_opts}
    for name in ("--help", "-h"):
        out.setdefault(name, click.Option([name], is_flag=True))
    return out


def invocation_problems(argv: tuple[str, ...]) -> list[str]:
    """Why `pmo-jira <argv>` would not parse: unknown commands, options or choice values."""
    ctx = click.Context(cli, info_name="pmo-jira")
    command: click.Command = cli
    path = ["pmo-jira"]
    args = list(argv)
    if not args:
        return []
    while args:
        arg = args.pop(0)
        if arg in ("--", "-"):
            continue
        if arg.startswith("-"):
            problem, consumed = _check_option(command, " ".join(path), arg, args)
            if problem:
                return [problem]
            del args[:consumed]
            continue
        if isinstance(command, click.Group):
            sub = command.get_command(ctx, arg)
            if sub is None:
                return [f"{' '.join(path)} has no command '{arg}'"]
            command = sub
            path.append(arg)
    return []


def _check_option(command: click.Command, name: str, arg: str, rest: list[str]) -> tuple[str | None, int]:
    options = _options(command)
    if re.fullmatch(r"-[vq]{2,}", arg):
        arg = arg[:2]
    opt, has_value, value = arg, False, None
    if arg.startswith("--") and "=" in arg:
        opt, value = arg.split("=", 1)
        has_value = True
    param = options.get(opt)
    if param is None:
        return f"{name} has no option {opt}", 0
    if param.is_flag or param.count:
        return None, 0
    consumed = 0
    if not has_value:
        if not rest:
            return f"{name} {opt} needs a value", 0
        value, consumed = rest[0], 1
    if isinstance(param.type, click.Choice) and value not in param.type.choices:
        return f"{name} {opt}: '{value}' is not one of {list(param.type.choices)}", consumed
    return None, consumed


INVOCATIONS = doc_invocations()


def test_the_docs_show_commands():
    files = {inv.where.split(":")[0] for inv in INVOCATIONS}
    assert {"README.md", "docs/mappings.md", "docs/sync.md", "docs/audit.md", "docs/standards.md"} <= files
    assert len(INVOCATIONS) >= 20


@pytest.mark.parametrize("inv", INVOCATIONS, ids=[f"{i.where} {' '.join(i.argv[:2])}" for i in INVOCATIONS])
def test_documented_command_lines_exist(inv):
    assert not invocation_problems(inv.argv), f"{inv.where}: pmo-jira {' '.join(inv.argv)}: " + \
        "; ".join(invocation_problems(inv.argv))


@pytest.mark.parametrize("line, problem", [
    ("pmo-jira audti", "pmo-jira has no command 'audti'"),
    ("pmo-jira audit --fail-on severe", "pmo-jira audit --fail-on: 'severe' is not one of"),
    ("pmo-jira sync --aply", "pmo-jira sync has no option --aply"),
    ("PMO_JIRA_TOKEN=x pmo-jira mappings check m.yaml --sites", "pmo-jira mappings check has no option --sites"),
    ("pmo-jira history show 3 --limit 2", "pmo-jira history show has no option --limit"),
    ("pmo-jira mappings lint m.yaml", "pmo-jira mappings has no command 'lint'"),
    ("pmo-jira publish-confluence --bogus", "pmo-jira publish-confluence has no option --bogus"),
    ("make && pmo-jira audit --format", "pmo-jira audit --format needs a value"),
])
def test_the_command_check_catches_mistakes(line, problem):
    (argv,) = invocations_in(line)
    problems = invocation_problems(argv)
    assert problems and problems[0].startswith(problem), problems


@pytest.mark.parametrize("line, expected", [
    ("pmo-jira sync --apply --max-writes 5000        # a comment", [("sync", "--apply", "--max-writes", "5000")]),
    ("pmo-jira sandbox serve --port 18999 &", [("sandbox", "serve", "--port", "18999")]),
    ("pip install 'pmo-jira==0.1.0' && pmo-jira demo", [("demo",)]),
    ("journalctl -u pmo-jira", []),
    ("A=1 B=2 /usr/local/bin/pmo-jira audit -q", [("audit", "-q")]),
])
def test_invocations_are_found_in_command_position(line, expected):
    assert invocations_in(line) == expected


def test_plugin_commands_resolve():
    ctx = click.Context(cli, info_name="pmo-jira")
    assert cli.get_command(ctx, "publish-confluence") is not None
    assert not invocation_problems(("publish-confluence", "--help"))


# --- 3. relative links -------------------------------------------------------------------------------


_LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target><[^>]+>|[^)\s]+)(?:\s+\"[^\"]*\")?\)")


def github_slug(heading: str) -> str:
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for _, line in prose_lines(path):
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        slug = github_slug(m.group(1))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def links() -> list[tuple[str, Path, str]]:
    """(file:line, file, target) of every relative link outside code."""
    out = []
    for path in MARKDOWN:
        for number, line in prose_lines(path):
            line = re.sub(r"`[^`]*`", "", line)  # inline code is not a link
            for m in _LINK.finditer(line):
                target = m.group("target").strip("<>")
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):
                    continue  # https:, mailto: ...
                out.append((f"{path.relative_to(ROOT)}:{number}", path, target))
    return out


LINKS = links()


def link_problem(path: Path, target: str) -> str | None:
    file_part, _, anchor = target.partition("#")
    dest = (path.parent / file_part).resolve() if file_part else path
    if not dest.exists():
        return f"{target}: {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest} does not exist"
    if anchor and dest.suffix == ".md" and anchor not in anchors(dest):
        return f"{target}: no heading '#{anchor}' in {dest.name}"
    return None


def test_the_docs_link_each_other():
    assert len(LINKS) >= 10


@pytest.mark.parametrize("where, path, target", LINKS, ids=[f"{w} {t}" for w, _, t in LINKS])
def test_relative_links_resolve(where, path, target):
    problem = link_problem(path, target)
    assert problem is None, f"{where}: {problem}"


def test_the_link_check_catches_mistakes():
    assert link_problem(DOCS / "sync.md", "mapping.md") is not None
    assert link_problem(DOCS / "sync.md", "mappings.md#writeback-settings") is not None
    assert link_problem(DOCS / "sync.md", "mappings.md#writeback") is None
    assert link_problem(ROOT / "README.md", "docs/schedules/") is None
