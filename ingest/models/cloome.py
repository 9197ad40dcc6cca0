"""CLOOME (Sanchez-Fernandez et al. 2023): cell-painting microscopy images and molecules in one embedding space.

The architecture is CLOOME's `CLIPGeneral` with backbones ["ResNet", "MLP"], rebuilt here key for key so its
checkpoints load: `visual` is a ResNet-50 with CLIP-style anti-aliased bottlenecks (open_clip's) on 5 input
channels (Mito, ERSyto, ERSytoBleed, Ph_golgi, Hoechst) ending in a linear layer; `transformer` is an MLP (Linear,
BatchNorm, ReLU blocks, then a Linear) on Morgan fingerprints (RDKit, radius 3, 1024 bits, with chirality, as in
CLOOME's preprocessing); `logit_inv_tau` is the log inverse temperature (the recorded logit scale is its exp).
Microscopy inputs are (H, W, 5) float32 arrays on the 0-255 scale of CLOOME's npz files; as in CLOOME's evaluation
transform they are centre-cropped to 520x696 and each channel normalised by (x - m) / m with CLOOME's dataset means.
The name is "RN50" (the released model's config) or the path of a CLOOME model config JSON; `pretrained` is a
checkpoint path (CLOOME's {"state_dict": {"module.*": ...}} files) or "none".
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from dashboard.errors import GapscopeError

CONFIGS = {"RN50": {"embed_dim": 512, "input_channels": 5, "vision_layers": [3, 4, 6, 3], "input_size": 1024,
                    "molecule_layers": 4, "hidden_dim": 1024}}
IMAGE_SIZE = (520, 696)
CHANNEL_MEANS = (47.1314, 40.8138, 53.7692, 46.2656, 28.7243)
FINGERPRINT_RADIUS = 3
INIT_INV_TAU = 14.3


def known_names() -> list[str]:
    """The released CLOOME configuration (any CLOOME model config JSON path is accepted too)."""
    return list(CONFIGS)


def model_config(name: str) -> dict[str, Any]:
    """The architecture config of a known name or of a CLOOME model config JSON file."""
    if name in CONFIGS:
        return dict(CONFIGS[name])
    path = Path(name)
    if path.suffix == ".json" and path.is_file():
        config = json.loads(path.read_text())
        if config.get("backbone_architecture", ["ResNet", "MLP"]) != ["ResNet", "MLP"]:
            raise GapscopeError(f"model cloome:{name}: only CLOOME's ResNet + MLP backbones are supported")
        return config
    raise GapscopeError(f"model cloome:{name}: unknown CLOOME model (known: {', '.join(CONFIGS)}, "
                        f"or the path of a CLOOME model config .json)")


def build_model(config: dict[str, Any]) -> Any:
    """CLOOME's CLIPGeneral(ResNet, MLP) with random weights."""
    import torch
    from torch import nn

    class Cloome(nn.Module):
        """Microscopy ResNet (`visual`), molecule MLP (`transformer`) and log inverse temperature."""

        def __init__(self) -> None:
            super().__init__()
            self.visual = build_resnet(config["input_channels"], config["vision_layers"], config["embed_dim"])
            self.transformer = build_mlp(config["input_size"], config["hidden_dim"], config["embed_dim"],
                                         config["molecule_layers"])
            self.logit_inv_tau = nn.Parameter(torch.ones([]) * float(np.log(config.get("init_inv_tau",
                                                                                      INIT_INV_TAU))))
    return Cloome().eval()


def build_resnet(channels: int, layers: list[int], output_dim: int) -> Any:
    """CLOOME's ResNet: 7x7 stem and max pool, four stages of CLIP bottlenecks, average pool, linear head."""
    from open_clip.modified_resnet import Bottleneck
    from torch import nn

    class ResNet(nn.Module):
        """The microscopy encoder, with CLOOME's parameter names."""

        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1, self.relu = nn.BatchNorm2d(64), nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            inplanes, stages = 64, []
            for index, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
                stride = 1 if index == 0 else 2
                stages.append(nn.Sequential(Bottleneck(inplanes, planes, stride),
                                            *[Bottleneck(planes * 4, planes) for _ in range(1, blocks)]))
                inplanes = planes * 4
            self.layer1, self.layer2, self.layer3, self.layer4 = stages
            self.avgpool = nn.AvgPool2d(7, stride=1)
            self.fc = nn.Linear(512 * 4, output_dim)

        def forward(self, x: Any) -> Any:
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            if min(x.shape[-2:]) >= 7:
                x = self.avgpool(x)
            x = nn.functional.avg_pool2d(x, x.shape[2:]) if x.shape[-2:] != (1, 1) else x
            return self.fc(x.flatten(1))
    return ResNet()


def build_mlp(input_dim: int, hidden_dim: int, output_dim: int, n_layers: int) -> Any:
    """CLOOME's molecule MLP: n (Linear, BatchNorm1d, ReLU) blocks then a Linear, as `layers`."""
    from torch import nn

    class MLP(nn.Module):
        """The molecule encoder, with CLOOME's parameter names."""

        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(
                [nn.Sequential(nn.Linear(input_dim if i == 0 else hidden_dim, hidden_dim),
                               nn.BatchNorm1d(hidden_dim), nn.ReLU()) for i in range(n_layers)]
                + [nn.Sequential(nn.Linear(hidden_dim, output_dim))])

        def forward(self, x: Any) -> Any:
            for layer in self.layers:
                x = layer(x)
            return x
    return MLP()


def fingerprint(smiles: Any, n_bits: int) -> np.ndarray:
    """The chiral Morgan fingerprint (radius 3) of a SMILES string as float32 bits; invalid SMILES raise BadItem."""
    from rdkit import Chem, RDLogger
    from rdkit.Chem import rdFingerprintGenerator
    from ingest.base import BadItem
    if not isinstance(smiles, str) or not smiles.strip():
        raise BadItem("empty SMILES")
    RDLogger.DisableLog("rdApp.*")
    molecule = Chem.MolFromSmiles(smiles)
    if molecule is None:
        raise BadItem(f"invalid SMILES {smiles!r}")
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=FINGERPRINT_RADIUS, fpSize=n_bits,
                                                          includeChirality=True)
    return generator.GetFingerprintAsNumPy(molecule).astype(np.float32)


def crop_microscopy(image: Any, channels: int, size: tuple[int, int]) -> Any:
    """A (H, W, C) image as a CHW float tensor centre-cropped (zero-padded if smaller) to `size`; else BadItem."""
    import torch
    from torchvision.transforms.functional import center_crop
    from ingest.base import BadItem
    array = np.asarray(image, dtype=np.float32) if isinstance(image, np.ndarray) else None
    if array is None or array.ndim != 3 or array.shape[2] != channels or not np.isfinite(array).all():
        shape = getattr(image, "shape", type(image).__name__)
        raise BadItem(f"expected a finite (H, W, {channels}) microscopy image, got {shape}")
    return center_crop(torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1))), list(size))


def load(name: str, pretrained: str | None, device: str, precision: str) -> Any:
    """A CLOOME model as a microscopy-molecule Encoder."""
    import torch
    from ingest.models import runtime
    what = f"cloome:{name}"
    config = model_config(name)
    if pretrained is None:
        raise GapscopeError(f"model {what}: pass a CLOOME checkpoint path (or none for random weights)")
    model = build_model(config)
    if pretrained != "none":
        runtime.load_into(what, model, runtime.read_state_dict(what, pretrained))
    torch_device = runtime.resolve_device(device)
    model = model.to(torch_device)
    channels, size = config["input_channels"], tuple(config.get("image_size", IMAGE_SIZE))
    means = torch.tensor(config.get("channel_means", CHANNEL_MEANS), device=torch_device).view(1, -1, 1, 1)
    steps = {
        "microscopy": runtime.Step(prepare=lambda image: crop_microscopy(image, channels, size),
                                   embed=lambda pixels: model.visual((pixels - means) / means)),
        "molecule": runtime.Step(prepare=lambda smiles: torch.from_numpy(fingerprint(smiles, config["input_size"])),
                                 embed=model.transformer),
    }
    return runtime.TorchEncoder(
        model=model, name=name, family="cloome", source=f"{what} pretrained={pretrained}", dim=config["embed_dim"],
        logit_scale=runtime.logit_scale_of(model.logit_inv_tau, INIT_INV_TAU), device=torch_device,
        dtype=runtime.autocast_dtype(torch_device, precision), steps=steps)
