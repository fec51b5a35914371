"""The shipped model artifact: manifest, hash check, loading.

An artifact is a folder holding ``manifest.json`` (labels, window settings,
thresholds, training data hash, command, seed, validation metrics, and the
SHA-256 of every file), ``encoder.onnx`` (int8), ``heads.npz`` (token and
paragraph heads), ``lexical.npz`` (TF-IDF + logistic regression) and
``tokenizer.json``; a model with genre and frame heads also holds ``article.npz``
(described by the manifest's ``article`` section), one with a PTC span classifier
``span_classes.npz`` (section ``span_classes``).  Loading checks every file against the manifest and raises
ModelError naming the file on any mismatch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from .errors import ModelError

__all__ = ["Artifact", "DEFAULT_MODEL", "load_artifact", "model_digest", "model_files", "sha256_file"]

DEFAULT_MODEL = "slant-en"
FILES = ("encoder.onnx", "heads.npz", "lexical.npz", "tokenizer.json")
ARTICLE_FILE = "article.npz"
SPAN_CLASSES_FILE = "span_classes.npz"
OPTIONAL = {"article": ARTICLE_FILE, "span_classes": SPAN_CLASSES_FILE}  # manifest section -> its file


def model_files(manifest: dict) -> tuple[str, ...]:
    """The files a model with this manifest holds: the four every model has, and those of its optional heads."""
    return FILES + tuple(name for section, name in OPTIONAL.items() if section in manifest)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Artifact:
    path: Path
    manifest: dict
    heads: dict[str, np.ndarray]
    lexical: dict[str, np.ndarray]
    article: dict[str, np.ndarray] | None = None  # genre and frame heads, when the model has them
    span_classes: dict[str, np.ndarray] | None = None  # the PTC span classifier, when the model has it

    @property
    def labels(self) -> list[str]:
        return list(self.manifest["labels"])


# Manifest entries that record how a model was made and measured; everything else decides its outputs.
RECORD_ONLY = ("training", "metrics", "slant_version")


def model_digest(manifest: dict) -> str:
    """SHA-256 over what decides a model's outputs: its files' hashes, labels, windows, thresholds and head
    sections — not its training record or figures, so a re-export of the same model keeps its digest and a
    new threshold, temperature or file changes it."""
    deciding = {k: v for k, v in manifest.items() if k not in RECORD_ONLY}
    return hashlib.sha256(json.dumps(deciding, sort_keys=True).encode()).hexdigest()


def default_path() -> Path:
    return Path(str(resources.files("slant").joinpath("artifacts", DEFAULT_MODEL)))


PARTS = ("paragraph_head", "token_max", "lexical")


def _check_manifest(m: dict, where: Path) -> None:
    """The keys the runtime reads, with the right shapes; ModelError naming the first problem."""
    def fail(what: str):
        raise ModelError(f"{where}: {what}")

    if not isinstance(m, dict):
        fail("not a JSON object")
    for key in ("labels", "window", "stride", "cls_id", "sep_id", "pad_id", "thresholds", "paragraph_ensemble", "files"):
        if key not in m:
            fail(f"missing {key!r}")
    labels = m["labels"]
    if not isinstance(labels, list) or not labels:
        fail("'labels' must be a non-empty list")
    for kind in ("paragraph", "span", "paragraph_per_technique"):
        values = m["thresholds"].get(kind) if isinstance(m["thresholds"], dict) else None
        if kind == "paragraph_per_technique" and values is None:
            continue  # optional: models exported before it have only the micro-F1 set
        if not isinstance(values, list) or len(values) != len(labels):
            fail(f"thresholds.{kind} must list one number per label ({len(labels)})")
    if not isinstance(m["window"], int) or not isinstance(m["stride"], int) or not 0 < m["stride"] <= m["window"]:
        fail("window and stride must be integers with 0 < stride <= window")
    if not m["paragraph_ensemble"] or not set(m["paragraph_ensemble"]) <= set(PARTS):
        fail(f"paragraph_ensemble must name some of {', '.join(PARTS)}")
    for name in ("paragraph_calibration", "span_calibration"):
        if name in m:
            _check_calibration(m[name], name, len(labels), "label", fail)
    if "lines" in m.get("paragraph_calibration", {}):   # text printed one sentence per line
        _check_calibration(m["paragraph_calibration"]["lines"], "paragraph_calibration.lines", len(labels), "label", fail)
    if "article" in m:
        _check_article(m["article"], fail)
    if "span_classes" in m:
        from . import taxonomy
        if not isinstance(m["span_classes"], dict) or \
                m["span_classes"].get("classes") != [c.name for c in taxonomy.PTC_CLASSES]:
            fail("span_classes.classes must be the 14 PTC-2020 classes, in the taxonomy's order")


def _check_calibration(c, name: str, n: int, unit: str, fail) -> None:
    for key in ("slope", "intercept"):
        if not isinstance(c, dict) or not isinstance(c.get(key), list) or len(c[key]) != n:
            fail(f"{name}.{key} must list one number per {unit} ({n})")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in c[key]):
            fail(f"{name}.{key} must hold finite numbers")
    if min(c["slope"]) <= 0:
        fail(f"{name}.slope must be positive (the map must keep each {unit}'s order)")


def _check_article(a, fail) -> None:
    from . import taxonomy
    from .article_heads import FEATURES, PARTS as ARTICLE_PARTS

    if not isinstance(a, dict):
        fail("'article' must be an object")
    for key in ("genres", "frames", "features", "ensemble", "frame_thresholds"):
        if key not in a:
            fail(f"article: missing {key!r}")
    if list(a["genres"]) != list(taxonomy.GENRES) or list(a["frames"]) != list(taxonomy.FRAMES):
        fail("article: genres and frames must be the taxonomy's, in its order")
    if not a["features"] or not set(a["features"]) <= set(FEATURES):
        fail(f"article.features must name some of {', '.join(FEATURES)}")
    if not isinstance(a["ensemble"], dict) or set(a["ensemble"]) != set(ARTICLE_PARTS):
        fail(f"article.ensemble must name the parts of each of {', '.join(ARTICLE_PARTS)}")
    for task, allowed in ARTICLE_PARTS.items():
        if not a["ensemble"][task] or not set(a["ensemble"][task]) <= set(allowed):
            fail(f"article.ensemble.{task} must name some of {', '.join(allowed)}")
    if not isinstance(a["frame_thresholds"], list) or len(a["frame_thresholds"]) != len(a["frames"]):
        fail(f"article.frame_thresholds must list one number per frame ({len(a['frames'])})")
    if "frame_calibration" in a:
        _check_calibration(a["frame_calibration"], "article.frame_calibration", len(a["frames"]), "frame", fail)
        short = a["frame_calibration"].get("short")   # the map for texts under short.under_words words
        if short is not None:
            _check_calibration(short, "article.frame_calibration.short", len(a["frames"]), "frame", fail)
            n = short.get("under_words")
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                fail("article.frame_calibration.short.under_words must be a whole number of words, 1 or more")
    t = a.get("genre_temperature", 1.0)
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not t > 0:
        fail("article.genre_temperature must be a positive number")


def load_artifact(path: str | Path | None = None, verify: bool = True) -> Artifact:
    """Read and check an artifact folder (default: the model shipped in the package)."""
    path = Path(path) if path is not None else default_path()
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise ModelError(f"{path}: no model here (manifest.json missing)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as ex:
        raise ModelError(f"{manifest_path}: unreadable manifest ({ex})") from None
    _check_manifest(manifest, manifest_path)
    for name in model_files(manifest):
        f = path / name
        if not f.is_file():
            raise ModelError(f"{f}: missing from the model folder")
        expected = manifest.get("files", {}).get(name, {}).get("sha256")
        if verify and sha256_file(f) != expected:
            raise ModelError(f"{f}: SHA-256 does not match the manifest (corrupt or replaced file)")
    arrays = {}
    for name in ("heads.npz", "lexical.npz") + tuple(OPTIONAL[s] for s in OPTIONAL if s in manifest):
        try:
            with np.load(path / name, allow_pickle=False) as z:
                arrays[name] = {k: z[k] for k in z.files}
        except (OSError, ValueError) as ex:
            raise ModelError(f"{path / name}: unreadable ({ex})") from None
    return Artifact(path, manifest, arrays["heads.npz"], arrays["lexical.npz"], arrays.get(ARTICLE_FILE),
                    arrays.get(SPAN_CLASSES_FILE))
