"""Corpus mode: many articles in, Parquet tables out — resumable, queryable with DuckDB, charted.

    from slant.corpus import run_batch, connect
    summary = run_batch(["articles/", "more.jsonl"], "out/", workers=2)
    connect("out/").sql("SELECT technique, count(*) FROM spans GROUP BY 1").show()

Modules: ``records`` (inputs), ``work`` (what a worker does), ``engine`` (local
processes or Ray), ``store`` (the chunked Parquet output), ``batch`` (the driver),
``query`` (DuckDB views), ``dashboard`` (the offline HTML dashboard).
"""

from .batch import BatchSummary, run_batch
from .query import connect, run_query

__all__ = ["BatchSummary", "run_batch", "connect", "run_query"]
