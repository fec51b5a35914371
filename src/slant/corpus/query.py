"""DuckDB over a batch output: views ``articles``, ``spans``, ``errors``, ``duplicates``, and
``techniques`` (one row per article and technique, from ``articles.technique_stats``).

Views read the committed parts only, so a query never sees a half-written chunk.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..errors import SlantError
from .store import TABLES, Store

__all__ = ["connect", "run_query", "narrow", "Selection"]

TECHNIQUES_VIEW = """
CREATE VIEW techniques AS
SELECT a.key, a.id, a.source, a.date, a.genre, t.technique, t.paragraphs, t.spans, t.max_score
FROM articles a, UNNEST(a.technique_stats) AS u(t)
"""


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def connect(out: str | Path):
    """An in-memory DuckDB connection with the output's views registered."""
    import duckdb

    store = Store.read(out)
    con = duckdb.connect(":memory:")
    for table in TABLES:
        parts = store.parts(table)
        if parts:
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet({_sql_list(parts)})")
        else:  # nothing committed yet: an empty view with the table's columns
            import pyarrow as pa

            from .store import SCHEMAS

            empty = pa.Table.from_pylist([], schema=SCHEMAS[table])
            con.register(f"_{table}_empty", empty)
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM _{table}_empty")
    con.execute(TECHNIQUES_VIEW)
    return con


class Selection:
    """Which articles of an output to look at: by source, by date (inclusive; articles without a date are then
    left out) and by any SQL condition over the ``articles`` view's columns. Empty: all of them."""

    def __init__(self, sources: tuple[str, ...] = (), since=None, until=None, where: str | None = None):
        self.sources, self.since, self.until = tuple(sources), since, until
        self.where = where.strip() if where and where.strip() else None

    def __bool__(self) -> bool:
        return bool(self.sources or self.since or self.until or self.where)

    def sql(self) -> str:
        """The condition, as SQL over ``articles``."""
        parts = []
        if self.sources:
            parts.append("source IN (" + ", ".join(_literal(s) for s in self.sources) + ")")
        if self.since:
            parts.append(f"date >= DATE '{self.since.isoformat()}'")
        if self.until:
            parts.append(f"date <= DATE '{self.until.isoformat()}'")
        if self.where:
            parts.append(f"({self.where})")
        return " AND ".join(parts) or "TRUE"

    def __str__(self) -> str:
        """In words, for a page's header: "source herald or gazette · from 2024-02-01 · where genre = 'opinion'"."""
        parts = []
        if self.sources:
            parts.append("source " + " or ".join(self.sources))
        if self.since and self.until:
            parts.append(f"{self.since.isoformat()} to {self.until.isoformat()}")
        elif self.since or self.until:
            parts.append(f"from {self.since.isoformat()}" if self.since else f"to {self.until.isoformat()}")
        if self.where:
            parts.append(f"where {self.where}")
        return " · ".join(parts)


def _first_line(ex: Exception) -> str:
    """DuckDB's message in one line (its first: the rest is a caret under the SQL, or hints)."""
    return str(ex).strip().splitlines()[0] if str(ex).strip() else ex.__class__.__name__


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def narrow(con, selection: Selection) -> int:
    """Make the connection's ``articles``, ``spans`` and ``techniques`` views hold only the articles ``selection``
    picks (``errors`` and ``duplicates`` stay whole: they are not articles); the number of articles in the whole
    output. SlantError with DuckDB's first message line when the condition is not valid SQL over ``articles``."""
    import duckdb

    total = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    if not selection:
        return total
    try:
        con.execute(f"SELECT count(*) FROM articles WHERE {selection.sql()}").fetchone()
    except duckdb.Error as ex:
        raise SlantError(f"--where {selection.where}: not a condition on the articles' columns "
                         f"({_first_line(ex)})") from None
    con.execute("ALTER VIEW articles RENAME TO all_articles")
    con.execute("ALTER VIEW spans RENAME TO all_spans")
    con.execute(f"CREATE VIEW articles AS SELECT * FROM all_articles WHERE {selection.sql()}")
    # the techniques view reads "articles": bound when it is read, it now reads the chosen ones
    con.execute("CREATE VIEW spans AS SELECT * FROM all_spans WHERE key IN (SELECT key FROM articles)")
    return total


def run_query(out: str | Path, sql: str, fmt: str = "table") -> str:
    """The result of ``sql`` over the output as text: a table (DuckDB's: at most 40 rows shown),
    csv (lists and structs as JSON), json (a list of objects) or jsonl.  SlantError with DuckDB's first message line on bad SQL."""
    import duckdb

    if not sql.strip():
        raise SlantError('no SQL to run: give a query, e.g. "SELECT genre, count(*) FROM articles GROUP BY genre"')
    con = connect(out)
    try:
        rel = con.sql(sql)
        if rel is None:
            return ""
        if fmt == "table":
            return str(rel)
        names, rows = rel.columns, rel.fetchall()
    except duckdb.Error as ex:
        raise SlantError(f"query failed: {_first_line(ex)}") from None
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([_cell(v) for v in row] for row in rows)
        return buf.getvalue()
    records = [dict(zip(names, row)) for row in rows]
    if fmt == "json":
        return json.dumps(records, indent=2, ensure_ascii=False, default=str) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
    raise SlantError(f"unknown query output format {fmt!r}")


def _cell(value):
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value
