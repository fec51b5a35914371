"""Throughput of the full analysis (genre, frames, techniques, spans) on 2 threads, printed (never asserted).

    python benchmarks/throughput.py [--articles DIR] [--model DIR] [--teacher runs/.../teacher-fp32.pt ... |
                                     --teacher-layers N]

In one run, over the English dev articles of ../shared/data:
  * the shipped runtime (int8 ONNX + numpy heads, full analysis: genre, frames, techniques, span decoding):
    articles/s, word pieces/s, achieved FLOP/s as a fraction of a fp32 GEMM measured
    in the same run, peak RSS of a process that only runs the runtime;
  * the fine-tuned fp32 torch teacher it was exported from (--teacher):
    articles/s and the speed-up of the runtime over it (runtime and teacher are
    measured alternately, twice each, best of each counts).  A model distilled from
    an ensemble names every teacher (--teacher A --teacher B): each article then runs
    through all of them and their probabilities are averaged, as in training.
    Without --teacher (a training run's checkpoints are not shipped) the teacher is a
    stand-in: an untrained fp32 torch model of the teacher's architecture — for a
    distilled model (the shipped one is) each teacher its manifest records, at that
    teacher's depth and MiniLM's feed-forward width (all-mpnet-base-v2's shape for an
    MPNet teacher); otherwise the model's own layers,
    width and heads — or of --teacher-layers layers.  Its time does not depend on its
    weights: the teacher's pass ends at the probabilities, with no decoding after them;
  * cold start of `slant analyze` on the shipped example article (median of 3).
Each measurement runs in its own subprocess so that RSS and imports do not mix.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
THREADS = 2


def _env(blas_threads: int | None = None):
    """Children run as users do: the runtime with the user's BLAS setting (slant runs numpy's BLAS on one
    thread unless told otherwise), except the GEMM ceiling, which gets the same 2 threads as the rest."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    env |= {"OMP_NUM_THREADS": str(THREADS), "MKL_NUM_THREADS": str(THREADS), "SLANT_THREADS": str(THREADS),
            "HF_HUB_OFFLINE": "1"}
    return env | ({"OPENBLAS_NUM_THREADS": str(blas_threads)} if blas_threads else {})


def _child(mode: str, args) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--articles", str(args.articles)]
    if args.model:
        cmd += ["--model", str(args.model)]
    for teacher in args.teacher or []:
        cmd += ["--teacher", str(teacher)]
    if args.teacher_layers:
        cmd += ["--teacher-layers", str(args.teacher_layers)]
    env = _env(THREADS if mode == "gemm" else None)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _flops_per_piece(layers: int, hidden: int, window: int, ffn: int) -> float:
    """Multiply-adds x2 per word piece in one encoder pass: projections, FFN, attention over the window."""
    per_layer = 2 * (4 * hidden * hidden + 2 * hidden * ffn) + 4 * window * hidden
    return layers * per_layer


def _docs(articles):
    sys.path.insert(0, str(REPO / "src"))
    from slant.formats import read_articles
    return read_articles(articles)


def child_runtime(args) -> dict:
    import resource

    from slant.runtime import load_detector
    docs = _docs(args.articles)
    detector = load_detector(args.model, threads=THREADS)
    detector.analyze(docs[0])  # warm-up
    pieces = processed = 0
    start = time.perf_counter()
    for doc in docs:
        tokens, _, _ = detector.probabilities(doc.text, [(p.start, p.end) for p in doc.paragraphs])
        pieces += len(tokens)
        from slant.windows import window_bounds
        processed += sum(b - a + 2 for a, b in window_bounds(len(tokens), detector.window, detector.stride))
    probs_time = time.perf_counter() - start
    start = time.perf_counter()
    for doc in docs:
        detector.analyze(doc)
    analyze_time = time.perf_counter() - start
    m = detector.artifact.manifest
    return {"articles": len(docs), "pieces": pieces, "processed": processed, "seconds": analyze_time,
            "encoder_seconds": probs_time, "layers": m["encoder"]["layers"], "hidden": m["encoder"]["hidden"],
            "ffn": m["encoder"].get("ffn", 4 * m["encoder"]["hidden"]),
            "window": m["window"], "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child_teacher(args) -> dict:
    import numpy as np
    import torch

    from slant.training.fit import prepare, predict
    from slant.training.model import load_checkpoint
    from slant.windows import load_tokenizer
    from slant.models import load_artifact
    torch.set_num_threads(THREADS)
    art = load_artifact(args.model)
    models = [load_checkpoint(t) for t in args.teacher] if args.teacher else stand_ins(art, args.teacher_layers)
    tok = load_tokenizer(art.path / "tokenizer.json")
    m = art.manifest
    docs = _docs(args.articles)
    special = (m["cls_id"], m["sep_id"], m["pad_id"])
    for model in models:  # warm-up
        predict(model, [prepare(docs[0], tok, m["window"], m["stride"], special)], 1)
    start = time.perf_counter()
    for doc in docs:  # one article at a time, as the runtime does
        example = [prepare(doc, tok, m["window"], m["stride"], special)]
        outputs = [predict(model, example, 10_000)[0] for model in models]
        [np.mean(parts, axis=0) for parts in zip(*outputs)]  # the ensemble's token and paragraph probabilities
    from slant.training.model import MPNetOnBertIds
    shapes = [f"{'MPNet' if isinstance(m.encoder, MPNetOnBertIds) else 'MiniLM'} {m.encoder.config.num_hidden_layers} "
              f"layers" for m in models]
    return {"articles": len(docs), "seconds": time.perf_counter() - start, "teachers": len(models),
            "layers": int(models[0].encoder.config.num_hidden_layers), "shapes": shapes, "stand_in": not args.teacher}


def stand_ins(art, layers: int | None) -> list:
    """Untrained fp32 TechniqueModels shaped like the teachers of the model of ``art``: ``layers`` deep when
    given; else, for a distilled model, one per teacher its manifest records, at that teacher's depth and
    MiniLM's feed-forward width; else like the model itself (a random tiny BERT for a --tiny model)."""
    from slant.training.model import TechniqueModel, build_encoder
    enc = art.manifest["encoder"]
    tiny = str(enc.get("base", "")).startswith("random tiny")
    teachers = (art.manifest.get("training", {}).get("distilled_from") or {}).get("teachers", [])
    if layers:
        shapes = [(layers, enc.get("ffn"), "minilm")]
    elif teachers:
        shapes = [(int(t["layers"]), None, t.get("base", "minilm")) for t in teachers]
    else:
        shapes = [(int(enc["layers"]), enc.get("ffn"), "minilm")]
    return [TechniqueModel(mpnet_shaped(n) if base == "mpnet" and not tiny else build_encoder(n, tiny, ffn, base=base),
                           len(art.labels)).eval() for n, ffn, base in shapes]


def mpnet_shaped(layers: int):
    """An untrained encoder of all-mpnet-base-v2's shape (its config.json; the 438 MB of weights need not be
    installed to time it), reading MiniLM's ids as the MPNet teacher does."""
    from transformers import MPNetConfig, MPNetModel

    from slant.training.model import MPNetOnBertIds
    config = MPNetConfig(vocab_size=30527, hidden_size=768, num_hidden_layers=layers, num_attention_heads=12,
                         intermediate_size=3072, max_position_embeddings=514, layer_norm_eps=1e-5)
    return MPNetOnBertIds(MPNetModel(config, add_pooling_layer=False))


def child_gemm(args) -> dict:
    import numpy as np
    a = np.random.rand(1024, 1024).astype(np.float32)
    b = np.random.rand(1024, 1024).astype(np.float32)
    a @ b
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        a @ b
        runs.append(time.perf_counter() - start)
    return {"gflops": 2 * 1024 ** 3 / min(runs) / 1e9}


def cold_start(model: Path | None) -> float:
    cmd = [sys.executable, "-m", "slant", "analyze", str(REPO / "examples" / "article900000001.txt")]
    cmd += ["--model", str(model)] if model else []
    times = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, env=_env())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _print_teacher(teacher: dict, result: dict) -> None:
    """Print the teacher's figures and add them to ``result``."""
    t_rate = teacher["articles"] / teacher["seconds"]
    what = "fp32 torch teacher" + (f" ({teacher['teachers']} models)" if teacher["teachers"] > 1 else "")
    if teacher["stand_in"]:
        what = f"fp32 torch stand-in, {' + '.join(teacher['shapes'])}"
    print(f"{what + ':':<33} {t_rate:.2f} articles/s; runtime speed-up {result['runtime_articles_per_s'] / t_rate:.2f}x")
    if teacher["stand_in"]:
        print("  (an untrained model of the teacher's shape: a training run's teacher-fp32.pt is not shipped; give it "
              "with --teacher)")
    result |= {"teacher_articles_per_s": t_rate, "speedup": result["runtime_articles_per_s"] / t_rate,
               "teacher_layers": teacher["layers"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=Path, default=REPO.parent / "shared/data/semeval2023/en/dev-articles")
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped one)")
    parser.add_argument("--teacher", type=Path, action="append", default=None,
                        help="teacher-fp32.pt from the training run (repeat for an ensemble teacher)")
    parser.add_argument("--teacher-layers", type=int, default=None,
                        help="without --teacher: the depth of the untrained stand-in teacher (default: that of the "
                             "teachers the manifest records, else the model's)")
    parser.add_argument("--child", choices=["runtime", "teacher", "gemm"], default=None)
    args = parser.parse_args()
    if args.child:
        print(json.dumps({"runtime": child_runtime, "teacher": child_teacher, "gemm": child_gemm}[args.child](args)))
        return

    # Runtime and teacher alternate, twice each, and the faster of each pair counts:
    # this machine is shared, so a single pass can land on a noisy moment.
    missing = [t for t in args.teacher or [] if not t.exists()]
    if missing:
        parser.error(f"{missing[0]}: no such teacher checkpoint")
    if args.teacher and args.teacher_layers:
        parser.error("--teacher-layers shapes the stand-in teacher used without --teacher: give one of them")
    if args.teacher_layers is not None and not 1 <= args.teacher_layers <= 6:
        parser.error("--teacher-layers must be 1 to 6 (MiniLM-L6 has six)")
    have_torch = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))
    gemm, rt, teacher = _child("gemm", args), None, None
    for _ in range(2):
        r = _child("runtime", args)
        rt = r if rt is None or r["seconds"] < rt["seconds"] else rt
        if have_torch:
            t = _child("teacher", args)
            teacher = t if teacher is None or t["seconds"] < teacher["seconds"] else teacher
    flops = _flops_per_piece(rt["layers"], rt["hidden"], rt["window"], rt["ffn"]) * rt["processed"]
    achieved = flops / rt["encoder_seconds"] / 1e9
    print(f"machine: {os.cpu_count()} CPUs visible, {THREADS} threads used")
    print(f"fp32 GEMM 1024^3 (numpy):        {gemm['gflops']:.1f} GFLOP/s")
    print(f"runtime (int8 ONNX), full analysis: {rt['articles'] / rt['seconds']:.2f} articles/s, "
          f"{rt['pieces'] / rt['seconds']:.0f} word pieces/s ({rt['pieces'] / rt['articles']:.0f} pieces/article)")
    print(f"runtime encoder only:             {achieved:.1f} GFLOP/s achieved = {achieved / gemm['gflops']:.2f} of the GEMM")
    print(f"runtime peak RSS:                 {rt['peak_rss_mb']:.0f} MB")
    result = {"gemm_gflops": gemm["gflops"], "runtime_articles_per_s": rt["articles"] / rt["seconds"],
              "runtime_pieces_per_s": rt["pieces"] / rt["seconds"], "achieved_gflops": achieved,
              "fraction_of_gemm": achieved / gemm["gflops"], "peak_rss_mb": rt["peak_rss_mb"]}
    if teacher is None:
        print("fp32 torch teacher:               not measured (needs torch: pip install torch==2.13.0, then \".[train]\")")
    else:
        _print_teacher(teacher, result)
    cold = cold_start(args.model)
    print(f"cold start `slant analyze` example: {cold:.2f} s (median of 3)")
    result["cold_start_s"] = cold
    print(json.dumps({k: round(v, 3) for k, v in result.items()}))


if __name__ == "__main__":
    main()
