"""The operating points of the technique detector: which of the manifest's paragraph threshold sets a
name selects.  Kept free of heavy imports, so the CLI can offer the names without loading a model."""

from __future__ import annotations

__all__ = ["OPERATING_POINTS"]

OPERATING_POINTS = {
    "micro": "paragraph",                            # tuned together for micro-F1 (the official subtask-3 metric)
    "per-technique": "paragraph_per_technique",      # each technique's own F1: more rare techniques, more false alarms
}
