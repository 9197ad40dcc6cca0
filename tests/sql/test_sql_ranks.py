"""On a store where many items share a caption (identical text vectors), the SQL `pairs` view's ranks, live and
precomputed, give exactly the recalls that `gapscope metrics` prints."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dashboard.cli import main
from dashboard.sql import run_query
from dashboard.sql.figures import figures_of
from dashboard.store import Store, artifacts

N, SHARED = 150, 5  # 150 images, captions repeated in groups of 5 (as MSCOCO's, the other way round)
RECALL = ("SELECT avg(CAST(rank_image_to_text <= {k} AS DOUBLE)) AS i2t, "
          "avg(CAST(rank_text_to_image <= {k} AS DOUBLE)) AS t2i FROM pairs")


@pytest.fixture(scope="module")
def shared_captions(tmp_path_factory) -> str:
    """A store of 150 image/text pairs whose 30 distinct captions each belong to 5 images."""
    path = tmp_path_factory.mktemp("shared") / "store"
    store = Store.create(path)
    store.add_dataset("shared", ["image", "text"])
    ids = [f"i{k:03d}" for k in range(N)]
    group = np.arange(N) // SHARED
    store.add_items("shared", pd.DataFrame({"item_id": ids, "text": [f"caption {g}" for g in group]}))
    rng = np.random.default_rng(11)
    centres = rng.normal(size=(N // SHARED, 32))
    text = centres[group].astype(np.float32)
    image = (centres[group] + 3.0 * rng.normal(size=(N, 32))).astype(np.float32)
    store.add_model("m", ["image", "text"], 32, logit_scale=20.0)
    store.add_embeddings("shared", "m", "image", ids, image)
    store.add_embeddings("shared", "m", "text", ids, text)
    return str(path)


def metrics_recalls(path: str, capsys) -> dict:
    """`gapscope metrics`'s recall_at_k on the store."""
    assert main(["metrics", "--store", path, "--dataset", "shared", "--model", "m"]) == 0
    return json.loads(capsys.readouterr().out)


def sql_recalls(path: str) -> dict:
    """Recall@1/5/10 both ways from the pairs view."""
    out = {"image_to_text": {}, "text_to_image": {}}
    for k in (1, 5, 10):
        row = run_query(path, "shared", RECALL.format(k=k)).iloc[0]
        out["image_to_text"][str(k)], out["text_to_image"][str(k)] = float(row["i2t"]), float(row["t2i"])
    return out


def test_pairs_view_recall_equals_metrics_live_and_stored(shared_captions, capsys) -> None:
    printed = metrics_recalls(shared_captions, capsys)
    assert printed["rank_ties"] == {"rule": "optimistic", "tolerance": 2.0 ** -20}
    assert sql_recalls(shared_captions) == printed["recall_at_k"]
    store = Store.open(shared_captions, read_only=False)
    store.put_frame("shared", "m", artifacts.PAIR_FIGURES, artifacts.pair_figures_key(["image", "text"]),
                    figures_of(store.pairs("shared", "m"), "m", ["image", "text"]))
    del store
    assert sql_recalls(shared_captions) == printed["recall_at_k"]
    assert 0 < printed["recall_at_k"]["image_to_text"]["1"] < 1


def test_a_shared_caption_counts_once_for_every_image(shared_captions) -> None:
    """The partner's four copies tie with it (never counted); every other caption comes in five equal copies, so
    rank - 1 is a multiple of five for every image."""
    frame = run_query(shared_captions, "shared", "SELECT rank_image_to_text AS r FROM pairs")
    assert len(frame) == N and frame["r"].max() > 1
    assert ((frame["r"] - 1) % SHARED == 0).all()


def test_search_gives_copies_of_a_caption_one_rank(shared_captions) -> None:
    from dashboard.search import neighbours_of_item

    hits = neighbours_of_item(shared_captions, "shared", "m", "i000", "image", k=20, target="text")
    groups = hits.groupby("text")["rank"].agg(["nunique", "min", "size"])
    assert (groups["size"] == SHARED).all() and (groups["nunique"] == 1).all()
    assert sorted(groups["min"]) == [1, 6, 11, 16]
