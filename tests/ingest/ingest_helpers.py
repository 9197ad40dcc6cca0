"""Small datasets in each supported format, built from the shared Amumo exports, and a tiny all-modality Encoder."""
from __future__ import annotations

import io
import json
import shutil
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "amumo-reference"
COCO = SHARED / "MSCOCO-Val_size-100"
DIFFUSION = SHARED / "DiffusionDB_size-100"
CLOOME = SHARED / "CLOOMDataset_size-100"
TRIPLET = SHARED / "Triplet_size-100"


def prompts(folder: Path) -> list[str]:
    """The captions of an Amumo export, line i for image i."""
    return (folder / "prompts.txt").read_text(encoding="utf-8").splitlines()


def build_coco(root: Path, n: int = 6) -> Path:
    """A COCO-format set: annotations/captions_val2017.json and val2017/ images (two captions each)."""
    (root / "val2017").mkdir(parents=True)
    (root / "annotations").mkdir()
    texts, images, notes = prompts(COCO), [], []
    for i in range(n):
        name = f"{i + 139:012d}.jpg"
        shutil.copy(COCO / "images" / f"{i}.jpg", root / "val2017" / name)
        images.append({"id": i + 139, "file_name": name, "width": 640, "height": 480})
        notes += [{"image_id": i + 139, "id": 1000 + 2 * i + 1, "caption": f"second caption {i}"},
                  {"image_id": i + 139, "id": 1000 + 2 * i, "caption": texts[i]}]
    (root / "annotations" / "captions_val2017.json").write_text(json.dumps({"images": images, "annotations": notes}))
    return root


def build_diffusiondb(root: Path) -> Path:
    """metadata.parquet with parts 1 (a zip) and 2 (a folder); part 3 is listed but not downloaded."""
    texts, rows = prompts(DIFFUSION), []
    (root / "images" / "part-000002").mkdir(parents=True)
    with zipfile.ZipFile(root / "images" / "part-000001.zip", "w") as archive:
        for i in range(4):
            archive.write(DIFFUSION / "images" / f"{i}.jpg", f"img-{i}.jpg")
            rows.append({"image_name": f"img-{i}.jpg", "prompt": texts[i], "part_id": 1, "seed": i, "cfg": 7.0})
        archive.writestr("part-000001.json", "{}")
    for i in range(4, 6):
        shutil.copy(DIFFUSION / "images" / f"{i}.jpg", root / "images" / "part-000002" / f"img-{i}.jpg")
        rows.append({"image_name": f"img-{i}.jpg", "prompt": texts[i], "part_id": 2, "seed": i, "cfg": 7.0})
    rows.append({"image_name": "img-9.jpg", "prompt": texts[9], "part_id": 3, "seed": 9, "cfg": 7.0})
    pd.DataFrame(rows).to_parquet(root / "metadata.parquet")
    return root


def tone(seconds: float, rate: int, frequency: float) -> np.ndarray:
    """A sine tone with a little seeded noise."""
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(int(frequency)).normal(0, 0.01, t.size)
    return (0.5 * np.sin(2 * np.pi * frequency * t) + noise).astype(np.float32)


def build_audioset(root: Path, n: int = 5) -> Path:
    """infos.csv (Amumo's AudioSet triplets) with synthetic clips (wav and flac) and thumbnails for all but the last."""
    import soundfile

    infos = pd.read_csv(TRIPLET / "infos.csv").head(n)
    (root / "audio").mkdir(parents=True)
    (root / "thumbnails").mkdir()
    for k, row in enumerate(infos.itertuples()):
        suffix = "flac" if k % 2 else "wav"
        soundfile.write(root / "audio" / f"{row.video_id}_30.{suffix}", tone(1.0, 16000, 220.0 * (k + 1)), 16000)
        if k < n - 1:
            shutil.copy(TRIPLET / "images" / f"{k}.jpg", root / "thumbnails" / f"{row.video_id}.jpg")
    infos.to_csv(root / "infos.csv", index=False)
    return root


def build_cloome(root: Path, n: int = 5, bad_smiles: bool = False) -> Path:
    """An index CSV (SAMPLE_KEY, SMILES) and random five-channel npz images under npzs/."""
    (root / "npzs").mkdir(parents=True)
    rng = np.random.default_rng(0)
    smiles = prompts(CLOOME)[:n]
    if bad_smiles:
        smiles[1] = "C1CC(=O"
    keys = [f"plate-{k}" for k in range(n)]
    for key in keys:
        np.savez(root / "npzs" / f"{key}.npz", sample=rng.random((24, 32, 5), dtype=np.float32))
    pd.DataFrame({"SAMPLE_KEY": keys, "SMILES": smiles, "plate": [7] * n}).to_csv(root / "index.csv", index=False)
    return root


def build_generic(root: Path, n: int = 5, fmt: str = "csv") -> Path:
    """A folder with images and manifest.<fmt>: id, text, image, and an extra column."""
    (root / "files").mkdir(parents=True)
    texts = prompts(COCO)
    for i in range(n):
        shutil.copy(COCO / "images" / f"{10 + i}.jpg", root / "files" / f"{i}.jpg")
    frame = pd.DataFrame({"id": [f"g{i}" for i in range(n)], "text": texts[10:10 + n],
                          "image": [f"files/{i}.jpg" for i in range(n)], "license": ["cc-by"] * n})
    {"csv": lambda p: frame.to_csv(p, index=False), "parquet": frame.to_parquet,
     "jsonl": lambda p: frame.to_json(p, orient="records", lines=True)}[fmt](root / f"manifest.{fmt}")
    return root


def build_sensors(root: Path, n: int = 4) -> Path:
    """A generic manifest of image, text, depth (.npy disparity), thermal (8-bit and 16-bit PNG) and IMU (.npy)."""
    from PIL import Image

    (root / "files").mkdir(parents=True)
    rng = np.random.default_rng(5)
    for i in range(n):
        shutil.copy(COCO / "images" / f"{30 + i}.jpg", root / "files" / f"{i}.jpg")
        np.save(root / "files" / f"{i}-depth.npy", rng.uniform(0.5, 40.0, (240, 320)).astype(np.float32))
        dtype = np.uint8 if i % 2 == 0 else np.uint16
        thermal = rng.integers(0, np.iinfo(dtype).max, (200, 260)).astype(dtype)
        Image.fromarray(thermal).save(root / "files" / f"{i}-thermal.png")
        imu = rng.normal(size=(6, 2000)).astype(np.float32)
        np.save(root / "files" / f"{i}-imu.npy", imu if i % 2 == 0 else imu.T)
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(n)], "text": prompts(COCO)[30:30 + n],
                          "image": [f"files/{i}.jpg" for i in range(n)],
                          **{m: [f"files/{i}-{m}.{'png' if m == 'thermal' else 'npy'}" for i in range(n)]
                             for m in ("depth", "thermal", "imu")}})
    frame.to_csv(root / "manifest.csv", index=False)
    return root


def build_webdataset(root: Path, n: int = 4) -> Path:
    """One tar shard: key.jpg + key.txt for even keys, key.png + key.json (caption, score) for odd ones."""
    from PIL import Image

    root.mkdir(parents=True, exist_ok=True)
    texts = prompts(COCO)
    with tarfile.open(root / "shard-000000.tar", "w") as tar:
        for i in range(n):
            key = f"{i:06d}"
            if i % 2 == 0:
                files = {f"{key}.jpg": (COCO / "images" / f"{20 + i}.jpg").read_bytes(), f"{key}.txt": texts[20 + i].encode()}
            else:
                buffer = io.BytesIO()
                Image.open(COCO / "images" / f"{20 + i}.jpg").save(buffer, format="PNG")
                files = {f"{key}.png": buffer.getvalue(),
                         f"{key}.json": json.dumps({"caption": texts[20 + i], "score": 0.5}).encode()}
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return root


def bomb_png(path: Path, width: int = 100_000, height: int = 100_000) -> Path:
    """A PNG whose header claims width x height pixels (decoding it would need ~30 GB)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    return path


def tiny_clip_dir(folder: Path) -> str:
    """A tiny open_clip architecture with saved random weights, loadable as open_clip:local-dir:<folder>."""
    import open_clip
    import torch

    config = {"embed_dim": 32,
              "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "head_width": 32, "patch_size": 8},
              "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 1}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": config, "preprocess_cfg": {}}))
    torch.manual_seed(0)
    model = open_clip.create_model(f"local-dir:{folder}", pretrained=None)
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")
    return f"open_clip:local-dir:{folder}"


class TinyEncoder:
    """A real (tiny, seeded) torch Encoder for every modality: pixels, hashed tokens, audio spectra, npz channels."""

    family = "test"
    source = "tests/ingest"
    logit_scale = 10.0

    def __init__(self, dim: int = 16, name: str = "tiny-all") -> None:
        import torch

        torch.manual_seed(1)
        self.name, self.dim = name, dim
        self.modalities = ["image", "text", "audio", "molecule", "microscopy"]
        self.layers = {"image": torch.nn.Linear(3 * 16 * 16, dim), "microscopy": torch.nn.Linear(5 * 8 * 8, dim),
                       "audio": torch.nn.Linear(64, dim), "text": torch.nn.EmbeddingBag(997, dim),
                       "molecule": torch.nn.EmbeddingBag(997, dim)}

    def preprocess(self, modality: str, decoded: Any) -> Any:
        """CPU features of one decoded input."""
        import torch

        if modality == "image":
            return torch.from_numpy(np.asarray(decoded.resize((16, 16)), dtype=np.float32).ravel() / 255.0)
        if modality == "microscopy":
            step = (max(1, decoded.shape[0] // 8), max(1, decoded.shape[1] // 8))
            return torch.from_numpy(np.ascontiguousarray(decoded[::step[0], ::step[1]][:8, :8]).ravel())
        if modality == "audio":
            spectrum = np.abs(np.fft.rfft(decoded[0][:4096], n=4096))[:2048].reshape(64, 32).mean(axis=1)
            return torch.from_numpy((spectrum / (spectrum.max() + 1e-9)).astype(np.float32))
        grams = [decoded[k:k + 3] for k in range(max(1, len(decoded) - 2))]
        return torch.tensor([zlib.crc32(g.encode()) % 997 for g in grams], dtype=torch.long)

    def encode(self, modality: str, batch: Any) -> np.ndarray:
        """Embeddings of a batch (a list, or one stacked tensor)."""
        import torch

        with torch.inference_mode():
            if isinstance(batch, torch.Tensor):  # same-shape inputs, stacked by the engine's collate
                out = self.layers[modality](batch)
            elif modality in ("text", "molecule"):
                offsets = torch.tensor([0] + [len(b) for b in batch[:-1]]).cumsum(0)
                out = self.layers[modality](torch.cat(batch), offsets)
            else:
                out = self.layers[modality](torch.stack(batch))
        return torch.nn.functional.normalize(out, dim=-1).numpy()
