"""``run_batch``: a corpus in, Parquet tables out, resumable.

The driver (this process) reads and hashes the inputs, skips what an earlier
run already committed, sends new articles to the engine in small batches, and
commits results every ``chunk_size`` inputs or ``commit_seconds`` — whichever
comes first.  Killed at any moment, the same call resumes: committed chunks are
kept, everything after them is done again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .engine import local_workers, make_engine
from .records import Corpus, Record
from .store import Store

__all__ = ["run_batch", "BatchSummary", "model_identity"]

BATCH_SIZE = 8  # articles per task sent to a worker: small, so progress moves smoothly


@dataclass
class BatchSummary:
    out: Path
    inputs: int = 0          # records in the inputs
    resumed: int = 0         # inputs skipped: already accounted for by an earlier run
    analysed: int = 0        # new article rows
    errors: int = 0          # new error rows
    duplicates: int = 0      # new duplicate rows
    repeated: int = 0        # the same origin given twice in this run's inputs
    spans: int = 0
    chunks: int = 0          # chunks committed by this run
    seconds: float = 0.0
    workers: int = 0
    engine: str = "local"
    peak_rss: dict[int, int] = field(default_factory=dict)  # worker pid -> its peak RSS in bytes
    totals: dict[str, int] = field(default_factory=dict)    # rows in the output after this run

    @property
    def rate(self) -> float:
        """Articles analysed per second of this run: bad inputs and duplicates, refused or skipped without the
        model, are not counted (they made the rate of a run with many of them look faster than its analysis)."""
        return self.analysed / self.seconds if self.seconds else 0.0


def model_identity(model: str | Path | None, thresholds: str = "micro") -> dict:
    """Name and digest of the model (``models.model_digest``: files, thresholds, heads — checked against its
    manifest), and its operating point when it is not the default: the output remembers them, so a resumed
    run cannot mix two."""
    from ..models import load_artifact, model_digest
    from ..runtime import paragraph_thresholds

    artifact = load_artifact(model)
    paragraph_thresholds(artifact, thresholds)  # refused here, before the output folder is touched
    identity = {"name": artifact.manifest.get("name") or artifact.path.name,
                "sha256": model_digest(artifact.manifest)}
    return identity if thresholds == "micro" else {**identity, "thresholds": thresholds}


def run_batch(inputs: list[str], out: str | Path, *, model: str | Path | None = None, workers: int = 1,
              threads: int | None = None, engine: str = "local", address: str | None = None, thresholds: str = "micro",
              language: str | None = None, chunk_size: int = 1000, commit_seconds: float = 60.0,
              fetch_options: dict | None = None, columns: dict[str, str] | None = None,
              on_start: Callable[[int, int], None] | None = None,
              on_advance: Callable[[int], None] | None = None) -> BatchSummary:
    """Analyse every article of ``inputs`` into the tables under ``out``; see the module text.

    ``language`` is the language of the records that do not give their own (``slant.language``: the model
    reads English, a text that reads as another language is an error unless declared English).
    ``columns`` reads a table's columns as slant's fields (``{"text": "body", "source": "media_name"}``).
    ``fetch_options`` go to ``slant.fetch.fetch`` for the rows that name their article by its address (e.g.
    ``{"allow": slant.fetch.AllowOnly((address, port))}`` for a server of one's own on a private address).
    ``on_start(total, already_done)`` and ``on_advance(n)`` report progress."""
    corpus = Corpus(inputs, exclude=out, columns=columns)
    if engine == "local":
        workers = local_workers(workers)
    identity = model_identity(model, thresholds)
    if columns:   # another reading of the same rows is another output (their origins would count as done)
        identity["columns"] = [f"{field}={name}" for field, name in sorted(columns.items())]
    store = Store.open(out, identity)
    done_origins, keys = store.done()
    summary = BatchSummary(Path(out), inputs=len(corpus), workers=workers, engine=engine)
    advance = on_advance or (lambda n: None)
    pending: dict[str, list[dict]] = {"articles": [], "spans": [], "errors": [], "duplicates": []}
    state = {"rows": 0, "since": time.monotonic()}
    seen: set[str] = set()

    def add(table: str, row: dict) -> None:
        pending[table].append(row)
        state["rows"] += 1

    def commit(force: bool = False) -> None:
        if not state["rows"]:
            return
        if force or state["rows"] >= chunk_size or time.monotonic() - state["since"] >= commit_seconds:
            store.commit(pending)
            summary.chunks += 1
            for rows in pending.values():
                rows.clear()
            state["rows"], state["since"] = 0, time.monotonic()

    def batches():
        batch: list[Record] = []
        for record in corpus:
            if record.origin in done_origins:
                summary.resumed += 1
                continue
            if record.origin in seen:
                summary.repeated += 1
                advance(1)
                continue
            seen.add(record.origin)
            if record.error is not None:
                add("errors", {"origin": record.origin, "id": record.id, "source": record.source, "key": None,
                               "reason": record.error})
                summary.errors += 1
                advance(1)
            elif record.key in keys:
                add("duplicates", {"origin": record.origin, "id": record.id, "source": record.source,
                                   "key": record.key, "same_as": keys[record.key]})
                summary.duplicates += 1
                advance(1)
            else:
                keys[record.key] = record.origin
                record.language = record.language or language
                batch.append(record)
                if len(batch) >= BATCH_SIZE:
                    yield batch
                    batch = []
            commit()
        if batch:
            yield batch

    if on_start:  # the bar starts at what an earlier run did (exact when the same command is run again)
        on_start(summary.inputs, min(len(done_origins), summary.inputs))
    started = time.monotonic()
    try:
        with make_engine(engine, None if model is None else str(model), workers, threads, address,
                         thresholds, fetch_options) as runner:
            for outcomes, pid, peak in runner.map(batches()):
                for o in outcomes:
                    r = o.record
                    if o.error is not None:
                        add("errors", {"origin": r.origin, "id": r.id, "source": r.source, "key": r.key,
                                       "reason": o.error})
                        summary.errors += 1
                    else:
                        add("articles", o.article)
                        pending["spans"].extend(o.spans)
                        summary.analysed += 1
                        summary.spans += len(o.spans)
                summary.peak_rss[pid] = max(peak, summary.peak_rss.get(pid, 0))
                advance(len(outcomes))
                commit()
    finally:
        commit(force=True)  # what finished before an error or Ctrl-C is kept
        summary.seconds = time.monotonic() - started
        summary.totals = store.counts()
    return summary
