"""Each dataset format, built small, opened by its registered type and ingested into a real store."""
from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from dashboard.errors import GapscopeError
from dashboard.store import Store
from ingest.base import BadItem
from ingest.datasets import decoding, list_datasets, open_dataset
from ingest.engine import run_ingest
from ingest.local_engine import ingest_source
from ingest.plan import Options
from ingest_helpers import (COCO, DIFFUSION, TinyEncoder, build_audioset, build_cloome, build_coco, build_diffusiondb,
                            build_generic, build_sensors, build_webdataset, prompts)

FAST = {"workers": 0, "progress": False, "precompute": False}


def ingest(store, kind, source, spec, **kwargs):
    """run_ingest with small batches, no workers and no precompute unless asked."""
    return run_ingest(store, kind, str(source), spec, batch_size=kwargs.pop("batch_size", 4), device="cpu",
                      **{**FAST, **kwargs})


def test_registry_lists_every_type_and_rejects_unknown_ones():
    assert set(list_datasets()) == {"mscoco", "diffusiondb", "audioset", "cloome", "generic", "webdataset", "augment"}
    with pytest.raises(GapscopeError, match="unknown.*known: audioset"):
        open_dataset("imagenet", "/nowhere")


def test_mscoco_keeps_every_caption_and_pairs_the_chosen_one(tmp_path, clip_spec):
    root = build_coco(tmp_path / "coco")
    first = list(open_dataset("mscoco", str(root)).records())
    assert [r.item_id for r in first] == [str(139 + i) for i in range(6)]
    assert first[0].text == prompts(COCO)[0] and first[0].extra["captions"] == [prompts(COCO)[0], "second caption 0"]
    second = list(open_dataset("mscoco", str(root), caption_index=1).records())
    assert second[2].text == "second caption 2"
    seeded = [r.extra["caption_index"] for r in open_dataset("mscoco", str(root), caption_index="random-seeded", seed=3).records()]
    assert seeded == [r.extra["caption_index"] for r in open_dataset("mscoco", str(root), caption_index="random-seeded", seed=3).records()]
    report = ingest(tmp_path / "store", "mscoco", root, clip_spec, pretrained=None)
    store = Store.open(tmp_path / "store")
    assert report.dataset == "mscoco-val2017" and report.embedded == 6 and not report.bad
    items = store.items("mscoco-val2017", thumbnails=True)
    assert list(items["item_id"]) == [str(139 + i) for i in range(6)]
    assert json.loads(items["extra"][0])["captions"][1] == "second caption 0"
    assert max(Image.open(io.BytesIO(items["thumbnail"][0])).size) == 96
    paired = store.pairs("mscoco-val2017", report.model)
    assert len(paired) == 6 and paired.vectors["image"].shape == (6, 32)


def test_diffusiondb_reads_zip_and_folder_parts_and_skips_absent_ones(tmp_path, clip_spec):
    root = build_diffusiondb(tmp_path / "ddb")
    records = list(open_dataset("diffusiondb", str(root)).records())
    assert [r.item_id for r in records] == [f"img-{i}" for i in range(6)]
    assert records[0].image_ref.endswith("part-000001.zip::img-0.jpg") and records[0].extra["seed"] == 0
    assert len(list(open_dataset("diffusiondb", str(root), all_parts=True).records())) == 7
    report = ingest(tmp_path / "store", "diffusiondb", root, clip_spec, name="ddb")
    texts = Store.open(tmp_path / "store").items("ddb")["text"].tolist()
    assert report.embedded == 6 and texts == prompts(DIFFUSION)[:6]


def test_audioset_triplets_with_thumbnails_where_present(tmp_path):
    root = build_audioset(tmp_path / "audioset")
    source = open_dataset("audioset", str(root))
    records = list(source.records())
    assert source.modalities == ["image", "text", "audio"]
    assert records[0].text == "Domestic animals, pets, Howl, Dog, Animal" and records[-1].image_ref is None
    samples, rate = source.decode(records[1], "audio")
    assert rate == 16000 and samples.dtype == np.float32 and samples.shape == (16000,)
    report = ingest_source(tmp_path / "store", source, TinyEncoder, "audioset", str(root), options=Options(**FAST))
    store = Store.open(tmp_path / "store")
    coverage = store.coverage().set_index("modality")["count"].to_dict()
    assert report.embedded == 5 and coverage == {"audio": 5, "text": 5, "image": 4}
    assert len(store.pairs(report.dataset, "tiny-all")) == 4


def test_cloome_microscopy_and_molecules(tmp_path):
    root = build_cloome(tmp_path / "cloome")
    source = open_dataset("cloome", str(root))
    first = next(iter(source.records()))
    assert source.modalities == ["microscopy", "molecule"] and first.extra == {"plate": "7"}
    assert source.decode(first, "microscopy").shape == (24, 32, 5)
    report = ingest_source(tmp_path / "store", source, TinyEncoder, "cloome", str(root), options=Options(**FAST))
    store = Store.open(tmp_path / "store")
    assert report.embedded == 5 and len(store.pairs(report.dataset, "tiny-all")) == 5
    assert store.items(report.dataset)["molecule"].tolist() == prompts(COCO.parent / "CLOOMDataset_size-100")[:5]
    assert len(store.thumbnails(report.dataset, ["plate-0"])) == 1


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_generic_manifest_keeps_extra_columns(tmp_path, clip_spec, fmt):
    root = build_generic(tmp_path / "generic", fmt=fmt)
    report = ingest(tmp_path / "store", "generic", root, clip_spec, name="g")
    items = Store.open(tmp_path / "store").items("g")
    assert report.embedded == 5 and items["item_id"].tolist() == [f"g{i}" for i in range(5)]
    assert json.loads(items["extra"][0]) == {"license": "cc-by"}


def test_generic_manifest_references_are_spelt_as_pathlib_joins_them_with_missing_cells_kept_none(tmp_path):
    from pathlib import Path

    refs = ["img/0.jpg", "./img/0.jpg", "img//0.jpg", "/abs/x.jpg", "a/../b.jpg", "dir/", "a/.", "//net/x",
            "x.y/z", ""]
    (tmp_path / "manifest.csv").write_text("id,image,text,audio,depth\n" + "".join(
        f"{k},{ref},t{k},{ref},{ref}\n" for k, ref in enumerate(refs)))
    records = list(open_dataset("generic", str(tmp_path)).records())
    expected = [str(Path(tmp_path) / ref) if ref else None for ref in refs]
    assert [r.image_ref for r in records] == [r.audio_ref for r in records] == expected
    assert [r.extra["depth"] for r in records] == expected and records[-1].text == "t9"
    assert [r.item_id for r in records] == [str(k) for k in range(len(refs))]


def test_generic_depth_thermal_and_imu_decode_as_arrays(tmp_path):
    from PIL import Image

    root = build_sensors(tmp_path / "sensors")
    source = open_dataset("generic", str(root))
    records = list(source.records())
    assert source.modalities == ["image", "text", "depth", "thermal", "imu"]
    assert records[1].extra["imu"] == str(root / "files" / "1-imu.npy")
    depth = source.decode(records[0], "depth")
    np.testing.assert_array_equal(depth, np.load(root / "files" / "0-depth.npy"))
    eight, sixteen = (source.decode(records[k], "thermal") for k in (0, 1))
    raw = [np.asarray(Image.open(root / "files" / f"{k}-thermal.png")) for k in (0, 1)]
    np.testing.assert_allclose(eight, raw[0] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(sixteen, raw[1].astype(np.float32))
    assert sixteen.max() > 255 and eight.max() <= 1.0
    imu = [source.decode(records[k], "imu") for k in (0, 1)]
    assert imu[0].shape == imu[1].shape == (6, 2000)
    np.testing.assert_array_equal(imu[1], np.load(root / "files" / "1-imu.npy").T)


@pytest.mark.parametrize("content, reason", [
    (np.array([{"a": 1}], dtype=object), "corrupt npy"), (b"not an array", "corrupt npy"),
    (np.full((8, 8), np.nan, np.float32), "not a finite single-channel"),
    (np.zeros((3, 8, 8), np.float32), "shape (3, 8, 8)"),
])
def test_bad_depth_maps_are_bad_items(tmp_path, content, reason):
    path = tmp_path / "d.npy"
    path.write_bytes(content) if isinstance(content, bytes) else np.save(path, content, allow_pickle=True)
    with pytest.raises(BadItem, match=re.escape(reason)):
        decoding.decode_map(path)
    with pytest.raises(BadItem, match="not a finite \\(6, T\\) array|corrupt npy"):
        decoding.decode_imu(path)


def test_webdataset_shard_with_txt_and_json_captions(tmp_path, clip_spec):
    root = build_webdataset(tmp_path / "wds")
    records = list(open_dataset("webdataset", str(root)).records())
    assert [r.item_id for r in records] == ["000000", "000001", "000002", "000003"]
    assert records[1].text == prompts(COCO)[21] and records[1].extra["score"] == 0.5
    report = ingest(tmp_path / "store", "webdataset", root / "shard-000000.tar", clip_spec, name="w")
    assert report.embedded == 4 and len(Store.open(tmp_path / "store").pairs("w", report.model)) == 4


def test_augmentation_sweep_applies_each_op_at_each_step(tmp_path, clip_spec):
    source = open_dataset("augment", str(DIFFUSION), items="2", steps=10)
    records = list(source.records())
    assert len(records) == 50 and {r.text for r in records} == {prompts(DIFFUSION)[2].strip()}
    original = np.asarray(Image.open(DIFFUSION / "images" / "2.jpg").convert("RGB"), dtype=np.float32)
    for op in ("rotate", "blur", "noise", "hshift", "vshift"):
        steps = [r for r in records if r.extra["op"] == op]
        zero, later = (np.asarray(source.decode(steps[k], "image"), dtype=np.float32) for k in (0, 5))
        assert np.abs(zero - original).mean() < 1.0 and np.abs(later - original).mean() > 5.0, op
    report = ingest(tmp_path / "store", "augment", DIFFUSION, clip_spec, name="rot", batch_size=16,
                    dataset_options={"items": "2", "steps": 10, "ops": "rotate"})
    assert report.embedded == 10
    ids, image = Store.open(tmp_path / "store").embeddings("rot", report.model, "image")
    assert ids[3] == "2:rotate:003" and not np.allclose(image[0], image[3])


def test_draft_decoding_reduces_jpegs_at_the_dct_scale_only(tmp_path):
    from ingest.datasets.decoding import decode_image

    full = decode_image(COCO / "images" / "0.jpg")
    small = decode_image(COCO / "images" / "0.jpg", draft=150)
    assert small.size == ((full.size[0] + 1) // 2, (full.size[1] + 1) // 2) and min(small.size) >= 150
    Image.open(COCO / "images" / "0.jpg").save(tmp_path / "0.png")
    assert decode_image(tmp_path / "0.png", draft=150).size == full.size
