"""Every kind of bad item is skipped, counted and listed with its reason; the run completes with the good ones."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from dashboard.store import Store
from ingest.datasets import open_dataset
from ingest.engine import run_ingest
from ingest.local_engine import ingest_source
from ingest.plan import Options
from ingest_helpers import TinyEncoder, bomb_png, build_audioset, build_cloome, build_coco, build_generic, tone

FAST = {"workers": 0, "progress": False, "precompute": False}


def reasons(report) -> dict[str, str]:
    """Item id -> reason of the report's bad items."""
    return {b["item_id"]: b["reason"] for b in report.bad}


def test_image_text_bad_items_are_reported_and_the_rest_ingested(tmp_path, clip_spec):
    root = build_generic(tmp_path / "g", n=3)
    (root / "files" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    bomb_png(root / "files" / "bomb.png")
    manifest = pd.read_csv(root / "manifest.csv")
    extra = pd.DataFrame({"id": ["corrupt", "missing", "empty", "bomb"],
                          "text": ["a photo", "a photo", "   ", "a photo"],
                          "image": ["files/corrupt.jpg", "files/gone.jpg", "files/0.jpg", "files/bomb.png"],
                          "license": ["x"] * 4})
    pd.concat([manifest, extra]).to_csv(root / "manifest.csv", index=False)
    report = run_ingest(tmp_path / "store", "generic", str(root), clip_spec, name="g", batch_size=4, device="cpu", **FAST)
    found = reasons(report)
    assert report.embedded == 3 and set(found) == {"corrupt", "missing", "empty", "bomb"}
    assert found["corrupt"].startswith("image: corrupt image")
    assert found["missing"].startswith("image: missing file") and "gone.jpg" in found["missing"]
    assert found["empty"] == "text: empty caption"
    assert found["bomb"] == "image: oversized image (10000000000 pixels, cap 64000000)"
    saved = json.loads(Path(report.report_path).read_text())
    assert saved["bad_count"] == 4 and Path(report.report_path).parent == tmp_path / "store" / "reports"
    assert Store.open(tmp_path / "store").items("g")["item_id"].tolist() == ["g0", "g1", "g2"]


def test_pixel_cap_is_an_option(tmp_path, clip_spec):
    root = build_generic(tmp_path / "g", n=2)
    report = run_ingest(tmp_path / "store", "generic", str(root), clip_spec, batch_size=4, device="cpu",
                        dataset_options={"max_pixels": 1000}, **FAST)
    assert report.embedded == 0 and len(report.bad) == 2
    assert all(re.fullmatch(r"image: oversized image \(\d+x\d+ pixels, cap 1000\)", b["reason"]) for b in report.bad)


def test_undecodable_and_missing_audio(tmp_path):
    root = build_audioset(tmp_path / "a", n=4)
    clips = sorted((root / "audio").iterdir())
    clips[0].write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot audio at all")
    clips[1].unlink()
    corrupt, gone = (c.name.rsplit("_", 1)[0] for c in clips[:2])
    report = ingest_source(tmp_path / "store", open_dataset("audioset", str(root)), TinyEncoder, "audioset", str(root),
                           options=Options(**FAST))
    found = reasons(report)
    assert report.embedded == 2 and set(found) == {corrupt, gone}
    assert found[corrupt].startswith("audio: undecodable audio (")
    assert found[gone] == "audio: missing file (none found for this item)"


def test_invalid_smiles_is_a_bad_item(tmp_path):
    root = build_cloome(tmp_path / "c", bad_smiles=True)
    report = ingest_source(tmp_path / "store", open_dataset("cloome", str(root)), TinyEncoder, "cloome", str(root),
                           options=Options(**FAST))
    assert report.embedded == 4 and reasons(report) == {"plate-1": "molecule: invalid SMILES 'C1CC(=O'"}


def test_empty_audio_file_is_undecodable(tmp_path):
    import soundfile

    root = build_audioset(tmp_path / "a", n=2)
    clip = sorted((root / "audio").iterdir())[0]
    soundfile.write(clip, tone(0.0, 16000, 100.0), 16000)
    report = ingest_source(tmp_path / "store", open_dataset("audioset", str(root)), TinyEncoder, "audioset", str(root),
                           options=Options(**FAST))
    assert [b["reason"] for b in report.bad] == ["audio: undecodable audio (no samples)"]


def test_coco_image_without_captions_is_an_empty_caption(tmp_path, clip_spec):
    root = build_coco(tmp_path / "coco", n=3)
    path = root / "annotations" / "captions_val2017.json"
    data = json.loads(path.read_text())
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] != 140]
    path.write_text(json.dumps(data))
    report = run_ingest(tmp_path / "store", "mscoco", str(root), clip_spec, device="cpu", **FAST)
    assert report.embedded == 2 and reasons(report) == {"140": "text: empty caption"}


class PickyEncoder(TinyEncoder):
    """A TinyEncoder whose preprocessing fails (not with BadItem) on one caption."""

    def preprocess(self, modality, decoded):
        if modality == "text" and decoded.startswith("Bird"):
            raise ValueError("tokenizer exploded\nsecond line")
        return super().preprocess(modality, decoded)


def test_an_unexpected_error_in_one_item_is_reported_and_the_run_goes_on(tmp_path):
    root = build_audioset(tmp_path / "a", n=3)
    report = ingest_source(tmp_path / "store", open_dataset("audioset", str(root)), PickyEncoder, "audioset", str(root),
                           options=Options(**FAST))
    assert report.embedded == 2 and [b["reason"] for b in report.bad] == ["text: unexpected ValueError: tokenizer exploded"]
