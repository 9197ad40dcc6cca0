"""Each dataset format through each model family with random weights, end to end into a real store.

The tiny random models are built by each family's own code (the fixtures and tiny configs of tests/ingest_models,
imported), saved to disk and loaded back by the registry inside `run_ingest` or `gapscope ingest`; the datasets are
built by ingest_helpers. Each test checks what the store holds (modalities, counts, dimension, logit scale, and
where the test holds the saved model, the vectors themselves) and that `gapscope metrics` runs on the result.
"""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from dashboard.analysis.sigmoid_loss import sigmoid_loss
from dashboard.cli import main
from dashboard.store import Store
from ingest.datasets import open_dataset
from ingest.engine import run_ingest
from ingest.models import load_model
from ingest_helpers import build_audioset, build_cloome, build_coco, build_generic, build_sensors
from test_ingest_ray import ray_local  # noqa: F401 - fixture

MODEL_TESTS = Path(__file__).resolve().parents[1] / "ingest_models"
FAST = {"device": "cpu", "batch_size": 3, "workers": 0, "progress": False, "umap": False, "tsne": False}


def load_module(name: str, path: Path) -> ModuleType:
    """A module of tests/ingest_models loaded under its own name (its folder has a conftest.py of the same name)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


model_fixtures = load_module("ingest_models_conftest", MODEL_TESTS / "conftest.py")
cloob_tests = load_module("ingest_models_test_cloob", MODEL_TESTS / "test_cloob.py")
cloome_tests = load_module("ingest_models_test_cloome", MODEL_TESTS / "test_cloome.py")
imagebind_tests = load_module("ingest_models_test_imagebind", MODEL_TESTS / "test_imagebind.py")
hf_clip_folder = model_fixtures.hf_clip_folder
hf_siglip_folder = model_fixtures.hf_siglip_folder
hf_clap_folder = model_fixtures.hf_clap_folder
open_clip_tiny = model_fixtures.open_clip_tiny


def ingest(tmp_path: Path, kind: str, source: Path, spec: str, pretrained: str | None = None, **kwargs):
    """run_ingest into tmp_path/store as dataset "set"; the report and the store opened read-only."""
    report = run_ingest(tmp_path / "store", kind, str(source), spec, pretrained=pretrained, name="set",
                        **{**FAST, **kwargs})
    return report, Store.open(tmp_path / "store")


def stored(store: Store, model: str, family: str, counts: dict[str, int], dim: int,
           logit_scale: float) -> dict[str, tuple[list[str], np.ndarray]]:
    """Check the model's record and each modality's count and vectors; the embeddings by modality."""
    record = store.model(model)
    assert record["family"] == family and record["dim"] == dim
    assert record["logit_scale"] == pytest.approx(logit_scale, rel=1e-5)
    coverage = store.coverage()
    mine = coverage[(coverage["dataset"] == "set") & (coverage["model"] == model)]
    assert dict(zip(mine["modality"], mine["count"])) == counts
    out = {}
    for modality, count in counts.items():
        ids, vectors = store.embeddings("set", model, modality)
        assert vectors.shape == (count, dim) and np.isfinite(vectors).all()
        assert len({row.tobytes() for row in vectors}) == count, f"{modality}: items share a vector"
        out[modality] = (ids, vectors)
    return out


def metrics(capsys, store: Path, model: str, modalities: list[str], n: int, logit_scale: float) -> dict:
    """`gapscope metrics` on the ingested set: exit 0, n pairs, the stored logit scale, a finite gap and loss."""
    capsys.readouterr()
    assert main(["metrics", "--store", str(store), "--dataset", "set", "--model", model,
                 "--modalities", ",".join(modalities), "--clusters", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == n and result["modalities"] == modalities
    assert result["logit_scale"] == pytest.approx(logit_scale, rel=1e-5)
    assert math.isfinite(result["gap_distance"]) and math.isfinite(result["loss"])
    return result


def saved_scale(folder: Path, key: str) -> float:
    """exp of a learned log scale read straight from a save_pretrained folder's weights."""
    from safetensors.torch import load_file

    return float(load_file(str(folder / "model.safetensors"))[key].exp().reshape(-1)[0])


def reference(encoder, source_kind: str, root: Path, modality: str, ids: list[str]) -> np.ndarray:
    """The embeddings `encoder` gives the dataset's own decoded inputs of the items `ids`."""
    source = open_dataset(source_kind, str(root))
    records = {r.item_id: r for r in source.records()}
    return encoder.encode(modality, [encoder.preprocess(modality, source.decode(records[i], modality)) for i in ids])


@pytest.mark.parametrize("family, fixture, dim", [("hf-clip", "hf_clip_folder", 24),
                                                  ("hf-siglip", "hf_siglip_folder", 32)])
def test_hf_image_text_models_on_a_generic_manifest(tmp_path, request, capsys, family, fixture, dim):
    folder = request.getfixturevalue(fixture)
    root = build_generic(tmp_path / "generic", n=5)
    report, store = ingest(tmp_path, "generic", root, f"{family}:{folder}")
    assert report.embedded == 5 and not report.bad and report.precomputed
    scale = saved_scale(folder, "logit_scale")
    vectors = stored(store, str(folder), family, {"image": 5, "text": 5}, dim, scale)
    assert vectors["image"][0] == [f"g{i}" for i in range(5)]
    result = metrics(capsys, tmp_path / "store", str(folder), ["image", "text"], 5, scale)
    if family == "hf-siglip":
        from safetensors.torch import load_file
        bias = float(load_file(str(folder / "model.safetensors"))["logit_bias"].reshape(-1)[0])
        assert store.model(str(folder))["config"]["logit_bias"] == pytest.approx(bias, rel=1e-6)
        want = sigmoid_loss(vectors["image"][1], vectors["text"][1], scale, bias)
        assert result["logit_bias"] == pytest.approx(bias, rel=1e-6)
        assert result["sigmoid_loss"] == pytest.approx(want, rel=1e-6)
    else:
        assert result["logit_bias"] is None and result["sigmoid_loss"] is None


def test_hf_clap_on_audioset_clips_embeds_audio_and_text(tmp_path, hf_clap_folder, capsys):
    root = build_audioset(tmp_path / "audioset", n=5)
    report, store = ingest(tmp_path, "audioset", root, f"hf-clap:{hf_clap_folder}", precompute=False)
    assert report.embedded == 5 and not report.bad
    scale = saved_scale(hf_clap_folder, "logit_scale_a")
    vectors = stored(store, str(hf_clap_folder), "hf-clap", {"audio": 5, "text": 5}, 24, scale)
    assert store.dataset("set")["modalities"] == ["image", "text", "audio"]
    texts = store.items("set").set_index("item_id")["text"]
    assert all(texts[i] for i in vectors["text"][0])
    metrics(capsys, tmp_path / "store", str(hf_clap_folder), ["audio", "text"], 5, scale)


def tiny_imagebind(tmp_path: Path):
    """The tiny ImageBind config file and a model built from it with random weights."""
    config = tmp_path / "imagebind-tiny.json"
    config.write_text(json.dumps(imagebind_tests.TINY))
    return config, load_model(f"imagebind:{config}", pretrained="none")


def test_imagebind_checkpoint_on_audioset_triplets_embeds_image_text_and_audio(tmp_path, capsys):
    config, trained = tiny_imagebind(tmp_path)
    with torch.no_grad():
        trained.model.modality_postprocessors["text"][1].log_logit_scale.fill_(math.log(30.0))
    torch.save(trained.model.state_dict(), tmp_path / "imagebind.pth")
    root = build_audioset(tmp_path / "audioset", n=5)
    weights = str(tmp_path / "imagebind.pth")
    report, store = ingest(tmp_path, "audioset", root, f"imagebind:{config}", pretrained=weights)
    assert report.embedded == 5 and not report.bad and report.precomputed
    vectors = stored(store, str(config), "imagebind", {"image": 4, "text": 5, "audio": 5}, 16, 30.0)
    for modality, (ids, got) in vectors.items():
        np.testing.assert_allclose(got, reference(trained, "audioset", root, modality, ids), atol=1e-5)
    for modalities, n in ((["image", "text"], 4), (["audio", "text"], 5), (["image", "audio"], 4)):
        metrics(capsys, tmp_path / "store", str(config), modalities, n, 30.0)


def test_imagebind_on_a_generic_set_of_depth_thermal_and_imu(tmp_path, capsys):
    config, trained = tiny_imagebind(tmp_path)
    torch.save(trained.model.state_dict(), tmp_path / "imagebind.pth")
    root = build_sensors(tmp_path / "sensors", n=5)
    np.save(root / "files" / "3-imu.npy", np.zeros((6, 1500), np.float32))
    np.save(root / "files" / "4-depth.npy", np.full((20, 20), np.nan, np.float32))
    report, store = ingest(tmp_path, "generic", root, f"imagebind:{config}", pretrained=str(tmp_path / "imagebind.pth"),
                           precompute=False)
    assert report.embedded == 3 and [bad["item_id"] for bad in report.bad] == ["s3", "s4"]
    assert "imu" in report.bad[0]["reason"] and "depth" in report.bad[1]["reason"]
    vectors = stored(store, str(config), "imagebind", dict.fromkeys(["image", "text", "depth", "thermal", "imu"], 3),
                     16, 1 / 0.07)
    for modality, (ids, got) in vectors.items():
        assert ids == ["s0", "s1", "s2"]
        np.testing.assert_allclose(got, reference(trained, "generic", root, modality, ids), atol=1e-5)
    for modalities in (["depth", "text"], ["thermal", "image"], ["imu", "text"]):
        metrics(capsys, tmp_path / "store", str(config), modalities, 3, 1 / 0.07)


def test_cloome_checkpoint_on_a_cloome_set_embeds_microscopy_and_molecules(tmp_path, capsys):
    config = tmp_path / "tiny-cloome.json"
    config.write_text(json.dumps(cloome_tests.TINY))
    trained = load_model(f"cloome:{config}", pretrained="none")
    with torch.no_grad():
        trained.model.logit_inv_tau.fill_(math.log(20.0))
    torch.save({"epoch": 1, "state_dict": {f"module.{k}": v for k, v in trained.model.state_dict().items()}},
               tmp_path / "cloome.pt")
    root = build_cloome(tmp_path / "cloome", n=6)
    report, store = ingest(tmp_path, "cloome", root, f"cloome:{config}", pretrained=str(tmp_path / "cloome.pt"))
    assert report.embedded == 6 and not report.bad and report.precomputed
    vectors = stored(store, str(config), "cloome", {"microscopy": 6, "molecule": 6}, 16, 20.0)
    for modality, (ids, got) in vectors.items():
        assert ids == [f"plate-{k}" for k in range(6)]
        np.testing.assert_allclose(got, reference(trained, "cloome", root, modality, ids), atol=1e-5)
    metrics(capsys, tmp_path / "store", str(config), ["microscopy", "molecule"], 6, 20.0)


def test_cloob_checkpoint_on_a_coco_set(tmp_path, open_clip_tiny, capsys):
    trained = load_model(f"open_clip:{open_clip_tiny['rn']}", pretrained="none")
    cloob_tests.cloob_checkpoint(trained, tmp_path / "cloob.pt", {"logit_inv_tau": torch.tensor(math.log(25.0))})
    root = build_coco(tmp_path / "coco", n=6)
    report, store = ingest(tmp_path, "mscoco", root, f"cloob:{open_clip_tiny['rn']}", pretrained=str(tmp_path / "cloob.pt"))
    assert report.embedded == 6 and not report.bad and report.precomputed
    vectors = stored(store, open_clip_tiny["rn"], "cloob", {"image": 6, "text": 6}, 32, 25.0)
    for modality, (ids, got) in vectors.items():
        assert ids == [str(139 + k) for k in range(6)]
        np.testing.assert_allclose(got, reference(trained, "mscoco", root, modality, ids), atol=1e-5)
    metrics(capsys, tmp_path / "store", open_clip_tiny["rn"], ["image", "text"], 6, 25.0)


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_precomputed_vectors_through_the_cli_are_stored_as_given(tmp_path, capsys, engine, request):
    if engine == "ray":
        request.getfixturevalue("ray_local")
    root = build_generic(tmp_path / "generic", n=6)
    ids = ["g3", "g0", "g4", "g1", "g2", "elsewhere"]
    rng = np.random.default_rng(7)
    given = {m: rng.normal(size=(6, 8)).astype(np.float32) for m in ("image", "text")}
    np.savez(tmp_path / "vectors.npz", item_id=np.array(ids), logit_scale=np.float32(42.0), **given)
    path = str(tmp_path / "vectors.npz")
    assert main(["ingest", "--store", str(tmp_path / "store"), "--dataset-type", "generic", "--source", str(root),
                 "--model", f"precomputed:{path}", "--name", "set", "--device", "cpu", "--workers", "0",
                 "--batch-size", "4", "--engine", engine, "--no-umap", "--no-tsne", "--no-progress"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["embedded"] == 5 and report["precomputed"] is True
    assert report["bad"] == [{"item_id": "g5", "reason": "image: no precomputed vector for item 'g5'"}]
    vectors = stored(Store.open(tmp_path / "store"), path, "precomputed", {"image": 5, "text": 5}, 8, 42.0)
    for modality, (got_ids, got) in vectors.items():
        assert got_ids == [f"g{i}" for i in range(5)]
        np.testing.assert_array_equal(got, given[modality][[ids.index(i) for i in got_ids]])
    metrics(capsys, tmp_path / "store", path, ["image", "text"], 5, 42.0)


def test_builtin_demo_model_with_saved_heads_on_a_generic_set(tmp_path, capsys):
    from ingest.demo import towers
    from ingest.demo.heads import DemoHeads, save_heads

    torch.manual_seed(0)
    heads = DemoHeads(towers.IMAGE_DIM, towers.TEXT_DIM, 16, 0, math.log(12.5)).eval()
    config = {"objective": "clip", "image_dim": towers.IMAGE_DIM, "text_dim": towers.TEXT_DIM, "dim": 16,
              "hidden": 0, "seed": 0, "logit_scale": 12.5}
    save_heads(tmp_path / "heads.safetensors", heads, config)
    root = build_generic(tmp_path / "generic", n=4)
    report, store = ingest(tmp_path, "generic", root, "builtin:demo-clip", pretrained=str(tmp_path / "heads.safetensors"))
    assert report.embedded == 4 and not report.bad and report.precomputed
    vectors = stored(store, "demo-clip", "builtin", {"image": 4, "text": 4}, 16, 12.5)
    ids, text = vectors["text"]
    items = store.items("set").set_index("item_id")["text"]
    with torch.inference_mode():
        want = heads.embed("text", torch.from_numpy(towers.TextTower().features([items[i] for i in ids]))).numpy()
    np.testing.assert_allclose(text, want, atol=1e-5)
    metrics(capsys, tmp_path / "store", "demo-clip", ["image", "text"], 4, 12.5)
