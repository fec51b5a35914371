"""Corpus-mode throughput: `slant batch` on 1 and 2 workers, and on Ray; printed, never asserted.

    python benchmarks/corpus.py [--articles 2000] [--data ../shared/data] [--model DIR] [--no-ray]

Builds a few thousand synthetic but realistic articles at run time (never committed)
from the unlabeled English dev and test articles of ../shared/data: each takes the
title of one article and as many paragraphs as another real article has, drawn from
all of them, a source from 12 outlets and a date in 2024, so lengths and vocabulary
are those of real news (the script prints both mean lengths).  Then, in one
run, each into a fresh output folder:

  * local engine, 1 worker  x 1 inference thread
  * local engine, 2 workers x 1 inference thread each
  * Ray engine (local runtime), 2 workers x 1 thread each

and prints articles/s (wall time of the whole job: startup, model loading, commits),
the 2-worker / 1-worker speed-up (goal >= 1.8x), peak RSS per worker, and the
Ray / local overhead ratio (wall time of Ray over local at 2 workers).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUTLETS = [f"outlet-{c}" for c in "abcdefghijkl"]


def build_corpus(data: Path, n: int, path: Path, seed: int = 2023) -> tuple[int, float]:
    """Write ``n`` synthetic articles as JSONL; returns the number of source articles and their mean length."""
    en = data / "semeval2023" / "en"
    files = sorted((en / "dev-articles").glob("article*.txt")) + sorted((en / "test-articles").glob("article*.txt"))
    if not files:
        sys.exit(f"no articles under {en}/dev-articles or test-articles")
    docs = []
    for f in files:
        lines = [line for line in f.read_text(encoding="utf-8").split("\n") if line.strip()]
        if len(lines) >= 2:
            docs.append((lines[0], lines[1:]))
    paragraphs = [p for _, body in docs for p in body]
    rng = random.Random(seed)
    start = dt.date(2024, 1, 1)
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            title, _ = rng.choice(docs)
            body = rng.sample(paragraphs, len(rng.choice(docs)[1]))
            out.write(json.dumps({"id": f"syn{i}", "title": title, "source": rng.choice(OUTLETS),
                                  "date": (start + dt.timedelta(days=rng.randrange(366))).isoformat(),
                                  "text": title + "\n\n" + "\n\n".join(body) + "\n"}) + "\n")
    return len(docs), sum(len(t) + sum(len(p) for p in b) for t, b in docs) / len(docs)


def run(corpus: Path, out: Path, engine: str, workers: int, model: str | None) -> dict:
    from slant.corpus.batch import run_batch

    t = time.perf_counter()
    s = run_batch([str(corpus)], out, model=model, workers=workers, threads=1, engine=engine, chunk_size=500)
    wall = time.perf_counter() - t
    assert s.analysed + s.errors + s.duplicates == s.inputs, s
    return {"engine": engine, "workers": workers, "articles": s.analysed, "seconds": round(wall, 1),
            "articles_per_s": round(s.analysed / wall, 2),
            "peak_rss_mb_per_worker": sorted(round(v / 2**20) for v in s.peak_rss.values())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--model", default=None, help="model folder (default: the shipped one)")
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray run")
    args = ap.parse_args()
    import os

    with tempfile.TemporaryDirectory(prefix="slant-corpus-bench-") as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus.jsonl"
        used, real_mean = build_corpus(args.data, args.articles, corpus)
        with open(corpus, encoding="utf-8") as f:
            mean = sum(len(json.loads(line)["text"]) for line in f) / args.articles
        print(f"corpus: {args.articles} synthetic articles built from {used} dev/test articles; mean length "
              f"{mean:,.0f} characters (real: {real_mean:,.0f}); {os.cpu_count()} CPUs", flush=True)
        results = []
        plan = [("local", 1), ("local", 2)] + ([] if args.no_ray else [("ray", 2)])
        for engine, workers in plan:
            r = run(corpus, tmp / f"out-{engine}-{workers}", engine, workers, args.model)
            results.append(r)
            print(json.dumps(r), flush=True)
        one, two = results[0], results[1]
        summary = {"speedup_2_vs_1_workers": round(two["articles_per_s"] / one["articles_per_s"], 2),
                   "goal": ">= 1.8"}
        if not args.no_ray:
            summary["ray_over_local_wall_time_2_workers"] = round(results[2]["seconds"] / two["seconds"], 3)
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
