"""Everything slant raises on purpose derives from :class:`SlantError`.

    SlantError              catch this to catch everything slant raises
    ├── InputError          unreadable or malformed input: file, text, URL
    │   ├── FormatError     a task-format file has a bad row (file, line, reason)
    │   ├── NotEnglishError a text in another language than the model reads (slant.language)
    │   ├── TextTooLongError a text longer than slant analyses at once (runtime.MAX_CHARACTERS)
    │   └── NotUnicodeError a text holding half of a surrogate pair (JSON can carry one, UTF-8 cannot)
    ├── LabelError          a label name that is not in the taxonomy
    ├── SpanError           offsets outside the text, or end not after start
    └── ModelError          shipped model missing, corrupt, or hash mismatch

Messages are one line and name the file (and line) and what is wrong, so that
the CLI can print them as they are.
"""

from __future__ import annotations

import re


class SlantError(Exception):
    """Base: catch this to catch everything slant raises."""


class InputError(SlantError):
    """Unreadable or malformed input file, text or URL."""


class FormatError(InputError):
    """A task-format file has a bad row: ``FILE:LINE: what is wrong``."""

    def __init__(self, where: str, reason: str):
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


class TextTooLongError(InputError):
    """A text longer than slant analyses at once; ``where`` names the input, ``reason`` says what is wrong
    without it (alike for alike texts, so a corpus's errors group)."""

    def __init__(self, where: str, length: int, limit: int):
        self.where, self.length, self.limit = where, length, limit
        self.reason = f"{length:,} characters, more than the {limit:,} slant analyses in one text: split it"
        super().__init__(f"{where}: {self.reason}")


class NotUnicodeError(InputError):
    """A text (or title) holding what no text holds: one half of a UTF-16 surrogate pair, which is not a Unicode
    character (JSON's ``"\\ud83d"`` escapes can carry one: an emoji cut in two by whatever shortened the text;
    UTF-8 files cannot), or a NUL character (binary data; a UTF-16 export read as UTF-8 has one every other
    character — a table's cell or a JSON string can carry them, a file is refused before). ``where`` names the
    input, ``reason`` says what is wrong without it."""

    def __init__(self, where: str, what: str, character: str, position: int):
        self.where = where
        if character == "\x00":
            self.reason = (f"the {what} holds a NUL character at character {position}: binary data, not text "
                           "(a UTF-16 export read as UTF-8?)")
        else:
            self.reason = (f"the {what} holds an unpaired surrogate (U+{ord(character):04X}) at character "
                           f"{position}, which is not Unicode text (half of an emoji cut in two?)")
        super().__init__(f"{where}: {self.reason}")


class LabelError(SlantError):
    """A genre, frame or technique name that the taxonomy does not know."""


class SpanError(SlantError):
    """Character offsets outside the text, or end not after start."""


class ModelError(SlantError):
    """The shipped model is missing, corrupt, or does not match its manifest."""


_NOT_TEXT = re.compile("[\ud800-\udfff\x00]")   # one half of a UTF-16 surrogate pair, or NUL


def refuse_not_text(where: str, what: str, value: str) -> None:
    """NotUnicodeError when ``value`` (the ``what`` of the input ``where`` names: "text", "title") holds one half of
    a surrogate pair (the tokenizer stops on one with a TypeError, and an HTML parser cuts the text there) or a NUL
    character (binary data, which was analysed as text)."""
    bad = _NOT_TEXT.search(value)
    if bad:
        raise NotUnicodeError(where, what, bad.group(), bad.start())

