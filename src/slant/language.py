"""Which language a text is written in — slant's model reads English only.

Analysing a French or Russian article with an English model gives labels that look like any others and
mean nothing, so a text that reads as another language is refused (:class:`NotEnglishError`) unless its
language is declared (``Document.language``) or the caller asks for labels regardless (the official
task formats need a row for every article).

Two steps, so that English text costs nothing:

1. A screen: in English prose a fifth or more of the words are among the 65 commonest English function
   words (the, of, and, to, ...).  Over the SemEval-2023 articles the share runs 0.24–0.52 in each of
   the 597 English ones and 0.00–0.11 in each of the 1,887 in eight other languages.  A text of 20 words
   or more that passes is English, and nothing more is loaded.
2. Any other text (another language, or a short or odd English one — a headline, a list of names) goes
   to py3langid, a naive Bayes model over byte n-grams of 142 languages, loaded on first need (0.6 s).
   Only when it is ``SURE`` (0.95) of a language other than English is the text called that language;
   below that the text is given the benefit of the doubt and analysed.

Measured (``python -m slant.language --data ../shared/data``, a few seconds): none of the 597 English
articles, whole or cut after 5, 10, 15, 25 or 50 words, is called another language (cut after 5 words,
592 are "unsure"); whole, every article of the eight other languages is called its own language; cut
after 25 words, 99–100 % of the French, German, Greek, Georgian and Polish ones, 94 % of the Italian,
95 % of the Russian and 17 of the 30 Spanish ones (the rest unsure, 4 of 1,887 taken for English).
Each of the 13,765 non-blank lines (paragraphs) of the English articles taken alone: one is called another
language — a Latin quotation, rightly — the rest English (11,202) or unsure.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .errors import InputError

__all__ = ["ENGLISH", "ENGLISH_ONLY", "NotEnglishError", "SURE", "english_share", "identify", "language_name", "primary"]

ENGLISH = "en"
SCREEN = 0.2     # share of common English function words above which a text is English without more ado ...
SCREEN_WORDS = 20  # ... if it has this many words (in five, one "a" or "in" would pass it)
SURE = 0.95      # py3langid's probability needed to call a text another language
ENGLISH_ONLY = "slant's model reads English only"  # ends every NotEnglishError message

FUNCTION_WORDS = frozenset("""
the of and to a in is that for it on with as was be by at this are from or have an not but his they he has
were which their we had you its will would been more who i said one all there so can also than about if what
when our up out them she into her after other some no
""".split())
_WORD = re.compile(r"[^\W\d_]+")

# Names for the messages; any other language is named by its code alone.
_NAMES = {
    "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan", "cs": "Czech", "da": "Danish",
    "de": "German", "el": "Greek", "es": "Spanish", "et": "Estonian", "fa": "Persian", "fi": "Finnish",
    "fr": "French", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "hy": "Armenian",
    "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ka": "Georgian", "kk": "Kazakh", "ko": "Korean",
    "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian", "ms": "Malay", "nl": "Dutch", "no": "Norwegian",
    "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian",
    "sq": "Albanian", "sr": "Serbian", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "th": "Thai",
    "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese", "zh": "Chinese",
}


class NotEnglishError(InputError):
    """The text reads (or is declared to be) another language; ``where`` names the input, ``language`` is
    the code, ``probability`` how sure the identification is (None: declared)."""

    def __init__(self, where: str, language: str, probability: float | None = None):
        self.where, self.language, self.probability = where, language, probability
        said = "its language is given as" if probability is None else "the text reads as"
        self.reason = f"{said} {language_name(language)}; {ENGLISH_ONLY}"  # alike for alike texts: groupable
        super().__init__(f"{where}: {self.reason}")


def language_name(code: str) -> str:
    """``"French (fr)"``, or the code alone for a language without a name here."""
    return f"{_NAMES[code]} ({code})" if code in _NAMES else code


def primary(code: str) -> str:
    """The primary subtag of a language tag, lower-cased.

    >>> primary("en-GB"), primary("FR")
    ('en', 'fr')
    """
    return code.strip().replace("_", "-").split("-")[0].lower()


def english_share(text: str) -> tuple[float, int]:
    """The share of the text's words that are common English function words (0 without words), and its
    number of words.

    >>> english_share("The cat sat on the mat."), english_share("Le chat est sur le tapis.")
    ((0.5, 6), (0.0, 6))
    """
    words = _WORD.findall(text.lower())
    return (sum(w in FUNCTION_WORDS for w in words) / len(words) if words else 0.0), len(words)


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def identify(text: str) -> tuple[str | None, float]:
    """(language code, probability) when the text surely reads as one language, else (None, probability):
    ``("en", 1.0)`` for text that passes the English screen without asking the model."""
    share, words = english_share(text)
    if share >= SCREEN and words >= SCREEN_WORDS:
        return ENGLISH, 1.0
    code, probability = _identifier().classify(text)
    return (primary(code) if probability >= SURE else None), probability


def main(argv: list[str] | None = None) -> int:
    """How often each language's SemEval-2023 articles, whole and cut after N words, and their lines one
    by one, are identified as what; prints one row per language and length."""
    import argparse
    import glob
    from collections import Counter
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m slant.language", description=main.__doc__)
    parser.add_argument("--data", required=True, help="the shared data folder")
    args = parser.parse_args(argv)
    root = Path(args.data) / "semeval2023"
    if not root.is_dir():
        parser.error(f"{root}: not found")
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        texts = [Path(f).read_text(encoding="utf-8-sig") for f in sorted(glob.glob(f"{folder}/*-articles/*.txt"))]
        for words in (5, 10, 15, 25, 50, None):
            calls = Counter((identify(" ".join(t.split()[:words])) if words else identify(t))[0] or "unsure"
                            for t in texts)
            top = ", ".join(f"{code} {n}" for code, n in calls.most_common(4))
            print(f"{folder.name}\t{words or 'whole'}\t{len(texts)} articles\t{top}", flush=True)
        lines = [line for t in texts for line in t.split("\n") if line.strip()]
        calls = Counter(identify(line)[0] or "unsure" for line in lines)
        print(f"{folder.name}\teach line\t{len(lines)} lines\t"
              + ", ".join(f"{code} {n}" for code, n in calls.most_common(4)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
