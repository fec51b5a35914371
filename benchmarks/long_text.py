"""Time and peak memory of analysing one long text, printed (never asserted).

    python benchmarks/long_text.py [--sizes 10000,100000,400000,1000000] [--model DIR]

A text of each size (in characters; the runtime refuses more than slant.runtime.MAX_CHARACTERS)
is built from the shipped example article's body paragraphs, repeated under its title, and
analysed in a process of its own on 2 threads, as `slant analyze` would (full analysis: genre,
frames, techniques, spans). Printed per size: word pieces, seconds, characters per second, and
peak RSS of that process, with the RSS of the same process before analysing (model loaded)
so that what the text itself costs is read off as the difference. Long texts are what corpus
mode meets in reports and books; the per-piece encoder states are held for the whole text
(docs/model-history.md, "One window per encoder run"), so memory grows with its length.
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


def long_text(chars: int) -> str:
    """The example article's title, then its body paragraphs repeated until the text holds ``chars`` characters."""
    title, _, body = EXAMPLE.read_text(encoding="utf-8").partition("\n")
    paragraphs = [line for line in body.splitlines() if line.strip()]
    out, n, i = [title, ""], len(title) + 2, 0
    while n < chars:
        line = paragraphs[i % len(paragraphs)]
        out += [line, ""]
        n += len(line) + 2
        i += 1
    return "\n".join(out)[:chars]


def _child(chars: int, model: str | None) -> None:
    from slant import Document
    from slant.runtime import load_detector
    from slant.windows import tokenize

    detector = load_detector(model, threads=2)
    text = long_text(chars)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    doc = detector.analyze(Document("long", text, language="en"))
    seconds = time.perf_counter() - start
    pieces = len(tokenize(detector.tokenizer, text))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"chars": len(text), "pieces": pieces, "seconds": seconds, "loaded": loaded, "peak": peak,
                      "paragraphs": len(doc.paragraphs), "spans": len(doc.spans)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,400000,1000000",
                        help="Text lengths in characters, comma-separated.")
    parser.add_argument("--model", default=None, help="A model folder (default: the shipped model).")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _child(args.child, args.model)
        return
    env = os.environ | {"OMP_NUM_THREADS": "2", "SLANT_THREADS": "2", "HF_HUB_OFFLINE": "1"}
    print(f"{'characters':>11} {'pieces':>8} {'seconds':>8} {'chars/s':>9} {'RSS loaded':>11} {'peak RSS':>9} "
          f"{'text costs':>11}")
    for size in (int(s) for s in args.sizes.split(",")):
        cmd = [sys.executable, __file__, "--child", str(size)] + (["--model", args.model] if args.model else [])
        r = json.loads(subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout)
        mb = 2 ** 20
        print(f"{r['chars']:>11,} {r['pieces']:>8,} {r['seconds']:>8.2f} {r['chars'] / r['seconds']:>9,.0f} "
              f"{r['loaded'] / mb:>8,.0f} MB {r['peak'] / mb:>6,.0f} MB {(r['peak'] - r['loaded']) / mb:>8,.0f} MB")


if __name__ == "__main__":
    main()
