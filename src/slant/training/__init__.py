"""Training: needs the ``train`` extra (torch 2.13.0 CPU, transformers, scikit-learn).

Nothing here is imported by the runtime; ``slant train`` imports it on demand.
"""
