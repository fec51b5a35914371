"""Corpus inputs, one Record per article: folders of .txt/.html files, JSON, JSONL, CSV (or TSV) and Parquet; a
table's row with a ``url`` and no ``text`` names its article by address, and the worker fetches it.

A Record carries its ``origin`` (where it came from: a file path, or
``FILE:LINE`` / ``FILE:row N``) — the identity that resume uses — and its
``key``, a content hash that makes the same article given twice analysed once.
Whole-input problems (no such file, a CSV without a ``text`` column) raise
InputError before any work starts; a bad line or row becomes a Record with
``error`` set, so that it lands in the errors table and the run goes on.

Decoding, HTML extraction and the checks that need them happen in the workers
(:mod:`slant.corpus.work`); here we only read bytes and hash them.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import InputError
from ..formats.articles import article_id
from ..inputs import NO_FILES, TABLE_SUFFIXES, file_kind, folder_files, given_path
from ..segment import is_blank

__all__ = ["Record", "Corpus", "FIELDS"]

FIELDS = ("id", "title", "source", "url", "date", "language")  # optional metadata beside "text"
PARQUET_BATCH = 512


@dataclass
class Record:
    """One input article, not yet decoded: ``data`` is bytes (files) or str (table cells)."""

    origin: str
    id: str
    kind: str = "text"  # "text", "html", "mhtml", "docx", "odt", "rtf", "pdf", "eml" or "image" (inputs.file_kind),
    # or "url": ``data`` is the address of the article, fetched by the worker
    data: bytes | str = b""
    title: str | None = None
    source: str | None = None
    url: str | None = None
    date: str | None = None
    language: str | None = None  # declared: skips the language check (slant.language)
    error: str | None = None  # set when the record could not even be read
    key: str | None = None

    def __post_init__(self) -> None:
        if self.error is None and (not self.data.strip() if isinstance(self.data, bytes) else is_blank(self.data)):
            self.error = "empty, no text to read"  # every empty input is its own error, never a "duplicate"
        if self.key is None and self.error is None:
            raw = self.data.encode("utf-8", "surrogatepass") if isinstance(self.data, str) else self.data
            # HTML is hashed apart from text: the same bytes make a different article
            self.key = hashlib.sha256(self.kind.encode() + b"\0" + raw).hexdigest()[:32]


def _meta(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):   # a binary column (below)
        value = value.decode("utf-8", errors="replace")
    text = str(value).strip()
    return text or None


class Corpus:
    """The records of every input, in a fixed order; ``len()`` counts them without decoding."""

    def __init__(self, inputs: list[str], exclude: str | Path | None = None, columns: dict[str, str] | None = None):
        if not inputs:
            raise InputError("no inputs given")
        # a table's columns read as slant's fields ("text" -> "body"), where an export names them otherwise
        self.columns = dict(columns or {})
        self.inputs = [given_path(raw) for raw in inputs]
        # the output folder may sit inside an input folder: its files (a dashboard.html) are not articles
        self.exclude = Path(exclude).resolve() if exclude is not None else None
        self._parsed: dict[Path, list] = {}   # .json inputs, parsed by the check and handed to the run
        self._counts = [self._check(path) for path in self.inputs]

    def __len__(self) -> int:
        return sum(self._counts)

    def __iter__(self) -> Iterator[Record]:
        for path in self.inputs:
            if path.is_dir():
                yield from self._folder(path)
            elif path.suffix.lower() in TABLE_SUFFIXES:
                yield from getattr(self, "_" + path.suffix.lower()[1:])(path)
            else:
                yield self._file(path)

    # -- checks and counts (whole-input errors raise here, before any work) --
    def _check(self, path: Path) -> int:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            files = self._folder_files(path)
            if not files:
                raise InputError(f"{path}: {NO_FILES}")
            return len(files)
        suffix = path.suffix.lower()
        try:
            if suffix == ".jsonl":
                with open(path, "rb") as f:
                    return sum(1 for line in f if line.strip())
            if suffix in (".csv", ".tsv"):
                with _csv_text(path) as f:
                    reader = _csv_reader(path, f, self._names())
                    header = next(reader, None)
                    _csv_columns(path, header, self.columns)
                    return sum(1 for _ in reader)
            if suffix == ".parquet":
                return _parquet_file(path, self.columns).metadata.num_rows
            if suffix == ".json":   # parsed once: the items wait here for the run
                self._parsed[path] = _json_items(path)
                return len(self._parsed[path])
        except OSError as ex:
            raise InputError(f"{path}: cannot read ({ex.strerror or ex})") from None
        except csv.Error as ex:
            raise InputError(f"{path}: not a readable {suffix[1:].upper()} file ({ex})") from None
        return 1

    def _names(self) -> set[str]:
        """The column names that hold the text or the address: what a CSV header is split to find."""
        return {self.columns.get("text", "text").lower(), self.columns.get("url", "url").lower()}

    def _mapped(self, row: dict, lower: bool = False) -> dict:
        """``row`` with slant's fields read from the columns ``--column`` names (``lower``: a CSV header's names,
        lower-cased)."""
        if not self.columns:
            return row
        return row | {field: row.get(name.lower() if lower else name) for field, name in self.columns.items()}

    # -- readers ------------------------------------------------------------
    def _file(self, path: Path) -> Record:
        try:
            data = path.read_bytes()
        except OSError as ex:
            return Record(str(path), article_id(path), error=f"cannot read ({ex.strerror or ex})")
        return Record(str(path), article_id(path), file_kind(data, str(path)), data)

    def _folder_files(self, folder: Path) -> list[Path]:
        files = folder_files(folder)
        if self.exclude is None:
            return files
        return [p for p in files if not p.resolve().is_relative_to(self.exclude)]

    def _folder(self, folder: Path) -> Iterator[Record]:
        for path in self._folder_files(folder):
            yield self._file(path)

    def _json(self, path: Path) -> Iterator[Record]:
        items = self._parsed.pop(path, None)
        for number, obj in enumerate(_json_items(path) if items is None else items, 1):
            origin, where = f"{path}:item {number}", f"item {number}"
            if not isinstance(obj, dict):
                yield Record(origin, f"{path.stem}-{number}", error=f"{where}: not a JSON object")
                continue
            yield _table_record(origin, f"{path.stem}-{number}", self._mapped(obj), where)

    def _jsonl(self, path: Path) -> Iterator[Record]:
        with open(path, "rb") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                origin = f"{path}:{number}"
                try:
                    obj = json.loads(line.decode("utf-8-sig" if number == 1 else "utf-8"))
                except UnicodeDecodeError as ex:
                    yield Record(origin, f"{path.stem}-{number}", error=f"line {number}: not UTF-8 text "
                                 f"(byte 0x{line[ex.start]:02x} at offset {ex.start})")
                    continue
                except json.JSONDecodeError as ex:
                    yield Record(origin, f"{path.stem}-{number}", error=f"line {number}: not JSON ({ex.msg})")
                    continue
                if not isinstance(obj, dict):
                    yield Record(origin, f"{path.stem}-{number}", error=f"line {number}: not a JSON object")
                    continue
                yield _table_record(origin, f"{path.stem}-{number}", self._mapped(obj), f"line {number}")

    def _csv(self, path: Path) -> Iterator[Record]:
        with _csv_text(path) as f:
            reader = _csv_reader(path, f, self._names())
            header = _csv_columns(path, next(reader, None), self.columns)
            for number, row in enumerate(reader, 1):
                origin = f"{path}:row {number}"
                if len(row) != len(header):
                    yield Record(origin, f"{path.stem}-{number}",
                                 error=f"row {number}: {len(row)} fields, the header has {len(header)}")
                    continue
                if any(_has_surrogates(cell) for cell in row):
                    yield Record(origin, f"{path.stem}-{number}", error=f"row {number}: not UTF-8 text")
                    continue
                yield _table_record(origin, f"{path.stem}-{number}", self._mapped(dict(zip(header, row)), lower=True),
                                    f"row {number}")

    _tsv = _csv   # the same table, tab-separated

    def _parquet(self, path: Path) -> Iterator[Record]:
        pf = _parquet_file(path, self.columns)
        wanted = {"text", *FIELDS, *self.columns.values()}
        columns = [c for c in pf.schema_arrow.names if c in wanted]
        number = 0
        for batch in pf.iter_batches(batch_size=PARQUET_BATCH, columns=columns):
            for row in batch.to_pylist():
                number += 1
                yield _table_record(f"{path}:row {number}", f"{path.stem}-{number}", self._mapped(row),
                                    f"row {number}")


def _table_record(origin: str, fallback_id: str, row: dict, where: str) -> Record:
    text = row.get("text")
    rid = _meta(row.get("id")) or fallback_id
    meta = {name: _meta(row.get(name)) for name in FIELDS[1:]}
    if meta["url"] and (text is None or isinstance(text, str) and is_blank(text)):
        # an article named by its address alone (a list of links, a media-monitoring export): the worker fetches it
        return Record(origin, rid, "url", meta["url"], **meta)
    if text is None:
        return Record(origin, rid, error=f"{where}: no \"text\" field (nor a \"url\" to fetch)", **meta)
    if isinstance(text, bytes):   # Parquet written with binary, not string, columns (Spark, older writers):
        return Record(origin, rid, "text", text, **meta)   # read as a text file is, UTF-8 or an error row
    if not isinstance(text, str):
        return Record(origin, rid, error=f"{where}: \"text\" is not a string", **meta)
    return Record(origin, rid, "text", text, **meta)


def _csv_text(path: Path):
    """The CSV file as text: UTF-8 (its byte-order mark dropped, as Excel's "CSV UTF-8" writes one), or UTF-16
    where a byte-order mark says so (Excel's "Unicode" exports). surrogateescape keeps a bad byte from ending
    the whole file: its row becomes an error."""
    with open(path, "rb") as f:
        head = f.read(2)
    encoding = "utf-16" if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"
    # Python's csv stops a whole file at a field over 131,072 characters ("field larger than field limit"): an
    # article of 30 pages. Any length is read; one over runtime.MAX_CHARACTERS is an error row of its own.
    csv.field_size_limit(2**31 - 1)
    return open(path, encoding=encoding, errors="surrogateescape", newline="")


def _json_items(path: Path) -> list:
    """The articles of a .json file: an array of objects (as `slant analyze --format json` writes for several
    articles, or an export of records), or one object; InputError naming the file for anything else. It was
    read as one text article: the JSON itself, labelled."""
    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as ex:
        at = ex.start + (3 if raw.startswith(codecs.BOM_UTF8) else 0)
        raise InputError(f"{path}: not UTF-8 text (byte 0x{raw[at]:02x} at offset {at})") from None
    except json.JSONDecodeError as ex:
        if ex.msg == "Extra data":
            raise InputError(f"{path}: one JSON value after another, not one array: JSON Lines? name the file "
                             ".jsonl") from None
        raise InputError(f"{path}: not JSON ({ex.msg} at line {ex.lineno})") from None
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list):
        kind = {str: "string", bool: "true or false", type(None): "null"}.get(type(data), "number")
        raise InputError(f"{path}: a JSON {kind}, expected an array of objects with a \"text\" field")
    return data


def _csv_reader(path: Path, f, names: set[str] = frozenset({"text", "url"})):
    """csv.reader over the open file ``f``: fields split at tabs for a .tsv file; for a .csv file at commas — or,
    where its header names none of the columns sought (``names``: "text", "url") that way, at the semicolons or
    tabs it does name one by (Excel writes "CSV" with semicolons where the decimal mark is a comma, as in most of
    Europe; that file stopped the run with 'no "text" column (found: id;title;text)'); where none does, at the one
    that splits the header most, so that an error lists its columns."""
    first = f.readline()
    candidates = ("\t",) if path.suffix.lower() == ".tsv" else (",", ";", "\t")
    headers = {d: next(csv.reader([first], delimiter=d), []) for d in candidates}
    delimiter = next((d for d in candidates if names & {h.strip().lower() for h in headers[d]}),
                     max(candidates, key=lambda d: len(headers[d])))
    return csv.reader(itertools.chain([first], f), delimiter=delimiter)


def _csv_columns(path: Path, header: list[str] | None, columns: dict[str, str] | None = None) -> list[str]:
    kind = path.suffix[1:].upper() or "CSV"
    if not header:
        raise InputError(f"{path}: empty {kind} file, expected a header with a \"text\" column")
    if any(_has_surrogates(h) for h in header):
        raise InputError(f"{path}: the {kind} header is not UTF-8 text (nor UTF-16 with a byte-order mark)")
    header = [h.strip().lower() for h in header]
    _named_columns(path, header, columns or {})
    if not {"text", "url"} & (set(header) | set(columns or {})):
        raise InputError(f"{path}: no \"text\" column (nor a \"url\" one, to fetch) in the {kind} header "
                         f"(found: {', '.join(header)})")
    return header


def _has_surrogates(cell: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in cell)


def _named_columns(path: Path, names: list[str], columns: dict[str, str], lower: bool = True) -> None:
    """InputError naming the file when a column ``--column FIELD=NAME`` names is not among its ``names``."""
    for field, name in columns.items():
        if (name.lower() if lower else name) not in names:
            raise InputError(f"{path}: no \"{name}\" column for --column {field}={name} (found: {', '.join(names)})")


def _parquet_file(path: Path, columns: dict[str, str] | None = None):
    import pyarrow.lib
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pyarrow.lib.ArrowException, OSError) as ex:
        raise InputError(f"{path}: not a readable Parquet file ({str(ex).splitlines()[0]})") from None
    _named_columns(path, pf.schema_arrow.names, columns or {}, lower=False)
    if not {"text", "url"} & (set(pf.schema_arrow.names) | set(columns or {})):
        raise InputError(f"{path}: no \"text\" column (nor a \"url\" one, to fetch) "
                         f"(found: {', '.join(pf.schema_arrow.names)})")
    return pf

