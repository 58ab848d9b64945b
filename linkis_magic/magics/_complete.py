"""Tab completion inside ``%%linkis`` cells: options on the magic line, schema names in SQL.

An IPython (>= 8.6) context matcher, registered when the extension loads. ipykernel hands the
whole cell to the completer, so this works in JupyterLab, Notebook 7 and VS Code alike.

* On the ``%%linkis`` line: option names, runTypes, ``--engine`` values (the configured one,
  those used in this session, common labels), ``--api`` values.
* In the body of a SQL cell (not python, scala, shell...): database names; table names after
  FROM / JOIN / INTO / TABLE / UPDATE and after ``db.``; column names after ``alias.`` or
  ``table.`` for tables the cell references, and in SELECT / WHERE / GROUP BY / ORDER BY / ON /
  HAVING for all of them; SQL keywords. Python's own completions are suppressed there.

Names come from :class:`~linkis_magic.magics._catalog.Catalog`; one completion waits on the
network for at most BUDGET seconds in all, and answers with what it has after that.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from linkis_magic._validate import ENGINE_EXAMPLES
from linkis_magic.magics._parse import cell_parser

if TYPE_CHECKING:
    from linkis_magic.magics._catalog import Catalog

__all__ = ["BUDGET", "Completer", "Suggestion", "cell_options", "sql_keywords"]

BUDGET = 0.15  # seconds one completion may wait for the gateway, in all
DEFAULT_DATABASE = "default"

NON_SQL = frozenset({"python", "py", "python3", "pyspark", "scala", "shell", "sh", "bash", "r"})
RUN_TYPES = ("sql", "hql", "python", "py", "scala", "shell", "jdbc", "psql", "tsql", "ngql")
FLAGS = ("-q", "--quiet", "--background", "--no-template")  # cell options taking no value
_KEYWORDS = (
    "select",
    "from",
    "where",
    "group",
    "by",
    "order",
    "having",
    "limit",
    "join",
    "left",
    "right",
    "full",
    "inner",
    "outer",
    "cross",
    "on",
    "as",
    "and",
    "or",
    "not",
    "in",
    "is",
    "null",
    "like",
    "between",
    "case",
    "when",
    "then",
    "else",
    "end",
    "distinct",
    "union",
    "all",
    "insert",
    "into",
    "overwrite",
    "table",
    "values",
    "create",
    "view",
    "drop",
    "alter",
    "with",
    "partition",
    "partitioned",
    "update",
    "delete",
    "set",
    "describe",
    "show",
    "databases",
    "tables",
    "explain",
    "cast",
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "asc",
    "desc",
    "exists",
)

TABLE_CONTEXT = frozenset({"from", "join", "into", "table", "update", "describe", "desc"})
COLUMN_CONTEXT = frozenset({"select", "where", "by", "on", "having", "and", "or", "set", "when"})

_WORD = re.compile(r"[\w$`\".]*$")
# After a table name, a word that is not an alias but the next clause.
_NOT_ALIASES = (
    "where",
    "join",
    "left",
    "right",
    "full",
    "inner",
    "cross",
    "on",
    "group",
    "order",
    "limit",
    "union",
    "select",
    "set",
    "values",
    "partition",
    "having",
    "as",
)
_REFERENCES = re.compile(
    r"\b(?:from|join|into|update|table)\s+([\w`\".]+)"
    r"(?:\s+(?:as\s+)?(?!(?:" + "|".join(_NOT_ALIASES) + r")\b)(\w+))?",
    re.IGNORECASE,
)
_EXTRA_FROM = re.compile(r",\s*([\w`\".]+)(?:\s+(?:as\s+)?(\w+))?", re.IGNORECASE)


@functools.cache
def cell_options() -> tuple[str, ...]:
    """The long option names of ``%%linkis``, read from its parser (one list, never two)."""
    names = [
        max(action.option_strings, key=len)
        for action in cell_parser()._actions
        if action.option_strings
    ]
    return tuple(sorted(names, key=lambda n: n == "--help"))


def sql_keywords(prefix: str) -> list[str]:
    """Keywords starting with ``prefix``, in its case (upper when it starts upper)."""
    low = prefix.lower()
    upper = prefix[:1].isupper()
    return [k.upper() if upper else k for k in _KEYWORDS if k.startswith(low)]


@dataclass(frozen=True)
class Suggestion:
    """One completion: the text to insert and what kind of name it is."""

    text: str
    kind: str


@dataclass(frozen=True)
class Answer:
    """What a completion request gets: the fragment replaced, suggestions, and whether the
    shell's own (Python) completions must be left out."""

    fragment: str
    suggestions: list[Suggestion]
    suppress: bool


def _unquote(name: str) -> str:
    return name.strip('`"')


@dataclass
class Reference:
    """A table the cell names, with its alias (``from sales.orders o``)."""

    database: str
    table: str
    alias: str | None


def references(sql: str) -> list[Reference]:
    """The tables a SQL text names after FROM / JOIN / INTO / UPDATE / TABLE, with aliases."""
    found: list[Reference] = []
    for match in _REFERENCES.finditer(sql):
        candidates = [(match.group(1), match.group(2), match.end())]
        rest = sql[match.end() :]
        for extra in _EXTRA_FROM.finditer(rest):
            if extra.start() != 0 and rest[: extra.start()].strip():
                break
            candidates.append((extra.group(1), extra.group(2), 0))
            rest = rest[extra.end() :]
        for name, alias, _ in candidates:
            parts = [_unquote(p) for p in name.split(".") if p]
            if not parts or parts[-1].lower() in _KEYWORDS:
                continue
            database = parts[-2] if len(parts) >= 2 else DEFAULT_DATABASE
            found.append(Reference(database, parts[-1], alias))
    return found


class Completer:
    """Builds completions for a cell; ``catalog`` gives names (None: keywords only)."""

    def __init__(
        self,
        catalog: Callable[[str | None], Catalog | None],
        engines: Callable[[str | None], Iterable[str]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # both take the connection the cell's line names with -C (None: the current one)
        self._catalog_of = catalog
        self._engines_of = engines
        self._connection: str | None = None
        self._clock = clock

    def _catalog(self) -> Catalog | None:
        return self._catalog_of(self._connection)

    def _engines(self) -> Iterable[str]:
        return self._engines_of(self._connection)

    def complete(self, text: str, offset: int) -> Answer | None:
        """Completions at ``offset`` of a cell's ``text``; None when the cell is not ours."""
        if not text.startswith("%%linkis"):
            return None
        first_line_end = text.find("\n")
        self._connection = self._connection_of(
            text if first_line_end == -1 else text[:first_line_end]
        )
        if first_line_end == -1 or offset <= first_line_end:
            return self._magic_line(text[:offset])
        run_type = self._run_type(text[:first_line_end])
        if run_type.lower() in NON_SQL:
            return None
        body = text[first_line_end + 1 :]
        return self._sql(body, offset - first_line_end - 1)

    @staticmethod
    def _connection_of(line: str) -> str | None:
        """The connection a ``-C NAME`` / ``--connection NAME`` on the line names."""
        words = line.split()
        for i, word in enumerate(words):
            if word in ("-C", "--connection") and i + 1 < len(words):
                return words[i + 1]
            if word.startswith("--connection="):
                return word.partition("=")[2] or None
        return None

    # ------------------------------------------------------------------ the magic line

    @staticmethod
    def _run_type(line: str) -> str:
        words = line.split()[1:]
        skip = False
        for word in words:
            if skip:
                skip = False
                continue
            if word.startswith("-"):
                skip = "=" not in word and word not in FLAGS
                continue
            return word
        return "sql"

    def _magic_line(self, before: str) -> Answer:
        words = before.split()
        fragment = "" if before.endswith((" ", "\t")) else (words[-1] if len(words) > 1 else "")
        previous = words[-1] if fragment == "" else (words[-2] if len(words) > 2 else "")
        if previous in ("-e", "--engine"):
            engines = dict.fromkeys([*self._engines(), *ENGINE_EXAMPLES.values()])
            return self._answer(fragment, [(e, "engine") for e in engines])
        if previous == "--api":
            return self._answer(fragment, [("v1", "api"), ("v0", "api")])
        if fragment.startswith("-"):
            return self._answer(fragment, [(o, "option") for o in cell_options()])
        positional = [w for w in words[1:] if not w.startswith("-")]
        if not positional or (fragment and positional == [fragment]):
            return self._answer(fragment, [(r, "runType") for r in RUN_TYPES])
        return Answer(fragment, [], suppress=True)

    @staticmethod
    def _answer(fragment: str, items: Sequence[tuple[str, str]]) -> Answer:
        """The suggestions starting with ``fragment``. When there are none, the fragment itself
        is the one suggestion: IPython only lets a matcher with something to offer keep the
        others out, and Python's names (``from em`` -> the ``email`` module) do not belong in a
        SQL cell."""
        low = fragment.lower()
        chosen = [Suggestion(t, k) for t, k in items if t.lower().startswith(low)]
        if not chosen and fragment:
            chosen = [Suggestion(fragment, "typed")]
        return Answer(fragment, chosen, suppress=True)

    # ------------------------------------------------------------------ SQL bodies

    def _sql(self, body: str, offset: int) -> Answer:
        before = body[:offset]
        token = _WORD.search(before)
        word = token.group(0) if token else ""
        deadline = self._clock() + BUDGET
        catalog = self._catalog()
        if "." in word:
            qualifier, fragment = word.rsplit(".", 1)
            found = self._after_dot(catalog, _unquote(qualifier), body, deadline)
            return self._answer(fragment, found)
        previous = self._previous_word(before[: len(before) - len(word)])
        names: list[tuple[str, str]] = []
        if previous in TABLE_CONTEXT:
            names += self._tables(catalog, DEFAULT_DATABASE, deadline)
            names += self._databases(catalog, deadline)
        elif previous in COLUMN_CONTEXT or previous == ",":
            names += self._referenced_columns(catalog, body, deadline)
            names += [(r.alias, "alias") for r in references(body) if r.alias]
            names += [(k, "keyword") for k in sql_keywords(word)]
        else:
            names += [(k, "keyword") for k in sql_keywords(word)]
            names += self._databases(catalog, deadline)
        return self._answer(word, list(dict.fromkeys(names)))

    @staticmethod
    def _previous_word(text: str) -> str:
        stripped = text.rstrip()
        if stripped.endswith(","):
            return ","
        match = re.search(r"([A-Za-z_]+)\s*$", stripped)
        return match.group(1).lower() if match else ""

    def _after_dot(
        self, catalog: Catalog | None, qualifier: str, body: str, deadline: float
    ) -> list[tuple[str, str]]:
        """``db.`` -> its tables; ``alias.``/``table.``/``db.table.`` -> the table's columns."""
        parts = qualifier.split(".")
        if len(parts) == 2:
            return self._columns(catalog, parts[0], parts[1], deadline)
        low = qualifier.lower()
        for ref in references(body):
            if low in ((ref.alias or "").lower(), ref.table.lower()):
                return self._columns(catalog, ref.database, ref.table, deadline)
        databases = self._databases(catalog, deadline)
        if any(name.lower() == low for name, _ in databases):
            return self._tables(catalog, qualifier, deadline)
        return self._columns(catalog, DEFAULT_DATABASE, qualifier, deadline)

    def _databases(self, catalog: Catalog | None, deadline: float) -> list[tuple[str, str]]:
        names = None if catalog is None else catalog.peek_databases(deadline)
        return [(n, "database") for n in names or ()]

    def _tables(
        self, catalog: Catalog | None, database: str, deadline: float
    ) -> list[tuple[str, str]]:
        tables = None if catalog is None else catalog.peek_tables(database, deadline)
        return [(t.name, "view" if t.is_view else "table") for t in tables or ()]

    def _columns(
        self, catalog: Catalog | None, database: str, table: str, deadline: float
    ) -> list[tuple[str, str]]:
        columns = None if catalog is None else catalog.peek_columns(database, table, deadline)
        return [(c.name, "column") for c in columns or ()]

    def _referenced_columns(
        self, catalog: Catalog | None, body: str, deadline: float
    ) -> list[tuple[str, str]]:
        names: list[tuple[str, str]] = []
        for ref in references(body):
            names += self._columns(catalog, ref.database, ref.table, deadline)
        return names


def matcher(completer: Completer) -> Callable[[Any], Any]:
    """The IPython context matcher (Matcher API v2) around ``completer``."""
    from IPython.core.completer import SimpleCompletion, SimpleMatcherResult, context_matcher

    @context_matcher()  # type: ignore[untyped-decorator]
    def linkis_matcher(context: Any) -> Any:
        lines = context.full_text.split("\n")
        offset = sum(len(line) + 1 for line in lines[: context.cursor_line])
        answer = completer.complete(context.full_text, offset + context.cursor_position)
        if answer is None:
            answer = Answer("", [], suppress=False)
        return SimpleMatcherResult(
            completions=[SimpleCompletion(text=s.text, type=s.kind) for s in answer.suggestions],
            matched_fragment=answer.fragment,
            suppress=answer.suppress,
            do_not_suppress=set(),
            ordered=True,
        )

    return linkis_matcher  # type: ignore[no-any-return]
