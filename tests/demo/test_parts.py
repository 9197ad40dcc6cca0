"""The demo's parts on small inputs: openclipart parsing, dedup and safe loading, objectives, sweeps, head files."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from dashboard.errors import GapscopeError
from ingest.base import BadItem
from ingest.demo import augment_sweeps, objectives
from ingest.demo.heads import DemoHeads, load_heads, save_heads
from ingest.demo.openclipart import caption_of, find_drawings, load_png

SVG = """<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:cc="http://web.resource.org/cc/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<metadata><rdf:RDF><cc:Work rdf:about="">
  <dc:title>{title}</dc:title><dc:description>HASH(0x862bbb8)</dc:description>
  <dc:subject><rdf:Bag><rdf:li>hash</rdf:li><rdf:li></rdf:li><rdf:li>Fruit</rdf:li><rdf:li>food</rdf:li></rdf:Bag></dc:subject>
  <dc:creator><cc:Agent><dc:title>Some Author</dc:title></cc:Agent></dc:creator>
</cc:Work></rdf:RDF></metadata><rect width="1" height="1"/></svg>"""


def _drawing(root, category, stem, title="Red apple", size=(40, 30)):
    """Write a PNG and its SVG into a fake openclipart tree."""
    (root / "png" / category).mkdir(parents=True, exist_ok=True)
    (root / "svg" / category).mkdir(parents=True, exist_ok=True)
    Image.new("RGBA", size, (255, 0, 0, 128)).save(root / "png" / category / f"{stem}.png")
    (root / "svg" / category / f"{stem}.svg").write_text(SVG.format(title=title))


def test_caption_joins_name_title_and_keywords_without_noise(tmp_path):
    _drawing(tmp_path, "food", "apple_red_01")
    assert caption_of(tmp_path / "svg" / "food" / "apple_red_01.svg") == "apple red. Red apple. fruit, food"


def test_drawings_are_deduplicated_across_folders_and_symlinks(tmp_path):
    _drawing(tmp_path, "food", "apple_01")
    _drawing(tmp_path, "plants", "apple_01")
    _drawing(tmp_path, "food", "pear_01", title="Pear")
    (tmp_path / "png" / "plants" / "pear_01.png").symlink_to(tmp_path / "png" / "food" / "pear_01.png")
    drawings, skipped = find_drawings(tmp_path)
    assert [(d.item_id, d.category) for d in drawings] == [("apple_01", "food"), ("pear_01", "food")]
    assert skipped == []


def test_drawing_without_svg_or_caption_is_reported(tmp_path):
    _drawing(tmp_path, "food", "apple_01")
    _drawing(tmp_path, "food", "blank", title="")
    (tmp_path / "svg" / "food" / "blank.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "svg" / "food" / "apple_01.svg").unlink()
    drawings, skipped = find_drawings(tmp_path)
    assert drawings == []
    assert any("no matching SVG" in s for s in skipped) and any("no cc:Work" in s for s in skipped)


def test_load_png_composites_on_white_and_refuses_bombs_and_broken_files(tmp_path):
    _drawing(tmp_path, "food", "apple_01")
    png = tmp_path / "png" / "food" / "apple_01.png"
    image = load_png(png)
    assert image.mode == "RGB" and image.getpixel((0, 0)) == (255, 127, 127)
    with pytest.raises(BadItem, match="pixel limit"):
        load_png(png, max_pixels=100)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(BadItem, match="unreadable PNG"):
        load_png(broken)


def test_cyclip_equals_infonce_when_the_modalities_are_symmetric():
    x = torch.nn.functional.normalize(torch.randn(8, 4, generator=torch.Generator().manual_seed(0)), dim=1)
    scale = torch.tensor(2.0)
    assert torch.isclose(objectives.cyclip(x, x, scale), objectives.info_nce(x, x, scale))
    y = torch.nn.functional.normalize(x + 0.5 * torch.randn(8, 4, generator=torch.Generator().manual_seed(1)), dim=1)
    assert objectives.cyclip(x, y, scale) > objectives.info_nce(x, y, scale)


def test_cloob_and_infonce_prefer_matched_pairs():
    x = torch.nn.functional.normalize(torch.randn(16, 8, generator=torch.Generator().manual_seed(0)), dim=1)
    shuffled = x[torch.randperm(16, generator=torch.Generator().manual_seed(2))]
    for name in objectives.OBJECTIVES:
        matched = objectives.loss(name, x, x, torch.tensor(np.log(10.0)))
        assert matched < objectives.loss(name, x, shuffled, torch.tensor(np.log(10.0))), name
    with pytest.raises(ValueError, match="unknown"):
        objectives.loss("siglip", x, x, torch.tensor(0.0))


def test_sweeps_start_from_the_image_and_cover_the_ranges():
    assert augment_sweeps.sweep_values("rotate")[[0, -1]].tolist() == [0.0, 356.4]
    assert augment_sweeps.sweep_values("hshift")[[0, -1]].tolist() == [-0.5, 0.5]
    source = augment_sweeps.SweepSource("red", "red", "red", lambda: Image.new("RGB", (50, 20), (200, 0, 0)))
    for op in augment_sweeps.OPS:
        images = list(augment_sweeps.sweep_images(source, op, steps=5))
        assert len(images) == 5 and images[0].size == (augment_sweeps.IMAGE_SIZE,) * 2
    blur = list(augment_sweeps.sweep_images(source, "blur", steps=3))
    base = np.asarray(augment_sweeps.square_on_white(source.load()))
    assert np.array_equal(np.asarray(blur[0]), base) and not np.array_equal(np.asarray(blur[2]), base)


def test_head_files_round_trip(tmp_path):
    heads = DemoHeads(6, 4, 3, 5, 1.5)
    save_heads(tmp_path / "h.safetensors", heads, {"image_dim": 6, "text_dim": 4, "dim": 3, "hidden": 5,
                                                   "logit_scale": 4.48})
    loaded, config = load_heads(tmp_path / "h.safetensors")
    assert config["logit_scale"] == 4.48
    for a, b in zip(heads.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)
    (tmp_path / "bad.safetensors").write_bytes(b"nonsense")
    with pytest.raises(GapscopeError, match="not a demo head file"):
        load_heads(tmp_path / "bad.safetensors")
