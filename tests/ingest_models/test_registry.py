"""The registry: spec parsing, unknown families, absent family modules, listing, and a cheap import."""
from __future__ import annotations

import subprocess
import sys

import pytest

from dashboard.errors import GapscopeError
from ingest.models import list_models, load_model, registry


def test_registry_import_does_not_import_torch():
    code = "import sys, ingest.models; print(sorted({'torch', 'open_clip', 'transformers'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_family_of_the_brief_is_registered_with_builtin_reserved():
    assert set(registry.FAMILIES) == {"open_clip", "hf-clip", "hf-siglip", "hf-clap", "cloob", "imagebind",
                                      "cloome", "precomputed", "builtin"}
    assert registry.FAMILIES["builtin"] == "ingest.models.builtin"


@pytest.mark.parametrize("spec", ["ViT-B-32", "open_clip:", ":ViT-B-32"])
def test_malformed_spec_lists_families(spec):
    with pytest.raises(GapscopeError, match=r"expected FAMILY:NAME \(families: open_clip, hf-clip"):
        load_model(spec)


def test_unknown_family_lists_families():
    with pytest.raises(GapscopeError) as error:
        load_model("clipp:ViT-B-32")
    message = str(error.value)
    assert "unknown family 'clipp'" in message and "cloome" in message and "\n" not in message


def test_registered_family_without_its_module_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(registry.FAMILIES, "ghost", "ingest.models.ghost_family")
    with pytest.raises(GapscopeError, match="its module ingest.models.ghost_family is not installed"):
        load_model("ghost:anything")
    assert list_models()["ghost"] == []


def test_list_models_names_each_family():
    listing = list_models()
    assert "ViT-B-32" in listing["open_clip"] and "RN50" in listing["open_clip"]
    assert "openai/clip-vit-base-patch32" in listing["hf-clip"]
    assert "laion/clap-htsat-unfused" in listing["hf-clap"]
    assert listing["cloob"] == ["RN50", "RN101", "RN50x4", "ViT-B-16"]
    assert listing["cloome"] == ["RN50"] and listing["imagebind"] == ["huge"]
