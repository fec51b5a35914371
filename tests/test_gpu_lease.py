"""The GPU lease as its calls run it (tools/gpu/README.md): the weights and data packed in parts, every phase of
tools/gpu/lease.sh run by bash from a stand-in repository root (tiny random encoders on the CPU), the results
joined at home, exported with --from-checkpoint and analysing an article; and the carrying itself, exactly."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import run_slant
from tiny_corpus import write_tiny_corpus

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("torch", reason="needs the train extra")


def tiny_pretrained(folder: Path) -> tuple[Path, Path]:
    """Stand-ins for the two pretrained folders: tiny random MiniLM-shaped and MPNet-shaped models saved as
    transformers saves them, MiniLM's with the real tokenizer files."""
    from transformers import BertConfig, BertModel, MPNetConfig, MPNetModel

    from slant.training.carry import MINILM_FILES
    from slant.training.model import minilm_dir

    minilm, mpnet = folder / "minilm", folder / "mpnet"   # (--tiny trains encoders of its own: these only travel)
    BertModel(BertConfig(vocab_size=1000, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=128)).save_pretrained(minilm)
    for name in MINILM_FILES[1:]:
        shutil.copy(minilm_dir() / name, minilm / name)
    MPNetModel(MPNetConfig(vocab_size=1000, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                           intermediate_size=128)).save_pretrained(mpnet)
    return minilm, mpnet


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    from slant.training.carry import pack

    root = tmp_path_factory.mktemp("lease")
    write_tiny_corpus(root / "data")
    minilm, mpnet = tiny_pretrained(root / "pretrained")
    parts = pack(root / "data", root / "repo" / "lease", minilm, mpnet, part_mb=0.15)
    return root, minilm, mpnet, parts


def test_parts_are_cut_to_size_and_unpack_to_the_same_models_and_data(packed, tmp_path):
    from safetensors.numpy import load_file

    from slant.training.carry import unpack
    from slant.training.corpus import load_english

    root, minilm, mpnet, parts = packed
    names = [p.name for p in parts]
    assert "minilm-data.tgz.2-of-" in " ".join(names) and "mpnet.tar.2-of-" in " ".join(names), names
    assert all(p.stat().st_size <= 150_000 for p in parts)
    done, missing = unpack(root / "repo" / "lease", tmp_path)
    assert sorted(done) == ["minilm-data.tgz", "mpnet.tar"] and missing == []
    for rel in ("semeval2023/en/train-labels-subtask-3.txt", "ptc2020/train-task2-TC.labels"):
        assert (tmp_path / "data" / rel).read_bytes() == (root / "data" / rel).read_bytes()
    assert load_english(tmp_path / "data").data_hash == load_english(root / "data").data_hash
    for original, name, tolerance in ((minilm, "minilm", 1e-3), (mpnet, "mpnet", 1 / 127)):
        before = load_file(str(original / "model.safetensors"))
        after = load_file(str(tmp_path / name / "model.safetensors"))
        assert set(before) == set(after)
        for key, w in before.items():   # half precision, or int8 within half a step of its row group's scale
            assert after[key].dtype == np.float32 and after[key].shape == w.shape
            assert np.abs(after[key] - w).max() <= tolerance * max(np.abs(w).max(), 1e-6) + 1e-6, key
    assert (tmp_path / "minilm" / "tokenizer.json").read_bytes() == (minilm / "tokenizer.json").read_bytes()
    assert unpack(root / "repo" / "lease", tmp_path) == (["minilm-data.tgz", "mpnet.tar"], [])   # once only


def test_packing_again_replaces_the_earlier_parts(tmp_path):
    """Packed again with another part size: no part of the earlier cut is left to mix in."""
    from slant.training.carry import pack

    write_tiny_corpus(tmp_path / "data")
    minilm, _ = tiny_pretrained(tmp_path / "pretrained")
    first = pack(tmp_path / "data", tmp_path / "lease", minilm, None, part_mb=0.15)
    again = pack(tmp_path / "data", tmp_path / "lease", minilm, None, part_mb=10)
    assert len(first) > 1 and [p.name for p in again] == ["minilm-data.tgz.1-of-1"]
    assert sorted(p.name for p in (tmp_path / "lease").iterdir()) == ["minilm-data.tgz.1-of-1"]


def test_int8_weights_keep_the_models_states(packed):
    """The int8 round trip on a matrix like MPNet's: each row group within half a step of its scale."""
    from slant.training.carry import GROUP, dequantise, quantise

    w = np.random.default_rng(0).normal(0, 0.05, size=(96, 256)).astype(np.float32)
    w[3, :GROUP] = 0   # an all-zero group keeps its zeros
    arrays = quantise({"m": w, "b": w[0]}, int8=True)
    assert arrays["q:m"].dtype == np.int8 and arrays["h:b"].dtype == np.float16
    back = dequantise(arrays)
    step = np.abs(w.reshape(-1, GROUP)).max(axis=1) / 127
    assert (np.abs(back["m"] - w).reshape(-1, GROUP).max(axis=1) <= step * 0.51 + 1e-7).all()
    assert (back["m"][3, :GROUP] == 0).all()


def carry(*args: str) -> subprocess.CompletedProcess:
    """``python -m slant.training.carry ARGS`` as a user runs it."""
    return subprocess.run([sys.executable, "-m", "slant.training.carry", *args], capture_output=True, text=True)


def test_a_missing_part_is_named_and_required_bundles_fail_in_one_line(packed, tmp_path):
    root, *_ = packed
    some = tmp_path / "parts"
    some.mkdir()
    mpnet = sorted(p.name for p in (root / "repo" / "lease").glob("mpnet.tar.*"))
    for name in mpnet[1:]:
        shutil.copy(root / "repo" / "lease" / name, some)
    r = carry("unpack", str(some), "--to", str(tmp_path / "x"))
    assert r.returncode == 0 and f"mpnet.tar (lacks {mpnet[0]}): not yet" in r.stdout, r.stdout + r.stderr
    r = carry("unpack", str(some), "--to", str(tmp_path / "x"), "--require", "mpnet.tar")
    assert r.returncode == 1 and r.stderr.strip() == f"error: {some}: mpnet.tar not complete there", r.stderr
    (some / mpnet[0]).write_bytes(b"not a tar")
    r = carry("unpack", str(some), "--to", str(tmp_path / "x"))
    assert r.returncode == 1 and "its parts do not join into a bundle" in r.stderr and "Traceback" not in r.stderr
    r = carry("pack", "--data", str(tmp_path), "--out", str(tmp_path / "y"))
    assert r.returncode == 1 and "semeval2023/en/train-articles: missing" in r.stderr and "Traceback" not in r.stderr
    r = carry("pack", "--data", str(root / "data"), "--out", str(tmp_path / "y"), "--part-mb", "0")
    assert r.returncode == 2 and "'0' is not a size above 0" in r.stderr and "Traceback" not in r.stderr
    r = carry("unpack", str(tmp_path / "none"), "--to", str(tmp_path / "x"))
    assert r.returncode == 1 and r.stderr.strip() == f"error: {tmp_path / 'none'}: no such folder"


def test_every_phase_of_a_lease_then_the_export_at_home(packed, tmp_path):
    """The calls of tools/gpu/README.md in order, each phase as bash runs it on the device, with tiny encoders
    on the CPU; then what comes back is joined, exported and analyses an article."""
    root, *_, parts = packed
    minilm = tuple(p.name for p in parts if p.name.startswith("minilm-data"))
    mpnet = tuple(p.name for p in parts if p.name.startswith("mpnet"))
    repo = tmp_path / "repo"
    (repo / "tools").mkdir(parents=True)
    (repo / "src").symlink_to(ROOT / "src")
    (repo / "tools" / "gpu").symlink_to(ROOT / "tools" / "gpu")
    (repo / "lease").mkdir()
    env = {**os.environ, "LEASE_DEVICE": "cpu", "LEASE_JOBS": "2", "LEASE_ARGS": "--tiny --max-articles 6",
           "LEASE_STAGE": str(tmp_path / "stage"), "LEASE_DATA": str(tmp_path / "shared" / "data"),
           "PYTHON": sys.executable,
           "LEASE_WAIT": "3000"}   # a device call's 540 s would fail this test on a busy machine, not a broken phase
    returned = tmp_path / "home"
    returned.mkdir()

    def call(*args: str, carry: tuple = (), status: int = 0, **more: str) -> str:
        for f in (repo / "lease").iterdir():   # each call carries only its own parts
            f.unlink()
        for name in carry:
            shutil.copy(root / "repo" / "lease" / name, repo / "lease" / name)
        out = tmp_path / "out"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        r = subprocess.run(["bash", "tools/gpu/lease.sh", *args], cwd=repo, env={**env, "OUT": str(out), **more},
                           capture_output=True, text=True, timeout=3600)   # a guard against a hang only
        assert r.returncode == status, r.stdout + r.stderr
        assert len(list(out.iterdir())) <= 8
        for f in out.iterdir():
            shutil.copy(f, returned / f.name)
        return r.stdout

    r = subprocess.run(["bash", "tools/gpu/lease.sh", "bogus"], cwd=repo, env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "unknown phase bogus" in r.stderr and not (tmp_path / "stage").exists()
    assert "started" in call("minilm", carry=minilm)
    assert f"mpnet.tar (lacks {mpnet[-1]}): not yet" in call("stage", carry=mpnet[:-1])
    text = call("mpnet", carry=mpnet[-1:], status=2, LEASE_WAIT="0")   # a call's time is up: the trainings go on
    assert "still training" in text and "run this phase again" in text
    text = call("mpnet")
    assert "runs/mp/cv.json" in text and "runs/scv/cv.json" in text
    text = call("students")
    assert "runs/ssm/cv.json" in text and "pieces 1 in all" in text
    call("collect", "2")
    pieces = sorted(returned.glob("runs.tgz.*"))
    assert pieces, list(returned.iterdir())
    home = tmp_path / "home-repo"
    home.mkdir()
    joined = home / "runs.tgz"
    joined.write_bytes(b"".join(p.read_bytes() for p in pieces))
    assert hashlib.sha256(joined.read_bytes()).hexdigest() in text
    subprocess.run(["tar", "-xzf", "runs.tgz"], cwd=home, check=True)
    cv = json.loads((home / "runs" / "ssm" / "cv.json").read_text())
    assert cv["recipe"]["distil_states"] and "--layers 3" in cv["command"]   # (--tiny trains 2)
    assert [t.get("base", "minilm") for t in cv["teachers"]] == ["minilm", "mpnet"]
    assert json.loads((home / "runs" / "mp" / "cv.json").read_text())["recipe"]["bf16"] is True
    r = run_slant("train", "--data", tmp_path / "shared" / "data", "--out", home / "model", "--from-checkpoint",
                  home / "runs" / "ssm" / "teacher-fp32.pt", cwd=home)
    assert r.returncode == 0, r.stderr
    manifest = json.loads((home / "model" / "manifest.json").read_text())
    assert "--distil-from runs/mp/targets.npz" in manifest["training"]["commands"][0]
    r = run_slant("analyze", "--model", home / "model", "--format", "json", "-",
                  stdin="The corrupt regime betrayed every family, and it will pay.\n")
    assert r.returncode == 0 and json.loads(r.stdout)["paragraphs"], r.stderr
