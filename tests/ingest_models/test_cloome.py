"""CLOOME family: CLOOME's architecture rebuilt key for key, RDKit fingerprints, checkpoints saved and reloaded."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from dashboard.errors import GapscopeError
from ingest.base import BadItem
from ingest.models import load_model
from ingest.models.cloome import CHANNEL_MEANS, fingerprint

SMILES = ["CCO", "c1ccccc1O", "C[C@H](N)C(=O)O"]
TINY = {"embed_dim": 16, "vision_block": "bottleneck", "input_channels": 5, "vision_layers": [1, 1, 1, 1],
        "input_size": 1024, "molecule_layers": 2, "hidden_dim": 32, "image_size": [64, 80]}


@pytest.fixture
def tiny_config(tmp_path) -> str:
    """A CLOOME model config JSON (CLOOME's keys, tiny sizes)."""
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    return str(path)


def microscopy(n: int) -> list[np.ndarray]:
    """Random five-channel images on the 0-255 scale, larger than the crop."""
    rng = np.random.default_rng(3)
    return [rng.uniform(0, 255, (70, 90, 5)).astype(np.float32) for _ in range(n)]


def embed(encoder):
    """Microscopy and molecule embeddings through the Encoder protocol."""
    return (encoder.encode("microscopy", [encoder.preprocess("microscopy", im) for im in microscopy(2)]),
            encoder.encode("molecule", [encoder.preprocess("molecule", s) for s in SMILES]))


def test_random_model_has_cloome_parameter_names_and_shapes(tiny_config):
    encoder = load_model(f"cloome:{tiny_config}", pretrained="none")
    assert encoder.modalities == ["microscopy", "molecule"] and encoder.dim == 16
    keys = encoder.model.state_dict()
    for key in ["visual.conv1.weight", "visual.layer1.0.downsample.0.weight", "visual.layer2.0.bn3.running_var",
                "visual.fc.weight", "transformer.layers.0.0.weight", "transformer.layers.1.1.running_mean",
                "transformer.layers.2.0.bias", "logit_inv_tau"]:
        assert key in keys, key
    assert keys["visual.conv1.weight"].shape == (64, 5, 7, 7)
    assert encoder.logit_scale == pytest.approx(14.3, rel=1e-6)
    image, molecule = embed(encoder)
    assert image.shape == (2, 16) and molecule.shape == (3, 16) and image.dtype == np.float32


def test_checkpoint_in_cloome_format_loads_back(tiny_config, tmp_path):
    trained = load_model(f"cloome:{tiny_config}", pretrained="none")
    with torch.no_grad():
        trained.model.logit_inv_tau.fill_(math.log(30.0))
    weights = {f"module.{k}": v for k, v in trained.model.state_dict().items()}
    torch.save({"epoch": 70, "state_dict": weights}, tmp_path / "cloome.pt")
    loaded = load_model(f"cloome:{tiny_config}", pretrained=str(tmp_path / "cloome.pt"))
    assert loaded.logit_scale == pytest.approx(30.0, rel=1e-6)
    for got, want in zip(embed(loaded), embed(trained)):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_fingerprint_is_cloome_morgan_radius_3_chiral_1024_bits():
    from rdkit import Chem, DataStructs
    from rdkit.Chem import AllChem
    for smiles in SMILES:
        bits = AllChem.GetMorganFingerprintAsBitVect(Chem.MolFromSmiles(smiles), radius=3, nBits=1024,
                                                     useChirality=True)
        expected = np.zeros((0,), dtype=np.int8)
        DataStructs.ConvertToNumpyArray(bits, expected)
        np.testing.assert_array_equal(fingerprint(smiles, 1024), expected.astype(np.float32))
    assert not np.array_equal(fingerprint("C[C@H](N)C(=O)O", 1024), fingerprint("C[C@@H](N)C(=O)O", 1024))


def test_microscopy_is_centre_cropped_and_normalised_by_channel_means(tiny_config):
    encoder = load_model(f"cloome:{tiny_config}", pretrained="none")
    image = microscopy(1)[0]
    cropped = encoder.preprocess("microscopy", image)
    assert cropped.shape == (5, 64, 80)
    np.testing.assert_array_equal(cropped.numpy(), image[3:67, 5:85].transpose(2, 0, 1))
    means = torch.tensor(CHANNEL_MEANS).view(1, -1, 1, 1)
    with torch.inference_mode():
        want = encoder.model.visual((cropped[None] - means) / means).numpy()
    np.testing.assert_allclose(encoder.encode("microscopy", [cropped]), want, atol=1e-6)


def test_bad_molecules_and_images_are_bad_items(tiny_config):
    encoder = load_model(f"cloome:{tiny_config}", pretrained="none")
    with pytest.raises(BadItem, match="invalid SMILES 'C1CC'"):
        encoder.preprocess("molecule", "C1CC")
    with pytest.raises(BadItem, match="empty SMILES"):
        encoder.preprocess("molecule", "")
    with pytest.raises(BadItem, match="expected a finite \\(H, W, 5\\) microscopy image, got \\(70, 90, 3\\)"):
        encoder.preprocess("microscopy", np.zeros((70, 90, 3), np.float32))


def test_errors_name_known_configs_and_missing_checkpoints(tiny_config, tmp_path):
    with pytest.raises(GapscopeError, match="unknown CLOOME model \\(known: RN50, or the path"):
        load_model("cloome:RN18", pretrained="none")
    with pytest.raises(GapscopeError, match="pass a CLOOME checkpoint path"):
        load_model(f"cloome:{tiny_config}")
    with pytest.raises(GapscopeError, match="checkpoint .*absent.pt does not exist"):
        load_model(f"cloome:{tiny_config}", pretrained=str(tmp_path / "absent.pt"))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**TINY, "hidden_dim": 16}))
    trained = load_model(f"cloome:{tiny_config}", pretrained="none")
    torch.save({"state_dict": trained.model.state_dict()}, tmp_path / "tiny.pt")
    with pytest.raises(GapscopeError, match="does not fit the architecture"):
        load_model(f"cloome:{other}", pretrained=str(tmp_path / "tiny.pt"))
