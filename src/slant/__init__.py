"""slant: shows how a news article persuades.

Genre, frames and persuasion techniques (SemEval-2023 Task 3 label sets) with
the character spans that carry them.  The public API::

    import slant
    doc = slant.analyze(slant.read_article("examples/article900000001.txt"))
    doc.techniques            # {paragraph number: [Label(name, score), ...]}
    doc.spans                 # [Span(start, end, technique, score, text), ...]

Label sets live in :mod:`slant.taxonomy`, file formats in :mod:`slant.formats`,
the JSON form in :mod:`slant.schema`, the official metrics in :mod:`slant.evaluate`.
"""

import logging
import os

# The runtime's threads are onnxruntime's; numpy's BLAS threads only spin-wait
# beside them after the small head products and take a core away (measured:
# 8.0 -> 12.6 articles/s on 2 cores).  An explicit setting by the user wins.
# This works only before numpy is first imported; where numpy came first,
# loading a detector sets the same limit (slant.runtime.one_blas_thread).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .document import Document, Label, Paragraph, Span
from .errors import FormatError, InputError, LabelError, ModelError, SlantError, SpanError
from .evaluate import evaluate_files
from .formats import read_article, read_articles

__version__ = "0.1.0"

__all__ = [
    "Document", "FormatError", "InputError", "Label", "LabelError", "ModelError", "Paragraph",
    "SlantError", "Span", "SpanError", "__version__", "analyze", "evaluate_files", "read_article", "read_articles",
]


def analyze(item, detector=None):
    """Analyse a text or a Document with the shipped model; see :func:`slant.runtime.analyze`.

    Imports the runtime (onnxruntime) on first call only, so ``import slant`` stays light.
    """
    from .runtime import analyze as _analyze

    return _analyze(item, detector)

logging.getLogger(__name__).addHandler(logging.NullHandler())
