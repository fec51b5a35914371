"""The output of ``slant batch``: a folder of Parquet tables written in committed chunks.

Layout::

    OUT/slant-batch.json              what wrote it: format, slant version, model and its hash
    OUT/articles/part-000001.parquet  one row per analysed article
    OUT/spans/part-000001.parquet     one row per evidence span
    OUT/errors/part-000001.parquet    one row per input that could not be analysed, with the reason
    OUT/duplicates/part-000001.parquet one row per input whose content was already analysed
    OUT/_commits/000001.json          the chunk's commit record

A chunk is committed in this order: every table's part is written to a ``.tmp``
file and flushed to disk, the parts are renamed into place, and the commit
record is written last (atomically, by rename).  A part without a commit record
is what a kill left behind mid-commit; opening the store deletes it, so the rows
it held are done again and never twice.  Every input lands in exactly one of
articles, errors or duplicates, under its ``origin``: that is what resume skips.

Any Parquet reader can read a table as ``OUT/<table>/*.parquet``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from ..errors import InputError, SlantError
from ..formats.tsv import writable_folder

__all__ = ["Store", "SCHEMAS", "TABLES", "MANIFEST"]

FORMAT = "slant.batch/1"
MANIFEST = "slant-batch.json"
COMMITS = "_commits"

_STATS = pa.struct([("technique", pa.string()), ("paragraphs", pa.int32()), ("spans", pa.int32()),
                    ("max_score", pa.float64())])
SCHEMAS = {
    "articles": pa.schema([
        ("key", pa.string()), ("id", pa.string()), ("origin", pa.string()), ("title", pa.string()),
        ("source", pa.string()), ("url", pa.string()), ("date", pa.date32()), ("date_text", pa.string()),
        ("chars", pa.int32()), ("paragraphs", pa.int32()),
        ("genre", pa.string()), ("genre_score", pa.float64()),
        ("frames", pa.list_(pa.string())), ("frame_scores", pa.list_(pa.float64())),
        ("techniques", pa.list_(pa.string())), ("technique_stats", pa.list_(_STATS)),
        ("spans", pa.int32()),
    ]),
    "spans": pa.schema([
        ("key", pa.string()), ("id", pa.string()), ("source", pa.string()), ("date", pa.date32()),
        ("technique", pa.string()), ("start", pa.int32()), ("end", pa.int32()), ("paragraph", pa.int32()),
        ("score", pa.float64()), ("text", pa.string()), ("before", pa.string()), ("after", pa.string()),
    ]),
    "errors": pa.schema([
        ("origin", pa.string()), ("id", pa.string()), ("source", pa.string()), ("key", pa.string()),
        ("reason", pa.string()),
    ]),
    "duplicates": pa.schema([
        ("origin", pa.string()), ("id", pa.string()), ("source", pa.string()), ("key", pa.string()),
        ("same_as", pa.string()),
    ]),
}
TABLES = tuple(SCHEMAS)


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Store:
    """An output folder, opened for writing (``Store.open``) or reading (``Store.read``)."""

    def __init__(self, root: Path, manifest: dict):
        self.root = root
        self.manifest = manifest

    # -- opening --------------------------------------------------------------
    @classmethod
    def open(cls, root: str | Path, model: dict) -> "Store":
        """Create ``root`` or reopen it for resuming: clears what a kill left half-written.
        SlantError when it is a file, InputError when it holds something else or results of another model."""
        root = writable_folder(root, "the batch output is a folder of tables")
        path = root / MANIFEST
        if path.exists():
            manifest = cls._manifest(root)
            was = manifest.get("model") or {}
            if was != model:
                raise InputError(f"{root}: was written with model {_describe(was)}, not this one ({_describe(model)}); "
                                 "use another output folder")
        elif root.exists() and any(root.iterdir()):
            raise InputError(f"{root}: folder is not empty and holds no {MANIFEST}; use a new or empty folder")
        else:
            manifest = {"format": FORMAT, "slant": __version__, "model": model,
                        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                        "tables": {t: f"{t}/*.parquet" for t in TABLES}}
            root.mkdir(parents=True, exist_ok=True)
            tmp = root / (MANIFEST + ".tmp")
            _fsync_write(tmp, (json.dumps(manifest, indent=2) + "\n").encode())
            os.replace(tmp, path)
        for sub in (*TABLES, COMMITS):
            (root / sub).mkdir(exist_ok=True)
        store = cls(root, manifest)
        store._recover()
        return store

    @classmethod
    def read(cls, root: str | Path) -> "Store":
        """An existing output folder, for querying; InputError when it is not one."""
        root = Path(root)
        if not (root / MANIFEST).is_file():
            raise InputError(f"{root}: not a slant batch output (no {MANIFEST}); run slant batch ... -o {root}")
        return cls(root, cls._manifest(root))

    @staticmethod
    def _manifest(root: Path) -> dict:
        try:
            manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as ex:
            raise InputError(f"{root / MANIFEST}: unreadable ({ex})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise InputError(f"{root / MANIFEST}: not a {FORMAT} manifest")
        return manifest

    def _recover(self) -> None:
        committed = set(self.chunks())
        for sub in (*TABLES, COMMITS):
            for path in (self.root / sub).iterdir():
                if path.name.endswith(".tmp"):
                    path.unlink()
                elif sub != COMMITS and _chunk_of(path) not in committed:
                    path.unlink()  # a part renamed into place before its commit record was written

    # -- reading --------------------------------------------------------------
    def chunks(self) -> list[int]:
        folder = self.root / COMMITS
        if not folder.is_dir():
            return []
        return sorted(int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit())

    def parts(self, table: str) -> list[Path]:
        """The committed Parquet files of ``table``."""
        return [self.root / table / _part_name(n) for n in self.chunks()]

    def done(self) -> tuple[set[str], dict[str, str]]:
        """(origins already accounted for, content key -> origin of every article or error seen)."""
        origins: set[str] = set()
        keys: dict[str, str] = {}
        for table in ("articles", "errors", "duplicates"):
            for path in self.parts(table):
                data = pq.read_table(path, columns=["origin", "key"]).to_pydict()
                origins.update(data["origin"])
                if table != "duplicates":
                    for origin, key in zip(data["origin"], data["key"]):
                        if key is not None:
                            keys.setdefault(key, origin)
        return origins, keys

    def counts(self) -> dict[str, int]:
        out = {t: 0 for t in TABLES}
        for n in self.chunks():
            record = json.loads((self.root / COMMITS / f"{n:06d}.json").read_text(encoding="utf-8"))
            for t in TABLES:
                out[t] += int(record["rows"].get(t, 0))
        return out

    # -- writing --------------------------------------------------------------
    def commit(self, rows: dict[str, list[dict]]) -> int:
        """Write one chunk of every table and commit it; returns the chunk number.
        SlantError naming the folder when the disk refuses (full, read-only)."""
        try:
            return self._commit(rows)
        except OSError as ex:
            raise SlantError(f"{self.root}: cannot write results ({ex.strerror or ex}); what was committed "
                             "before is kept") from None

    def _commit(self, rows: dict[str, list[dict]]) -> int:
        chunk = (max(self.chunks(), default=0)) + 1
        name = _part_name(chunk)
        written = []
        for table in TABLES:
            tmp = self.root / table / (name + ".tmp")
            pq.write_table(pa.Table.from_pylist(rows.get(table, []), schema=SCHEMAS[table]), tmp,
                           compression="zstd")
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            written.append((tmp, self.root / table / name))
        for tmp, final in written:
            os.replace(tmp, final)
        for table in TABLES:
            _fsync_dir(self.root / table)
        record = {"chunk": chunk, "rows": {t: len(rows.get(t, [])) for t in TABLES},
                  "committed": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        tmp = self.root / COMMITS / f"{chunk:06d}.json.tmp"
        _fsync_write(tmp, (json.dumps(record) + "\n").encode())
        os.replace(tmp, self.root / COMMITS / f"{chunk:06d}.json")
        _fsync_dir(self.root / COMMITS)
        return chunk


def _part_name(chunk: int) -> str:
    return f"part-{chunk:06d}.parquet"


def _chunk_of(path: Path) -> int | None:
    stem = path.name.removeprefix("part-").removesuffix(".parquet")
    return int(stem) if stem.isdigit() and path.name.startswith("part-") else None


def _describe(model: dict) -> str:
    """'slant-en' (0123456789ab), with its operating point when it is not the default.

    >>> _describe({"name": "slant-en", "sha256": {"sha256": "0123456789abcdef", "bytes": 1}, "thresholds": "x"})
    "'slant-en' (0123456789ab, --thresholds x)"
    """
    digest = model.get("sha256") or "?"
    digest = digest.get("sha256", "?") if isinstance(digest, dict) else str(digest)  # the manifest's file entry
    point = f", --thresholds {model['thresholds']}" if model.get("thresholds") else ""
    point += "".join(f", --column {c}" for c in model.get("columns") or ())
    return f"{model.get('name')!r} ({digest[:12]}{point})"
