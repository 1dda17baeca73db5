"""JQL for the local Jira stand-in: tokenizer, recursive-descent parser and a fast evaluator.

The sandbox must answer the queries pmo-jira sends the way real Jira does, including the parts
that surprise people, so the tool's behaviour against the sandbox predicts its behaviour against a
real site:

* ``NOT`` is pushed down to the clauses (De Morgan), flipping their operators, as Jira does; so
  ``NOT labels = x`` behaves like ``labels != x``.
* Negative operators (``!=``, ``NOT IN``, ``!~``) and relational operators never match an issue
  whose field is empty.
* Anything the parser does not understand raises :class:`JqlError` with Jira's wording; nothing
  silently degrades into "match everything".

Evaluation is compiled into closures once per ``now`` (literals pre-lowered, lists turned into
sets), because the sandbox runs one query over up to 100,000 issues.

Accessor protocol (implemented by the sandbox server's ``_Accessor``)::

    accessor.jql_value(name) -> str | None | list[str] | datetime | date | float

``name`` is the canonical lower-case field name (see :data:`ALIASES`); custom fields keep their
lower-cased JQL name (``"epic link"``, ``"cf[10014]"``, ``"start date"``). The accessor raises
:class:`JqlError` for fields the site lacks. Special names it is asked for:

* ``"id"`` -- the numeric issue id, only when a query compares ``key``/``issuekey``/``id`` with a
  number (``id = 10001``).
* :data:`CURRENT_USER` (``"currentuser()"``) -- the identity of the searching user, in the same form
  the accessor returns for ``assignee``/``reporter``; only when the query uses ``currentUser()``.

A list value means "several values" (labels: ``=`` is membership) or "several names of one value"
(project: return ``[key, name]`` so both ``project = APOLLO`` and ``project = "Apollo"`` match).
Status category values may be the key (``new``/``indeterminate``/``done``) or the name.
Absolute date literals and ``startOfDay()``-style functions are read in the time zone of ``now``
(Jira uses the searching user's zone); ``startOfWeek()`` starts on Monday.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from pmo_jira.errors import PmoError

__all__ = ["JqlError", "parse", "Query", "Clause", "HistoryClause", "And", "Or", "Not", "Value", "ALIASES",
           "CURRENT_USER", "MAX_ORDER_BY", "HISTORY_FIELDS"]


class JqlError(PmoError, ValueError):
    """A query Jira would reject; the message uses Jira's wording so the HTTP 400 looks real."""


CURRENT_USER = "currentuser()"
"""Accessor name that resolves ``currentUser()``."""

MAX_ORDER_BY = 7

ALIASES: dict[str, str] = {
    "issuekey": "key", "id": "key", "issue": "key",
    "type": "issuetype",
    "createddate": "created", "updateddate": "updated", "resolutiondate": "resolved", "duedate": "due",
}

_TEXT, _KEY, _DATE, _SUMMARY, _ANY = "text", "key", "date", "summary", "any"
_KIND = {
    "project": _TEXT, "issuetype": _TEXT, "status": _TEXT, "statuscategory": _TEXT, "labels": _TEXT,
    "assignee": _TEXT, "reporter": _TEXT, "priority": _TEXT, "resolution": _TEXT,
    "key": _KEY, "parent": _KEY, "epic link": _KEY,
    "created": _DATE, "updated": _DATE, "resolved": _DATE, "due": _DATE,
    "summary": _SUMMARY, "description": _SUMMARY, "text": _SUMMARY,
}
_EQ_OPS = frozenset({"=", "!=", "in", "not in", "is", "is not"})
_OPS_BY_FIELD: dict[str, frozenset[str]] = {
    "key": frozenset({"=", "!=", "in", "not in", "<", "<=", ">", ">="}),
    "parent": frozenset({"=", "!=", "in", "not in"}),
    "statuscategory": frozenset({"=", "!=", "in", "not in"}),
    "summary": frozenset({"~", "!~", "is", "is not"}),
    "description": frozenset({"~", "!~", "is", "is not"}),
    "text": frozenset({"~"}),  # Jira's master text field: contains only
}
_ALL_OPS = frozenset({"=", "!=", "in", "not in", "is", "is not", "<", "<=", ">", ">=", "~", "!~"})
_DATE_OPS = _EQ_OPS | {"<", "<=", ">", ">="}
_REJECTED_FIELDS = {
    "issuefunction": None,  # ScriptRunner, not core Jira: real Jira without the app says "does not exist"
}
HISTORY_FIELDS = frozenset({"status", "assignee", "reporter", "priority", "resolution", "fixversion"})
"""The fields whose history Jira searches (``WAS``, ``CHANGED``)."""
_WAS_OPS = ("was", "was not", "was in", "was not in")
_WAS_PREDICATES = frozenset({"after", "before", "on", "during", "by"})
_CHANGED_PREDICATES = _WAS_PREDICATES | {"from", "to"}
_STATUS_CATEGORIES = {
    "to do": "new", "new": "new", "2": "new",
    "in progress": "indeterminate", "indeterminate": "indeterminate", "4": "indeterminate",
    "done": "done", "3": "done",
    "no category": "undefined", "undefined": "undefined", "1": "undefined",
}
_NEGATE = {"=": "!=", "!=": "=", "in": "not in", "not in": "in", "is": "is not", "is not": "is",
           "~": "!~", "!~": "~", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
_RESERVED_WORDS = frozenset({"and", "or", "not", "in", "is", "order", "by", "was", "changed", "asc", "desc"})
_VALID_OPERATORS = ("The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
                    "'IS' and 'IS NOT'.")
_DATE_FORMATS = ("Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
                 "or a period format e.g. '-5d', '4w 2d'.")


# --------------------------------------------------------------------------------------------- tokens

@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # word | string | ( | ) | , | op | eof
    text: str  # unescaped text (word, string) or the operator
    offset: int
    raw: str = ""  # source spelling, for messages


_STOP = frozenset(" \t\r\n()\",'=!<>~&|")
_RESERVED_CHARS = frozenset("*?;%^$#@+[]{}")
_ESCAPES = {"'": "'", '"': '"', "t": "\t", "n": "\n", "r": "\r", "\\": "\\", " ": " "}
_CF = re.compile(r"cf\[\d+\]", re.IGNORECASE)


class _Lexer:
    """Turns JQL into tokens, keeping offsets so errors can say 'line L, character C'."""

    def __init__(self, src: str):
        self.src = src

    def where(self, offset: int) -> str:
        line = self.src.count("\n", 0, offset) + 1
        col = offset - (self.src.rfind("\n", 0, offset) + 1) + 1
        return f"(line {line}, character {col})"

    def fail(self, message: str, offset: int) -> JqlError:
        return JqlError(f"Error in the JQL Query: {message} {self.where(offset)}")

    def tokens(self) -> list[_Tok]:
        src, n, i, out = self.src, len(self.src), 0, []
        while i < n:
            c = src[i]
            if c.isspace():
                i += 1
            elif c in "(),":
                out.append(_Tok(c, c, i, c))
                i += 1
            elif c in "\"'":
                text, end = self._string(i)
                out.append(_Tok("string", text, i, src[i:end]))
                i = end
            elif c in "!<>=~&|":
                two = src[i:i + 2]
                if two in ("!=", "!~", "<=", ">=", "&&", "||"):
                    op, i2 = two, i + 2
                else:
                    op, i2 = c, i + 1
                op = {"&&": "and", "&": "and", "||": "or", "|": "or", "!": "not"}.get(op, op)
                out.append(_Tok("op" if op not in ("and", "or", "not") else "word", op, i, src[i:i2]))
                i = i2
            else:
                m = _CF.match(src, i)
                if m:
                    out.append(_Tok("word", m.group(0).lower(), i, m.group(0)))
                    i = m.end()
                    continue
                start, chars = i, []
                while i < n and src[i] not in _STOP:
                    ch = src[i]
                    if ch in _RESERVED_CHARS:
                        raise self.fail(f"The character '{ch}' is a reserved JQL character. You must enclose it in "
                                        f"a string or use the escape '\\u{ord(ch):04x}' instead.", i)
                    if ch == "\\":
                        ch, i = self._escape(i)
                    else:
                        i += 1
                    chars.append(ch)
                out.append(_Tok("word", "".join(chars), start, src[start:i]))
        out.append(_Tok("eof", "", n, ""))
        return out

    def _string(self, start: int) -> tuple[str, int]:
        src, quote, i, chars = self.src, self.src[start], start + 1, []
        while i < len(src):
            ch = src[i]
            if ch == quote:
                return "".join(chars), i + 1
            if ch == "\\":
                ch, i = self._escape(i)
            else:
                i += 1
            chars.append(ch)
        raise self.fail(f"The quoted string '{src[start + 1:]}' has not been completed.", start)

    def _escape(self, i: int) -> tuple[str, int]:
        src = self.src
        nxt = src[i + 1:i + 2]
        if nxt in _ESCAPES and nxt:
            return _ESCAPES[nxt], i + 2
        if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", src[i + 2:i + 6]):
            return chr(int(src[i + 2:i + 6], 16)), i + 6
        raise self.fail(f"'\\{nxt}' is an illegal JQL escape sequence. The valid escape sequences are \\', \\\", "
                        "\\t, \\n, \\r, \\\\, '\\ ' and \\uXXXX.", i)


# --------------------------------------------------------------------------------------------- AST

@dataclass(frozen=True, slots=True)
class Value:
    """One operand: a literal (``quoted`` tells ``2026`` from ``"2026"``), EMPTY, or a function call."""
    kind: str  # "lit" | "empty" | "func"
    text: str = ""
    quoted: bool = False
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Clause:
    field: str  # canonical
    op: str  # lower case: = != < <= > >= ~ !~ in "not in" is "is not"
    values: tuple[Value, ...]
    spelling: str = ""  # the field as written, for messages


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


@dataclass(frozen=True, slots=True)
class HistoryClause:
    """``field WAS [NOT] [IN] value(s)`` or ``field CHANGED``, with time/user predicates.

    ``predicates`` pairs a lower-case word (after, before, on, during, by, from, to) with its
    operand(s): DURING has two, BY may be a list."""

    field: str
    op: str  # was | was not | was in | was not in | changed
    values: tuple[Value, ...]
    predicates: tuple[tuple[str, tuple[Value, ...]], ...]
    spelling: str = ""


Node = Clause | HistoryClause | And | Or | Not


# --------------------------------------------------------------------------------------------- parser

def _canonical(name: str) -> str:
    low = " ".join(name.split()).lower()
    return ALIASES.get(low, low)


_FUNCTIONS = {"now", "startofday", "endofday", "startofweek", "endofweek", "startofmonth", "endofmonth",
              "startofyear", "endofyear", "currentuser", "linkedissues"}
_DATE_FUNCTIONS = _FUNCTIONS - {"currentuser", "linkedissues"}
LINKED_ISSUES = "linkedissues"
"""``issue in linkedIssues(KEY[, "link type"])``: the issues linked to KEY (by that link type)."""


class _Parser:
    def __init__(self, src: str):
        self.lex = _Lexer(src)
        self.toks = self.lex.tokens()
        self.i = 0
        self.fields: dict[str, str] = {}

    # helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def is_word(self, *words: str) -> bool:
        t = self.tok
        return t.kind == "word" and t.text.lower() in words

    def fail(self, message: str, tok: _Tok | None = None) -> JqlError:
        return self.lex.fail(message, (tok or self.tok).offset)

    # grammar
    def query(self) -> Query:
        where = None
        if self.tok.kind != "eof" and not self._at_order_by():
            where = self.or_expr()
        order: list[tuple[str, str]] = []
        if self._at_order_by():
            self.i += 2
            order = self.order_by()
        if self.tok.kind != "eof":
            raise self.fail(f"Expecting either 'OR' or 'AND' but got '{self.tok.raw}'.")
        return Query(where, order, dict(self.fields))

    def _at_order_by(self) -> bool:
        return (self.is_word("order") and self.toks[self.i + 1].kind == "word"
                and self.toks[self.i + 1].text.lower() == "by")

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.is_word("or"):
            self.i += 1
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while self.is_word("and"):
            self.i += 1
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Node:
        if self.is_word("not"):
            self.i += 1
            return Not(self.not_expr())
        if self.tok.kind == "(":
            self.i += 1
            inner = self.or_expr()
            if self.tok.kind == "eof":
                raise JqlError("Error in the JQL Query: Expecting ')' before the end of the query.")
            if self.tok.kind != ")":
                raise self.fail(f"Expecting ')' but got '{self.tok.raw}'.")
            self.i += 1
            return inner
        return self.clause()

    def field_name(self) -> tuple[str, str]:
        t = self.tok
        if t.kind == "eof":
            raise JqlError("Error in the JQL Query: Expecting a field name at the end of the query.")
        if t.kind == "word":
            if t.text.lower() in _RESERVED_WORDS:
                raise self.fail(f"'{t.text.lower()}' is a reserved JQL word. You must surround it in quotation "
                                "marks to use it in a query.")
        elif t.kind != "string":
            raise self.fail(f"Expecting a field name but got '{t.raw}'. You must surround '{t.raw}' in quotation "
                            "marks to use it as a field name.")
        if not t.text.strip():
            raise self.fail("Expecting a field name but got an empty string.")
        self.i += 1
        name = _canonical(t.text)
        if name in _REJECTED_FIELDS:
            raise JqlError(_REJECTED_FIELDS[name]
                           or f"Field '{t.text}' does not exist or you do not have permission to view it.")
        self.fields.setdefault(name, t.text)
        return name, t.text

    def clause(self) -> Clause | HistoryClause:
        name, spelling = self.field_name()
        op = self.operator(spelling)
        if op in _WAS_OPS or op == "changed":
            return self.history_clause(name, spelling, op)
        if op in ("is", "is not"):
            t = self.tok
            if t.kind == "eof":
                raise JqlError("Error in the JQL Query: Expecting 'EMPTY' or 'NULL' before the end of the query.")
            if not self.is_word("empty", "null"):
                raise self.fail(f"Expecting 'EMPTY' or 'NULL' but got '{t.raw}'. The operator '{op.upper()}' "
                                "only works with EMPTY.")
            self.i += 1
            values: tuple[Value, ...] = (Value("empty"),)
        elif op in ("in", "not in"):
            if self.tok.kind == "word" and self.toks[self.i + 1].kind == "(":
                values = (self.value(),)  # a list function: rejected by value() unless known
            elif self.tok.kind != "(":
                if self.tok.kind == "eof":
                    raise JqlError("Error in the JQL Query: Expecting either a value, list or function before "
                                   "the end of the query.")
                raise self.fail(f"Expecting '(' but got '{self.tok.raw}'. The operator '{op.upper()}' needs a "
                                "list of values, e.g. (A, B).")
            else:
                self.i += 1
                items = [self.value()]
                while self.tok.kind == ",":
                    self.i += 1
                    items.append(self.value())
                if self.tok.kind == "eof":
                    raise JqlError("Error in the JQL Query: Expecting ')' before the end of the query.")
                if self.tok.kind != ")":
                    raise self.fail(f"Expecting ')' but got '{self.tok.raw}'.")
                self.i += 1
                values = tuple(items)
        else:
            if self.tok.kind == "(":
                raise self.fail(f"The operator '{op}' does not support the multi-value operand; use 'IN' for a "
                                "list of values.")
            values = (self.value(),)
            if _KIND.get(name) == _DATE or name not in _KIND:
                values = (self._merge_time(values[0]),)
        c = Clause(name, op, values, spelling)
        _check_clause(c)
        return c

    def operand(self, op: str) -> tuple[Value, ...]:
        """One value, or a parenthesised list (``IN`` forms and ``BY (a, b)``)."""
        if self.tok.kind != "(":
            if op.endswith("in") and not (self.tok.kind == "word" and self.toks[self.i + 1].kind == "("):
                if self.tok.kind == "eof":
                    raise JqlError("Error in the JQL Query: Expecting either a value, list or function before "
                                   "the end of the query.")
                raise self.fail(f"Expecting '(' but got '{self.tok.raw}'. The operator '{op.upper()}' needs a "
                                "list of values, e.g. (A, B).")
            return (self._merge_time(self.value()),)
        if not op.endswith("in") and op != "by":
            raise self.fail(f"The operator '{op}' does not support the multi-value operand; use 'IN' for a "
                            "list of values.")
        self.i += 1
        items = [self._merge_time(self.value())]
        while self.tok.kind == ",":
            self.i += 1
            items.append(self._merge_time(self.value()))
        if self.tok.kind == "eof":
            raise JqlError("Error in the JQL Query: Expecting ')' before the end of the query.")
        if self.tok.kind != ")":
            raise self.fail(f"Expecting ')' but got '{self.tok.raw}'.")
        self.i += 1
        return tuple(items)

    def history_clause(self, name: str, spelling: str, op: str) -> HistoryClause:
        """``WAS`` forms and ``CHANGED`` with their predicates, checked like Jira at parse time."""
        if name not in HISTORY_FIELDS:
            raise JqlError(f"The operator '{op}' is not supported by the '{spelling}' field.")
        values: tuple[Value, ...] = ()
        if op != "changed":
            values = self.operand(op)
        allowed = _CHANGED_PREDICATES if op == "changed" else _WAS_PREDICATES
        preds: list[tuple[str, tuple[Value, ...]]] = []
        while self.tok.kind == "word" and self.tok.text.lower() in _CHANGED_PREDICATES:
            word_tok = self.take()
            word = word_tok.text.lower()
            if word not in allowed:
                raise self.fail(f"The predicate '{word.upper()}' is not supported by the '{op.upper()}' operator.",
                                word_tok)
            if word == "during":
                if self.tok.kind != "(":
                    raise self.fail(f"Expecting '(' but got '{self.tok.raw or 'the end of the query'}'. "
                                    "DURING needs two dates, e.g. DURING (\"2026-01-01\", \"2026-02-01\").")
                self.i += 1
                first = self._merge_time(self.value())
                if self.tok.kind != ",":
                    raise self.fail(f"Expecting ',' but got '{self.tok.raw or 'the end of the query'}'.")
                self.i += 1
                second = self._merge_time(self.value())
                if self.tok.kind != ")":
                    raise self.fail(f"Expecting ')' but got '{self.tok.raw or 'the end of the query'}'.")
                self.i += 1
                operands: tuple[Value, ...] = (first, second)
            elif word in ("after", "before", "on"):
                operands = (self._merge_time(self.value()),)
            else:
                operands = self.operand("by" if word == "by" else "=")
            for v in operands:
                if word in ("after", "before", "on", "during"):
                    if v.kind == "empty" or (v.kind == "func" and v.text not in _DATE_FUNCTIONS):
                        raise JqlError(f"The value provided for the '{word.upper()}' predicate of the '{spelling}' "
                                       "field must be a date.")
                    _date_literal(v, spelling)
                elif word == "by" and (v.kind == "empty" or (v.kind == "func" and v.text != "currentuser")):
                    raise JqlError(f"The value provided for the 'BY' predicate of the '{spelling}' field must be "
                                   "a user.")
                elif word in ("from", "to") and v.kind == "func":
                    raise JqlError(f"A value provided by the function '{v.text}' is invalid for the field "
                                   f"'{spelling}'.")
            preds.append((word, operands))
        for v in values:
            if v.kind == "func":
                raise JqlError(f"A value provided by the function '{v.text}' is invalid for the field '{spelling}'.")
        return HistoryClause(name, op, values, tuple(preds), spelling)

    def _merge_time(self, v: Value) -> Value:
        """Accept an unquoted ``2026-01-01 10:00`` (two words) as one date literal."""
        t = self.tok
        if (v.kind == "lit" and not v.quoted and _ABS_DATE.fullmatch(v.text) and t.kind == "word"
                and re.fullmatch(r"\d{1,2}:\d{2}", t.text)):
            self.i += 1
            return Value("lit", f"{v.text} {t.text}", False)
        return v

    def operator(self, spelling: str) -> str:
        t = self.tok
        if t.kind == "op" and t.text in _ALL_OPS:
            self.i += 1
            return t.text
        if t.kind == "word":
            low = t.text.lower()
            if low == "in":
                self.i += 1
                return "in"
            if low in ("not", "is"):
                self.i += 1
                if low == "not":
                    if not self.is_word("in"):
                        raise self.fail(f"Expecting 'IN' but got '{self.tok.raw or 'the end of the query'}'.")
                    self.i += 1
                    return "not in"
                if self.is_word("not"):
                    self.i += 1
                    return "is not"
                return "is"
            if low == "changed":
                self.i += 1
                return "changed"
            if low == "was":
                self.i += 1
                op = "was"
                if self.is_word("not"):
                    self.i += 1
                    op = "was not"
                if self.is_word("in"):
                    self.i += 1
                    op += " in"
                return op
        if t.kind == "eof":
            raise JqlError(f"Error in the JQL Query: Expecting operator before the end of the query. "
                           f"{_VALID_OPERATORS}")
        raise self.fail(f"Expecting operator but got '{t.raw}'. {_VALID_OPERATORS}")

    def value(self) -> Value:
        t = self.tok
        if t.kind == "string":
            self.i += 1
            return Value("lit", t.text, True)
        if t.kind == "word":
            low = t.text.lower()
            if self.toks[self.i + 1].kind == "(":
                return self.function()
            if low in ("empty", "null"):
                self.i += 1
                return Value("empty")
            if low in _RESERVED_WORDS:
                raise self.fail(f"'{low}' is a reserved JQL word. You must surround it in quotation marks to "
                                "use it in a query.")
            self.i += 1
            return Value("lit", t.text, False)
        if t.kind == "eof":
            raise JqlError("Error in the JQL Query: Expecting either a value, list or function before the end "
                           "of the query.")
        raise self.fail(f"Expecting either a value, list or function but got '{t.raw}'. You must surround "
                        f"'{t.raw}' in quotation marks to use it as a value.")

    def function(self) -> Value:
        name_tok = self.take()
        self.i += 1  # (
        args: list[str] = []
        if self.tok.kind != ")":
            while True:
                t = self.tok
                if t.kind not in ("word", "string"):
                    if t.kind == "eof":
                        raise JqlError("Error in the JQL Query: Expecting ')' before the end of the query.")
                    raise self.fail(f"Expecting a function argument but got '{t.raw}'.")
                args.append(t.text)
                self.i += 1
                if self.tok.kind == ",":
                    self.i += 1
                    continue
                break
            if self.tok.kind == "eof":
                raise JqlError("Error in the JQL Query: Expecting ')' before the end of the query.")
            if self.tok.kind != ")":
                raise self.fail(f"Expecting ')' but got '{self.tok.raw}'.")
        self.i += 1
        fname = name_tok.text.lower()
        if fname not in _FUNCTIONS:
            raise JqlError(f"Unable to find JQL function '{name_tok.text}({', '.join(args)})'.")
        if fname == LINKED_ISSUES:
            if not 1 <= len(args) <= 2:
                raise JqlError(f"Function '{name_tok.text}' expected between '1' and '2' arguments but received "
                               f"'{len(args)}'.")
            if not _key_tuple(args[0]):
                raise JqlError(f"Issue '{args[0]}' could not be found in function '{name_tok.text}'.")
            return Value("func", fname, False, tuple(a.strip() for a in args))
        if fname in ("now", "currentuser") and args:
            raise JqlError(f"Function '{name_tok.text}' expected '0' arguments but received '{len(args)}'.")
        if len(args) > 1:
            raise JqlError(f"Function '{name_tok.text}' expected between '0' and '1' arguments but received "
                           f"'{len(args)}'.")
        if args and not _INCREMENT.fullmatch(args[0].strip()):
            raise JqlError(f"Function '{name_tok.text}' expected '(+/-)nn(y|M|w|d|h|m)' for the parameter but "
                           f"received '{args[0]}'.")
        return Value("func", fname, False, tuple(a.strip() for a in args))

    def order_by(self) -> list[tuple[str, str]]:
        order: list[tuple[str, str]] = []
        seen: set[str] = set()
        while True:
            name, _ = self.field_name()
            direction = "ASC"
            if self.is_word("asc", "desc"):
                direction = self.take().text.upper()
            if name not in seen:  # Jira ignores a repeated sort field (with a warning)
                seen.add(name)
                order.append((name, direction))
            if self.tok.kind != ",":
                break
            self.i += 1
        if len(order) > MAX_ORDER_BY:
            raise JqlError(f"The ORDER BY clause can have at most {MAX_ORDER_BY} fields; this query has "
                           f"{len(order)}.")
        return order


# --------------------------------------------------------------------------------------------- literals

_ABS_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_ABS_DATETIME = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?")
_PERIOD = re.compile(r"([-+]?)\s*((?:\d+\s*[wdhm]?\s*)+)")
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhm]?)")
_INCREMENT = re.compile(r"([-+]?)(\d+)([yMwdhm]?)")
_KEY_RE = re.compile(r"([A-Za-z][A-Za-z0-9_]*)-(\d+)")
_UNIT = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1),
         "": timedelta(minutes=1)}


def _date_literal(v: Value, field_spelling: str) -> Callable[[datetime], datetime]:
    """Validate a date operand now; return how to resolve it against the injected ``now``."""
    if v.kind == "func":
        if v.text not in _DATE_FUNCTIONS:
            raise JqlError(f"A value provided by the function '{v.text}' is invalid for the field "
                           f"'{field_spelling}'.")
        return lambda now, f=v.text, a=v.args: _date_function(f, a, now)
    text = v.text.strip()
    if not v.quoted and text.isdigit():
        ms = int(text)
        return lambda now: _from_epoch_ms(ms, now)
    m = _ABS_DATETIME.fullmatch(text)
    if m:
        y, mo, d, hh, mm = (int(g) if g else 0 for g in m.groups())
        try:
            naive = datetime(y, mo, d, hh, mm)
        except ValueError:
            raise JqlError(f"Date value '{v.text}' for field '{field_spelling}' is invalid. {_DATE_FORMATS}") from None
        return lambda now: naive.replace(tzinfo=now.tzinfo)
    m = _PERIOD.fullmatch(text)
    if m:
        delta = sum((int(n) * _UNIT[u] for n, u in _PERIOD_PART.findall(m.group(2))), timedelta())
        if m.group(1) == "-":
            delta = -delta
        return lambda now: now + delta
    raise JqlError(f"Date value '{v.text}' for field '{field_spelling}' is invalid. {_DATE_FORMATS}")


def _from_epoch_ms(ms: int, now: datetime) -> datetime:
    dt = datetime.fromtimestamp(ms / 1000, timezone.utc)
    return dt.astimezone(now.tzinfo) if now.tzinfo else dt.replace(tzinfo=None)


def _add_months(dt: datetime, months: int) -> datetime:
    y, m = divmod(dt.month - 1 + months, 12)
    year, month = dt.year + y, m + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return dt.replace(year=year, month=month, day=min(dt.day, last))


def _date_function(name: str, args: tuple[str, ...], now: datetime) -> datetime:
    if name == "now":
        return now
    period = name[7:] if name.startswith("startof") else name[5:]
    day0 = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        start, nxt = day0, day0 + timedelta(days=1)
    elif period == "week":
        start = day0 - timedelta(days=day0.weekday())
        nxt = start + timedelta(days=7)
    elif period == "month":
        start = day0.replace(day=1)
        nxt = _add_months(start, 1)
    else:
        start = day0.replace(month=1, day=1)
        nxt = start.replace(year=start.year + 1)
    base = start if name.startswith("start") else nxt - timedelta(milliseconds=1)
    if not args:
        return base
    sign, n, unit = _INCREMENT.fullmatch(args[0]).groups()  # validated by the parser
    amount = -int(n) if sign == "-" else int(n)
    unit = unit or {"day": "d", "week": "w", "month": "M", "year": "y"}[period]
    if unit in ("M", "y"):
        return _add_months(base, amount * (12 if unit == "y" else 1))
    return base + amount * _UNIT[unit]


def _key_tuple(text: str) -> tuple[str, int] | None:
    m = _KEY_RE.fullmatch(text.strip())
    return (m.group(1).upper(), int(m.group(2))) if m else None


def _category(name: str) -> str:
    low = name.lower()
    return _STATUS_CATEGORIES.get(low, low)


def _check_clause(c: Clause) -> None:
    """Reject what Jira rejects for this field, at parse time (before any issue is looked at)."""
    kind = _KIND.get(c.field, _ANY)
    allowed = _OPS_BY_FIELD.get(c.field) or {_TEXT: _EQ_OPS, _KEY: _EQ_OPS, _DATE: _DATE_OPS}.get(kind, _ALL_OPS)
    if c.op not in allowed:
        raise JqlError(f"The operator '{c.op}' is not supported by the '{c.spelling}' field.")
    for v in c.values:
        if v.kind == "func" and v.text == LINKED_ISSUES:
            if c.field != "key" or c.op not in ("in", "not in"):
                raise JqlError(f"The operator '{c.op}' does not support the function 'linkedIssues' for the field "
                               f"'{c.spelling}'.")
            if len(c.values) > 1:
                raise JqlError("The function 'linkedIssues' must be the only operand of 'IN'.")
            continue
        if v.kind == "func":
            if c.op not in _EQ_OPS - {"is", "is not"} and (v.text == "currentuser" or c.op in ("~", "!~")):
                raise JqlError(f"The operator '{c.op}' does not support the function '{v.text}' for the field "
                               f"'{c.spelling}'.")
            if v.text == "currentuser" and c.field not in ("assignee", "reporter") and kind != _ANY:
                raise JqlError(f"A value provided by the function 'currentUser' is invalid for the field "
                               f"'{c.spelling}'.")
            if v.text != "currentuser" and kind not in (_DATE, _ANY):
                raise JqlError(f"A value provided by the function '{v.text}' is invalid for the field "
                               f"'{c.spelling}'.")
        if kind == _DATE and v.kind != "empty":
            _date_literal(v, c.spelling)
        elif kind == _KEY and v.kind == "lit":
            if not _key_tuple(v.text) and not (c.field == "key" and v.text.strip().isdigit()):
                raise JqlError(f"The issue key '{v.text}' for field '{c.spelling}' is invalid.")
        elif c.field == "statuscategory" and v.kind == "lit" and v.text.lower().strip() not in _STATUS_CATEGORIES:
            raise JqlError(f"The value '{v.text}' does not exist for the field '{c.spelling}'.")
        elif c.op in ("~", "!~") and v.kind == "lit":
            _text_terms(v.text, c.spelling)
        elif c.op in ("<", "<=", ">", ">=", "~", "!~") and v.kind == "empty":
            raise JqlError(f"The operator '{c.op}' does not support the value EMPTY for the field '{c.spelling}'.")


# --------------------------------------------------------------------------------------------- evaluation

Pred = Callable[[Any], bool]
_WORD = re.compile(r"\w+")


def _text_terms(text: str, spelling: str) -> list[re.Pattern[str]]:
    """Turn a ``~`` operand into one regex per term (word, ``wild*card`` or exact "phrase"), all required.

    Terms match whole words of the lower-cased text, like Jira's tokenised index (without stemming).
    """
    s = text.strip()
    if not s:
        raise JqlError(f"The field '{spelling}' does not support searching for an empty string.")
    terms = []
    for phrase in re.findall(r'"([^"]*)"', s):
        words = _WORD.findall(phrase.lower())
        if words:
            terms.append(r"\b" + r"\W+".join(re.escape(w) for w in words) + r"\b")
    for raw in re.sub(r'"[^"]*"', " ", s).lower().split():
        if raw[0] in "*?":
            raise JqlError(f"The text query '{text}' for field '{spelling}' is not allowed to start with a "
                           "wildcard character ('*' or '?').")
        if "*" in raw or "?" in raw:
            pat = "".join(r"\w*" if ch == "*" else r"\w" if ch == "?" else re.escape(ch) for ch in raw)
            terms.append(r"\b" + pat + r"\b")
        else:
            terms.extend(r"\b" + re.escape(w) + r"\b" for w in _WORD.findall(raw))
    if not terms:
        raise JqlError(f"The field '{spelling}' does not support searching for an empty string.")
    return [re.compile(t) for t in dict.fromkeys(terms)]


def _contains_pred(name: str, text: str, spelling: str, negate: bool) -> Pred:
    pats = [p.search for p in _text_terms(text, spelling)]

    def pred(a: Any) -> bool:
        v = a.jql_value(name)
        if not v:
            return False
        if type(v) is not str:
            v = " ".join(v) if isinstance(v, (list, tuple)) else str(v)
        low = v.lower()
        for search in pats:
            if search(low) is None:
                return negate
        return not negate

    return pred


class _Compiler:
    """Builds closures for one ``now``; pushes NOT down to the clauses like Jira."""

    def __init__(self, now: datetime):
        self.now = now

    def node(self, n: Node, neg: bool = False) -> Pred:
        if isinstance(n, Not):
            return self.node(n.item, not neg)
        if isinstance(n, Clause):
            op = _NEGATE[n.op] if neg else n.op
            return self.clause(n, op)
        if isinstance(n, HistoryClause):
            hist = self.history_clause(n)
            return (lambda a: not hist(a)) if neg else hist
        parts = [self.node(x, neg) for x in n.items]
        conj = isinstance(n, And) != neg
        return _all(parts) if conj else _any(parts)

    def clause(self, c: Clause, op: str) -> Pred:
        kind = _KIND.get(c.field, _ANY)
        if op in ("~", "!~"):
            return _contains_pred(c.field, c.values[0].text, c.spelling, op == "!~")
        if kind == _DATE:
            return self.date_clause(c, op)
        if kind == _KEY:
            return self.key_clause(c, op)
        if kind in (_TEXT, _SUMMARY):
            return self.text_clause(c, op)
        return self.any_clause(c, op)

    # text ---------------------------------------------------------------------------------------
    def _text_set(self, c: Clause) -> tuple[frozenset[str], bool, bool]:
        lits, has_empty, me = set(), False, False
        for v in c.values:
            if v.kind == "empty" or (c.field == "resolution" and v.kind == "lit" and not v.quoted
                                     and v.text.lower() == "unresolved"):
                has_empty = True
            elif v.kind == "func":
                me = me or v.text == "currentuser"
            else:
                t = v.text.strip().lower()
                lits.add(_STATUS_CATEGORIES.get(t, t) if c.field == "statuscategory" else t)
        return frozenset(lits), has_empty, me

    def text_clause(self, c: Clause, op: str) -> Pred:
        name = c.field
        lits, has_empty, me = self._text_set(c)
        positive = op in ("=", "in", "is")
        norm: Callable[[str], str] = _category if name == "statuscategory" else str.lower
        if me:
            return _with_current_user(name, lits, has_empty, positive, norm)
        if positive:
            if norm is str.lower and not has_empty:
                def pred(a: Any) -> bool:
                    v = a.jql_value(name)
                    if type(v) is str:
                        return v.lower() in lits
                    if v:
                        for x in v:
                            if x.lower() in lits:
                                return True
                    return False
                return pred

            def pred(a: Any) -> bool:
                v = a.jql_value(name)
                if not v:
                    return has_empty
                if type(v) is str:
                    return norm(v) in lits
                for x in v:
                    if norm(x) in lits:
                        return True
                return False
            return pred

        def npred(a: Any) -> bool:
            v = a.jql_value(name)
            if not v:
                return False
            if type(v) is str:
                return norm(v) not in lits
            for x in v:
                if norm(x) in lits:
                    return False
            return True
        return npred

    # history --------------------------------------------------------------------------------------
    def history_clause(self, c: HistoryClause) -> Pred:
        """WAS / CHANGED over the accessor's ``jql_history(field)``: the field's value periods
        ``(start, end or None, aliases, set_by)`` and its changes ``(when, by, from, to)``, where
        values are sets of casefolded names (empty: no value) and ``by`` the author's names."""
        name, now, tz = c.field, self.now, self.now.tzinfo
        spans: list[tuple[datetime, datetime]] = []  # every time predicate narrows to its span
        users: set[str] = set()
        me = False
        wanted_from: list[Value] = []
        wanted_to: list[Value] = []
        for word, operands in c.predicates:
            if word in ("after", "before", "on"):
                moment = _date_literal(operands[0], c.spelling)(now)
                day = datetime(moment.year, moment.month, moment.day, tzinfo=moment.tzinfo or tz)
                spans.append({"after": (moment, _FAR), "before": (_NEAR, moment),
                              "on": (day, day + timedelta(days=1))}[word])
            elif word == "during":
                spans.append((_date_literal(operands[0], c.spelling)(now), _date_literal(operands[1], c.spelling)(now)))
            elif word == "by":
                for v in operands:
                    me = me or v.kind == "func"
                    if v.kind == "lit":
                        users.add(v.text.strip().casefold())
            else:
                (wanted_from if word == "from" else wanted_to).extend(operands)

        def matcher(values: Iterable[Value]) -> Callable[[frozenset[str]], bool]:
            lits = frozenset(v.text.strip().casefold() for v in values if v.kind == "lit")
            empty = any(v.kind == "empty" for v in values)
            return lambda names: (not names and empty) or bool(names & lits)

        def in_spans(start: datetime, end: datetime | None) -> bool:
            end = end or _FAR
            return all(_align(start, _AWARE) < _align(hi, _AWARE) and _align(end, _AWARE) > _align(lo, _AWARE)
                       for lo, hi in spans)

        def by_ok(a: Any, by: frozenset[str]) -> bool:
            if not users and not me:
                return True
            if by & users:
                return True
            return me and str(a.jql_value(CURRENT_USER)).casefold() in by

        if c.op == "changed":
            is_from = matcher(wanted_from) if wanted_from else None
            is_to = matcher(wanted_to) if wanted_to else None

            def changed(a: Any) -> bool:
                for when, by, old, new in a.jql_history(name)[1]:
                    if ((is_from is None or is_from(old)) and (is_to is None or is_to(new))
                            and (not spans or in_spans(when, when + timedelta(milliseconds=1))) and by_ok(a, by)):
                        return True
                return False
            return changed

        is_value = matcher(c.values)

        def was(a: Any) -> bool:
            for start, end, names, by in a.jql_history(name)[0]:
                if is_value(names) and (not spans or in_spans(start, end)) and by_ok(a, by):
                    return True
            return False
        return was if c.op in ("was", "was in") else (lambda a: not was(a))

    # keys ---------------------------------------------------------------------------------------
    def key_clause(self, c: Clause, op: str) -> Pred:
        name = c.field
        if c.values and c.values[0].kind == "func":  # linkedIssues(KEY[, type])
            args = c.values[0].args
            key, link_type = args[0].upper(), (args[1] if len(args) > 1 else None)
            inside = op == "in"

            def linked(a: Any) -> bool:
                return (a.jql_value(name) in a.jql_linked(key, link_type)) == inside
            return linked
        if op in ("<", "<=", ">", ">="):
            lit = c.values[0].text.strip()
            if lit.isdigit():
                return _numeric_pred("id", float(lit), op)
            proj, num = _key_tuple(lit)  # type: ignore[misc]
            cmp = _CMP[op]

            def rel(a: Any) -> bool:
                v = a.jql_value(name)
                if not v:
                    return False
                p, _, n = v.rpartition("-")
                return p.upper() == proj and n.isdigit() and cmp(int(n), num)
            return rel
        keys, ids, has_empty = set(), set(), False
        for v in c.values:
            if v.kind == "empty":
                has_empty = True
            elif v.text.strip().isdigit():
                ids.add(int(v.text))
            else:
                keys.add(v.text.strip().upper())
        keys_f, ids_f = frozenset(keys), frozenset(ids)
        positive = op in ("=", "in", "is")

        def hit(a: Any, v: Any) -> bool:
            if type(v) is str:
                if v in keys_f or v.upper() in keys_f:
                    return True
            elif any(x.upper() in keys_f for x in v):
                return True
            if ids_f:
                i = a.jql_value("id")
                return i is not None and int(i) in ids_f
            return False

        if positive:
            def pred(a: Any) -> bool:
                v = a.jql_value(name)
                return has_empty if not v else hit(a, v)
            return pred

        def npred(a: Any) -> bool:
            v = a.jql_value(name)
            return bool(v) and not hit(a, v)
        return npred

    # dates --------------------------------------------------------------------------------------
    def date_clause(self, c: Clause, op: str) -> Pred:
        name, now = c.field, self.now
        lits = [_date_literal(v, c.spelling)(now) for v in c.values if v.kind != "empty"]
        has_empty = any(v.kind == "empty" for v in c.values)
        tz = now.tzinfo
        if op in ("<", "<=", ">", ">="):
            lit, cmp = lits[0], _CMP[op]

            def rel(a: Any) -> bool:
                v = a.jql_value(name)
                if v is None:
                    return False
                if type(v) is date:
                    v = datetime(v.year, v.month, v.day, tzinfo=tz)
                try:
                    return cmp(v, lit)
                except TypeError:
                    return cmp(_align(v, lit), lit)
            return rel
        aligned = frozenset(_align(x, _AWARE) for x in lits)  # naive means UTC, so one set serves both

        def hit(v: Any) -> bool:
            if type(v) is date:
                v = datetime(v.year, v.month, v.day, tzinfo=tz)
            return _align(v, _AWARE) in aligned

        if op in ("=", "in", "is"):
            def pred(a: Any) -> bool:
                v = a.jql_value(name)
                return has_empty if v is None else hit(v)
            return pred

        def npred(a: Any) -> bool:
            v = a.jql_value(name)
            return v is not None and not hit(v)
        return npred

    # anything else (custom fields): decide by the value's type ------------------------------------
    def any_clause(self, c: Clause, op: str) -> Pred:
        name, spelling = c.field, c.spelling
        if any(v.kind == "func" and v.text in _DATE_FUNCTIONS for v in c.values):
            return self.date_clause(c, op)
        lits, has_empty, me = self._text_set(c)
        if me:
            return _with_current_user(name, lits, has_empty, op in ("=", "in", "is"), str.lower)
        text_pred = self.text_clause(c, op) if op not in ("<", "<=", ">", ">=") else None
        date_pred: list[Pred] = []
        raw = c.values[0]

        def as_date(a: Any) -> bool:
            if not date_pred:
                date_pred.append(self.date_clause(c, op))
            return date_pred[0](a)

        num_pred: list[Pred] = []

        def as_number(a: Any) -> bool:
            if not num_pred:
                num_pred.append(_numeric_pred(name, _number(raw, spelling), op) if op in _CMP
                                else _number_set_pred(name, c, op))
            return num_pred[0](a)

        def pred(a: Any) -> bool:
            v = a.jql_value(name)
            if isinstance(v, (datetime, date)):
                return as_date(a)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return as_number(a)
            if text_pred is not None:
                return text_pred(a)
            if not v:
                return False
            if type(v) is str:  # relational on text: numbers or keys when both sides look like them
                kv, kl = _key_tuple(v), _key_tuple(raw.text)
                if kv and kl:
                    return kv[0] == kl[0] and _CMP[op](kv[1], kl[1])
                try:
                    return _CMP[op](float(v), float(raw.text))
                except ValueError:
                    return _CMP[op](v.lower(), raw.text.lower())
            return False

        return pred


_FAR = datetime(9999, 1, 1, tzinfo=timezone.utc)
_NEAR = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _number(v: Value, spelling: str) -> float:
    try:
        return float(v.text)
    except ValueError:
        raise JqlError(f"The value '{v.text}' for field '{spelling}' is invalid: it must be a number.") from None


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda x, y: x < y, "<=": lambda x, y: x <= y, ">": lambda x, y: x > y, ">=": lambda x, y: x >= y,
}


def _number_set_pred(name: str, c: Clause, op: str) -> Pred:
    nums = frozenset(_number(v, c.spelling) for v in c.values if v.kind != "empty")
    has_empty = any(v.kind == "empty" for v in c.values)
    if op in ("=", "in", "is"):
        def pred(a: Any) -> bool:
            v = a.jql_value(name)
            return has_empty if v is None else float(v) in nums
        return pred

    def npred(a: Any) -> bool:
        v = a.jql_value(name)
        return v is not None and float(v) not in nums
    return npred


def _numeric_pred(name: str, lit: float, op: str) -> Pred:
    cmp = _CMP[op]

    def pred(a: Any) -> bool:
        v = a.jql_value(name)
        if v is None or v == "":
            return False
        return cmp(float(v), lit)
    return pred


_AWARE = datetime(2000, 1, 1, tzinfo=timezone.utc)


def _align(v: datetime, ref: datetime) -> datetime:
    """Make ``v`` comparable with ``ref`` when one is naive and the other aware (naive means UTC)."""
    if (v.tzinfo is None) == (ref.tzinfo is None):
        return v
    if v.tzinfo is None:
        return v.replace(tzinfo=timezone.utc)
    return v.astimezone(timezone.utc).replace(tzinfo=None)


def _with_current_user(name: str, lits: frozenset[str], has_empty: bool, positive: bool,
                       norm: Callable[[str], str]) -> Pred:
    def pred(a: Any) -> bool:
        v = a.jql_value(name)
        if not v:
            return has_empty if positive else False
        me = a.jql_value(CURRENT_USER)
        me = me.lower() if me else None
        hit = False
        for x in [v] if type(v) is str else v:
            x = norm(x)
            if x in lits or x == me:
                hit = True
                break
        return hit if positive else not hit
    return pred


def _all(parts: list[Pred]) -> Pred:
    if len(parts) == 2:
        p, q = parts
        return lambda a: p(a) and q(a)
    if len(parts) == 3:
        p, q, r = parts
        return lambda a: p(a) and q(a) and r(a)
    return lambda a: all(p(a) for p in parts)


def _any(parts: list[Pred]) -> Pred:
    if len(parts) == 2:
        p, q = parts
        return lambda a: p(a) or q(a)
    if len(parts) == 3:
        p, q, r = parts
        return lambda a: p(a) or q(a) or r(a)
    return lambda a: any(p(a) for p in parts)


# --------------------------------------------------------------------------------------------- sorting

_EPOCH_NAIVE = datetime(1970, 1, 1)
_KEYISH = frozenset({"key", "parent", "epic link"})
_EMPTY_LAST = (1,)


class _Reverse(dict):
    """``str.translate`` table mapping every character to its mirror, so DESC strings sort ascending."""

    def __missing__(self, ch: int) -> int:
        self[ch] = 0x10FFFF - ch
        return 0x10FFFF - ch


_REVERSE = _Reverse()
_REVERSE_END = chr(0x10FFFF)  # makes "ab" come before "a" once mirrored


def _sort_part(name: str, desc: bool) -> Callable[[Any], tuple]:
    """One ORDER BY field as a key function: (0, rank, value...) or (1,) for EMPTY, which sorts last."""
    keyish = name in _KEYISH
    sign = -1.0 if desc else 1.0

    def text(s: str) -> str:
        return s.casefold().translate(_REVERSE) + _REVERSE_END if desc else s.casefold()

    def part(a: Any) -> tuple:
        v = a.jql_value(name)
        if v is None or v == "" or v == [] or v == ():
            return _EMPTY_LAST
        if type(v) is str:
            if keyish:
                proj, sep, num = v.rpartition("-")
                if sep and num.isdigit():
                    return (0, 2, text(proj), -int(num) if desc else int(num))
            return (0, 1, text(v))
        if isinstance(v, datetime):
            return (0, 0, sign * (v.timestamp() if v.tzinfo else (v - _EPOCH_NAIVE).total_seconds()))
        if isinstance(v, date):
            return (0, 0, sign * (datetime(v.year, v.month, v.day) - _EPOCH_NAIVE).total_seconds())
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return (0, 0, sign * v)
        return (0, 1, text(", ".join(sorted(str(x) for x in v))))

    return part


# --------------------------------------------------------------------------------------------- query

@dataclass
class Query:
    """A parsed query: ``where`` (AST or None), ``order_by`` and evaluation helpers."""

    where: Node | None
    order_by: list[tuple[str, str]]
    spellings: dict[str, str] = field(default_factory=dict)  # canonical name -> as written
    _compiled: tuple[datetime, Pred] | None = field(default=None, init=False, repr=False, compare=False)
    _parts: list[Callable[[Any], tuple]] | None = field(default=None, init=False, repr=False, compare=False)
    _key: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def key(self) -> str:
        """What the query selects, in which order, as text: queries written differently (spacing,
        redundant parentheses, a client's key window around the scope query) share it when they
        parse alike, so one evaluation serves them all."""
        if self._key is None:
            self._key = f"{self.where!r} ORDER BY {self.order_by!r}"
        return self._key

    @property
    def bounded(self) -> bool:
        """Cloud refuses a search without a restriction (``ORDER BY key`` alone); any WHERE clause counts."""
        return self.where is not None

    @property
    def fields(self) -> set[str]:
        """Canonical names used in WHERE and ORDER BY, for validation against the site's fields."""
        return set(self.spellings)

    def check_fields(self, available: Iterable[str]) -> None:
        """Raise Jira's error for the first field the site lacks (``available`` = canonical names)."""
        have = set(available)
        for name, spelling in self.spellings.items():
            if name not in have:
                raise JqlError(f"Field '{spelling}' does not exist or you do not have permission to view it.")

    def matches(self, accessor: Any, now: datetime) -> bool:
        """Whether the issue behind ``accessor`` is selected; compiles once per distinct ``now``."""
        if self.where is None:
            return True
        compiled = self._compiled  # one attribute read: safe when server threads share a parsed query
        if compiled is None or (compiled[0] is not now and compiled[0] != now):
            compiled = self._compiled = (now, _Compiler(now).node(self.where))
        return compiled[1](accessor)

    def predicate(self, now: datetime) -> Pred:
        """The compiled test for one ``now``: ``filter(q.predicate(now), issues)`` skips per-call checks."""
        if self.where is None:
            return lambda a: True
        return _Compiler(now).node(self.where)

    def sort_key(self, accessor: Any) -> tuple:
        """A key for ``sorted()``; without ORDER BY it is ``()`` (the caller picks Jira's default order)."""
        parts = self._parts
        if parts is None:
            parts = self._parts = [_sort_part(name, d == "DESC") for name, d in self.order_by]
        if len(parts) == 1:
            return parts[0](accessor)
        # one flat tuple compares faster than nested ones; sound because every part starts with its
        # EMPTY flag and a type rank, so two keys only line up further while their parts agree in shape
        out: tuple = ()
        for p in parts:
            out += p(accessor)
        return out


def parse(jql: str) -> Query:
    """Parse JQL; raise :class:`JqlError` for anything real Jira would reject or the sandbox cannot answer."""
    if not isinstance(jql, str):
        raise JqlError("The JQL query must be a string.")
    return _Parser(jql).query()
