"""Time and peak memory of analysing one long text, printed (never asserted).

    python benchmarks/long_text.py [--sizes 10000,100000,400000,1000000] [--short-lines] [--model DIR]

A text of each size (in characters; the runtime refuses more than slant.runtime.MAX_CHARACTERS)
is built from the shipped example article's body paragraphs, repeated under its title, and
analysed in a process of its own on 2 threads, as `slant analyze` would (full analysis: genre,
frames, techniques, spans). Printed per size: word pieces, seconds, characters per second, and
peak RSS of that process, with the RSS of the same process before analysing (model loaded)
so that what the text itself costs is read off as the difference. Long texts are what corpus
mode meets in reports and books; the per-piece encoder states are held for the whole text
(docs/model-history.md, "One window per encoder run"), so memory grows with its length.

``--short-lines`` builds the text from one short line of ours (``SHORT_LINE``) repeated, one per line: tens of
thousands of paragraphs, each with its labels and spans, where anything done per paragraph for every
other paragraph shows (a text of 70,000 such lines took 62 s to analyse and 95 s to report before session 33).
The seconds of the text report (`slant analyze`'s default output) are printed beside the analysis's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "article900000001.txt"
SHORT_LINE = "The corrupt elite are lying to you again. Wake up!"


def long_text(chars: int, short_lines: bool = False) -> str:
    """The example article's title, then its body paragraphs (or, ``short_lines``, ``SHORT_LINE``, one per line)
    repeated until the text holds ``chars`` characters."""
    title, _, body = EXAMPLE.read_text(encoding="utf-8").partition("\n")
    paragraphs = [line for line in body.splitlines() if line.strip()]
    if short_lines:
        paragraphs = [SHORT_LINE]
    out, n, i = [title, ""], len(title) + 2, 0
    while n < chars:
        line = paragraphs[i % len(paragraphs)]
        out += [line] if short_lines else [line, ""]
        n += len(line) + (1 if short_lines else 2)
        i += 1
    return "\n".join(out)[:chars]


def _child(chars: int, model: str | None, short_lines: bool) -> None:
    from slant import Document
    from slant.render import text_report
    from slant.runtime import load_detector
    from slant.windows import tokenize

    detector = load_detector(model, threads=2)
    text = long_text(chars, short_lines)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    doc = detector.analyze(Document("long", text, language="en"))
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    text_report(doc)
    report = time.perf_counter() - start
    pieces = len(tokenize(detector.tokenizer, text))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"chars": len(text), "pieces": pieces, "seconds": seconds, "report": report, "loaded": loaded,
                      "peak": peak,
                      "paragraphs": len(doc.paragraphs), "spans": len(doc.spans)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,400000,1000000",
                        help="Text lengths in characters, comma-separated.")
    parser.add_argument("--short-lines", action="store_true",
                        help="Build the text from one short paragraph per line (tens of thousands of paragraphs).")
    parser.add_argument("--model", default=None, help="A model folder (default: the shipped model).")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _child(args.child, args.model, args.short_lines)
        return
    env = os.environ | {"OMP_NUM_THREADS": "2", "SLANT_THREADS": "2", "HF_HUB_OFFLINE": "1"}
    print(f"{'characters':>11} {'paragraphs':>10} {'spans':>7} {'pieces':>8} {'seconds':>8} {'chars/s':>9} "
          f"{'report s':>8} {'RSS loaded':>11} {'peak RSS':>9} {'text costs':>11}")
    for size in (int(s) for s in args.sizes.split(",")):
        cmd = ([sys.executable, __file__, "--child", str(size)] + (["--model", args.model] if args.model else [])
               + (["--short-lines"] if args.short_lines else []))
        r = json.loads(subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout)
        mb = 2 ** 20
        print(f"{r['chars']:>11,} {r['paragraphs']:>10,} {r['spans']:>7,} {r['pieces']:>8,} {r['seconds']:>8.2f} "
              f"{r['chars'] / r['seconds']:>9,.0f} {r['report']:>8.2f} "
              f"{r['loaded'] / mb:>8,.0f} MB {r['peak'] / mb:>6,.0f} MB {(r['peak'] - r['loaded']) / mb:>8,.0f} MB")


if __name__ == "__main__":
    main()
