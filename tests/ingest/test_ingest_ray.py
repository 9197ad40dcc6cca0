"""The Ray Data engine on a local Ray instance writes the same store content as the local engine."""
from __future__ import annotations

import numpy as np
import pytest

from dashboard.store import Store
from ingest.engine import run_ingest
from ingest_helpers import build_coco, bomb_png


@pytest.fixture(scope="module")
def ray_local():
    """A local Ray instance with two CPUs."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def content(path, dataset, model):
    """Items (with thumbnails and extra) and both modalities' embeddings of a store."""
    store = Store.open(path)
    return store.items(dataset, thumbnails=True), {m: store.embeddings(dataset, model, m) for m in ("image", "text")}


def test_ray_engine_matches_local_engine(tmp_path, clip_spec, ray_local):
    root = build_coco(tmp_path / "coco", n=7)
    bomb_png(root / "val2017" / f"{145:012d}.jpg")
    kwargs = dict(device="cpu", batch_size=3, progress=False, precompute=False, workers=0)
    local = run_ingest(tmp_path / "local", "mscoco", str(root), clip_spec, **kwargs)
    remote = run_ingest(tmp_path / "ray", "mscoco", str(root), clip_spec, engine="ray", **kwargs)
    assert remote.engine == "ray" and remote.embedded == local.embedded == 6
    assert remote.bad == local.bad and [b["item_id"] for b in remote.bad] == ["145"]
    (local_items, local_vectors), (ray_items, ray_vectors) = (content(tmp_path / p, local.dataset, local.model)
                                                              for p in ("local", "ray"))
    assert local_items.equals(ray_items)
    for modality in ("image", "text"):
        assert local_vectors[modality][0] == ray_vectors[modality][0]
        np.testing.assert_allclose(local_vectors[modality][1], ray_vectors[modality][1], atol=1e-5)
    again = run_ingest(tmp_path / "ray", "mscoco", str(root), clip_spec, engine="ray", **kwargs)
    assert again.embedded == 0 and again.already_embedded == 6
