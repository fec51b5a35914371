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

__all__ = ["connect", "run_query"]

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
        first = str(ex).strip().splitlines()[0] if str(ex).strip() else ex.__class__.__name__
        raise SlantError(f"query failed: {first}") from None
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
