"""Stand-ins for timing a student before it is trained: the shipped model with its encoder cut to N layers.

    python benchmarks/speed_models.py --layers 2 --out runs/speed-l2
    python benchmarks/throughput.py --model runs/speed-l2 --teacher-layers 4   # against a 4-layer fp32 teacher

The folder holds the shipped model's heads, lexical, article and span parts, and an encoder made of
MiniLM-L6's first N layers (with ``--ffn``: N random layers of that feed-forward width), exported, fused and
quantised as ``slant train`` does.  Nothing in it was trained for slant: its outputs mean nothing, its
speed is that of any trained model of the same shape, which is what the speed-up over a teacher of
another depth can be planned with.  The encoder's work does not depend on the weights; the decoding after it does (an untrained encoder
under the shipped heads passes every threshold and decodes twenty times the spans), so the stand-in's
paragraph and span thresholds are set to flag as many paragraphs and pieces per technique, over
``--articles``, as the shipped model flags there.  Needs the ``[train]`` extra.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, required=True, help="encoder layers (1-6)")
    parser.add_argument("--ffn", type=int, default=None, help="feed-forward neurons per layer (default MiniLM's 1536)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--articles", type=Path, default=REPO.parent / "shared/data/semeval2023/en/dev-articles",
                        help="articles on which the stand-in flags as much as the shipped model")
    args = parser.parse_args()
    if not 1 <= args.layers <= 6:
        parser.error("--layers must be 1 to 6 (MiniLM-L6 has six)")
    sys.path.insert(0, str(REPO / "src"))
    from slant.models import default_path, load_artifact
    from slant.training.export import _write_manifest, article_layer, export_encoder
    from slant.training.model import TechniqueModel, build_encoder

    shipped = default_path()
    labels = len(load_artifact(shipped).labels)
    model = TechniqueModel(build_encoder(args.layers, ffn=args.ffn), labels).eval()
    args.out.mkdir(parents=True, exist_ok=True)
    for f in shipped.iterdir():
        if f.suffix in (".npz", ".json") and f.name != "manifest.json":
            shutil.copyfile(f, args.out / f.name)
    encoder_steps = export_encoder(model.encoder, args.out / "encoder.onnx")
    manifest = json.loads((shipped / "manifest.json").read_text(encoding="utf-8"))
    config = model.encoder.config
    manifest["name"] = f"speed stand-in, {args.layers} untrained layers"
    manifest["encoder"] |= {"layers": args.layers, "ffn": int(config.intermediate_size),
                            "article_states_layer": article_layer(config), **encoder_steps}
    manifest["training"]["commands"] = [" ".join(["python", "benchmarks/speed_models.py", *sys.argv[1:]])]
    _write_manifest(args.out, manifest)   # loadable, for matching its thresholds
    manifest["thresholds"] |= matched_thresholds(shipped, args.out, args.articles)
    _write_manifest(args.out, manifest)
    load_artifact(args.out)
    print(f"{args.out}: {args.layers} layers, ffn {config.intermediate_size}")


def matched_thresholds(shipped: Path, stand_in: Path, articles: Path) -> dict[str, list[float]]:
    """Paragraph and span thresholds under which ``stand_in`` flags, per technique, as many paragraphs and
    word pieces of ``articles`` as ``shipped`` does with its own."""
    import numpy as np

    from slant.formats import read_articles
    from slant.runtime import load_detector
    from slant.training.export import DISABLED

    docs = read_articles(articles)
    out = {}
    detectors = [load_detector(shipped), load_detector(stand_in)]
    probs = [[d.probabilities(doc.text, [(p.start, p.end) for p in doc.paragraphs])[1:] for doc in docs]
             for d in detectors]
    for name, column in (("span", 0), ("paragraph", 1)):
        ours, theirs = (np.concatenate([p[column] for p in model]) for model in probs)
        cut = np.asarray(detectors[0].artifact.manifest["thresholds"][name])
        flagged = (ours >= cut).sum(0)
        ranked = -np.sort(-theirs, axis=0)
        out[name] = [float(ranked[n - 1, k]) if n else DISABLED for k, n in enumerate(flagged)]
    return out


if __name__ == "__main__":
    main()
