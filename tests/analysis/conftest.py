"""Helpers of the analysis tests: Amumo's exports rebuilt into embeddings (from their Gram matrices)."""
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from dashboard.analysis.gram import embeddings_from_gram

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "amumo-reference"
MSCOCO = "MSCOCO-Val_size-100"
# exp(logit_scale) Amumo used; CyCLIP's training clamps the log scale at 4.6052, so its scale is 100.003, not 100.
SCALES = {"CLIP": 100.0, "CyCLIP": float(np.exp(4.6052)), "CLOOB": 30.0, "CLOOB_LAION400M": 30.0, "ImageBind": 1.0}


@lru_cache(maxsize=None)
def gram(folder: str, name: str) -> np.ndarray:
    """A similarity matrix of an export."""
    return np.loadtxt(REFERENCE / folder / "similarities" / f"{name}.csv", delimiter=",")


def meta(folder: str, name: str) -> dict:
    """The meta_info.json of a similarity matrix."""
    return json.loads((REFERENCE / folder / "similarities" / f"{name}_meta_info.json").read_text())


def blocks(folder: str, name: str, k: int = 2) -> list[np.ndarray]:
    """Embeddings rebuilt from the Gram matrix, split into k equal modality blocks."""
    return np.split(embeddings_from_gram(gram(folder, name)), k)


def prompts(folder: str) -> list[str]:
    """The captions (or SMILES) of an export."""
    return (REFERENCE / folder / "prompts.txt").read_text(encoding="utf-8").splitlines()
