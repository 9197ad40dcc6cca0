"""Properties of every analysis on small synthetic data (each checked against a brute-force formula)."""
import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.metrics import adjusted_rand_score

from dashboard.analysis import alignment as al
from dashboard.analysis import clustering as cl
from dashboard.analysis import loss as lo
from dashboard.analysis import pairwise as pw
from dashboard.analysis import retrieval as rt
from dashboard.analysis.closing import close_gap, close_gaps
from dashboard.analysis.gap import gap_distance, gap_report, gap_vector
from dashboard.analysis.gram import embeddings_from_gram
from dashboard.analysis.relative_gap import relative_gap
from dashboard.analysis.similarity import normalize, similarity_matrix
from dashboard.errors import GapscopeError
from dashboard.synthetic import synthetic_vectors


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    a = rng.normal(size=(120, 16))
    return a, a + 0.8 * rng.normal(size=(120, 16)) + 0.5


def test_normalize_and_similarity(pair) -> None:
    a, b = pair
    s = similarity_matrix([a, b])
    assert s.shape == (240, 240)
    assert np.allclose(np.diag(s), 1) and np.allclose(s, s.T)
    assert np.allclose(s[:120, 120:], unit(a) @ unit(b).T)
    assert normalize(a.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("bad", [np.zeros((2, 3)), np.array([[1.0, np.nan, 0.0]]), np.ones(3)])
def test_normalize_rejects_bad_rows(bad: np.ndarray) -> None:
    with pytest.raises(GapscopeError, match="embeddings"):
        normalize(bad)


def test_similarity_rejects_mixed_dimensions() -> None:
    with pytest.raises(GapscopeError, match="dimensions"):
        similarity_matrix([np.ones((2, 3)), np.ones((2, 4))])


def test_gram_rebuilds_vectors_up_to_rotation() -> None:
    x = np.random.default_rng(0).normal(size=(50, 8))
    rebuilt = embeddings_from_gram(x @ x.T)
    assert rebuilt.shape == (50, 8)
    assert np.allclose(rebuilt @ rebuilt.T, x @ x.T, atol=1e-10)


@pytest.mark.parametrize("matrix,needle", [(np.ones((2, 3)), "square"),
                                           (np.array([[1.0, 0.5], [0.1, 1.0]]), "symmetric"),
                                           (np.array([[np.nan, 0.0], [0.0, 1.0]]), "NaN")])
def test_gram_rejects_bad_matrices(matrix: np.ndarray, needle: str) -> None:
    with pytest.raises(GapscopeError, match=needle):
        embeddings_from_gram(matrix)


def test_gap(pair) -> None:
    a, b = pair
    assert gap_distance(a, a) == 0
    assert np.allclose(gap_vector(a, b), unit(a).mean(0) - unit(b).mean(0))
    assert gap_distance(a, b) == pytest.approx(gap_distance(b, a))
    report = gap_report({"x": a, "y": b, "z": -a})
    assert list(report) == ["x_y", "x_z", "y_z"]
    assert report["x_y"]["distance"] == pytest.approx(gap_distance(a, b))


def test_closing(pair) -> None:
    a, b = pair
    same_a, same_b = close_gap(a, b, fraction=0.0)
    assert np.allclose(same_a, unit(a)) and np.allclose(same_b, unit(b))
    closed = close_gap(a, b)
    assert gap_distance(*closed) < 0.25 * gap_distance(a, b)
    many = close_gaps({"a": a, "b": b})
    assert np.allclose(many["a"], closed[0]) and np.allclose(many["b"], closed[1])


def test_alignment_uniformity_cosines(pair) -> None:
    a, b = pair
    assert al.alignment(a, a) == pytest.approx(0, abs=1e-12)
    assert al.alignment(a, b) == pytest.approx(np.mean(np.sum((unit(a) - unit(b)) ** 2, axis=1)))
    x = unit(a)
    d2 = np.sum((x[:, None] - x[None]) ** 2, axis=-1)[~np.eye(len(x), dtype=bool)]
    assert al.uniformity(a) == pytest.approx(np.log(np.mean(np.exp(-2 * d2))))
    clumped = a[:, :1] * np.ones((1, 16)) + 0.01 * np.random.default_rng(1).normal(size=a.shape)
    assert al.uniformity(clumped) > al.uniformity(a)
    assert al.matched_cosine(a, a) == pytest.approx(1.0)
    s = unit(a) @ unit(b).T
    assert al.unmatched_cosine(a, b) == pytest.approx(s[~np.eye(len(s), dtype=bool)].mean())


def test_uniformity_is_chunked_and_subsampled(pair, monkeypatch) -> None:
    a, _ = pair
    exact = al.uniformity(a)
    monkeypatch.setattr(al, "_CHUNK", 7)
    assert al.uniformity(a) == pytest.approx(exact)
    monkeypatch.setattr(al, "UNIFORMITY_MAX_N", 60)
    assert al.uniformity(a) == pytest.approx(exact, abs=0.3)


def test_relative_gap(pair) -> None:
    a, b = pair
    assert relative_gap(a, a) == pytest.approx(0, abs=1e-12)
    x, y = unit(a), unit(b)
    off = ~np.eye(len(x), dtype=bool)
    matching = np.mean((1 - np.sum(x * y, axis=1)) / 2)
    intra = (np.mean((1 - (x @ x.T)[off]) / 2) + np.mean((1 - (y @ y.T)[off]) / 2)) / 2
    assert relative_gap(a, b) == pytest.approx(matching / (intra + matching))
    assert relative_gap(*close_gap(a, b)) < relative_gap(a, b)


def brute_losses(a: np.ndarray, b: np.ndarray, scale: float) -> dict[str, float]:
    logits = scale * unit(a) @ unit(b).T
    d = np.diag(logits)
    loo = logits.copy()
    np.fill_diagonal(loo, -np.inf)
    ab, ba = np.mean(logsumexp(logits, 1) - d), np.mean(logsumexp(logits, 0) - d)
    return {"image_to_text": ab, "text_to_image": ba, "infonce": (ab + ba) / 2,
            "infoloob": (np.mean(logsumexp(loo, 1) - d) + np.mean(logsumexp(loo, 0) - d)) / 2}


@pytest.mark.parametrize("kind", lo.KINDS)
def test_loss_matches_brute_force_and_is_chunked(pair, kind: str, monkeypatch) -> None:
    a, b = pair
    expected = brute_losses(a, b, 20.0)[kind]
    assert lo.contrastive_loss(a, b, kind, 20.0) == pytest.approx(expected)
    monkeypatch.setattr(pw, "CHUNK", 16)
    assert lo.contrastive_loss(a, b, kind, 20.0) == pytest.approx(expected)
    single = lo.contrastive_loss(a.astype(np.float32), b.astype(np.float32), kind, 20.0)
    assert single == pytest.approx(expected, abs=1e-5)


def test_loss_batches_drop_the_remainder(pair) -> None:
    a, b = pair
    expected = np.mean([brute_losses(a[i:i + 50], b[i:i + 50], 10.0)["infonce"] for i in (0, 50)])
    assert lo.contrastive_loss(a, b, "infonce", 10.0, batch_size=50) == pytest.approx(expected)


@pytest.mark.parametrize("kind", lo.KINDS)
def test_small_batches_at_once_equal_one_by_one(pair, kind: str, monkeypatch) -> None:
    a, b = pair
    together = [lo.contrastive_loss(a, b, kind, 10.0, batch_size=size) for size in (2, 7, 50)]
    monkeypatch.setattr(lo, "SMALL_BATCH", 0)
    assert together == pytest.approx([lo.contrastive_loss(a, b, kind, 10.0, batch_size=size) for size in (2, 7, 50)])


def test_loss_decreases_with_better_pairing(pair) -> None:
    a, b = pair
    shuffled = b[np.random.default_rng(0).permutation(len(b))]
    for kind in lo.KINDS:
        assert lo.contrastive_loss(a, b, kind, 30.0) < lo.contrastive_loss(a, shuffled, kind, 30.0)
    assert lo.contrastive_loss(a, b, "infoloob", 30.0) < lo.contrastive_loss(a, b, "infonce", 30.0)


@pytest.mark.parametrize("kwargs,needle", [({"kind": "mse"}, "unknown kind"), ({"batch_size": 500}, "batch size"),
                                           ({"scale": -1.0}, "logit scale")])
def test_loss_rejects_bad_options(pair, kwargs: dict, needle: str) -> None:
    with pytest.raises(GapscopeError, match=needle):
        lo.contrastive_loss(*pair, **kwargs)


def test_retrieval(pair, monkeypatch) -> None:
    a, b = pair
    forward, backward = rt.ranks_both(a, a)
    assert (forward == 1).all() and (backward == 1).all()
    assert rt.recall_at_k(forward) == {"1": 1.0, "5": 1.0, "10": 1.0}
    s = unit(a) @ unit(b).T
    d = np.diag(s)
    monkeypatch.setattr(pw, "CHUNK", 16)
    forward, backward = rt.ranks_both(a, b)
    assert np.array_equal(forward, 1 + (s > d[:, None]).sum(1))
    assert np.array_equal(backward, 1 + (s > d[None, :]).sum(0))
    report = rt.retrieval_report(a, b)
    assert report["a_to_b"]["recall"]["10"] >= report["a_to_b"]["recall"]["1"]


def test_kmeans_recovers_topics() -> None:
    topic, vectors = synthetic_vectors(600, 32, ["image", "text"], seed=1, topics=6, noise=0.3)
    labels = cl.kmeans_clusters(vectors["image"], vectors["text"], 6)
    assert sorted(set(labels.tolist())) == [1, 2, 3, 4, 5, 6]
    assert adjusted_rand_score(topic, labels) > 0.9
    assert np.array_equal(labels, cl.kmeans_clusters(vectors["image"], vectors["text"], 6))


def test_amumo_clusters_from_embeddings_and_large_n(pair, monkeypatch) -> None:
    a, b = pair
    block = unit(b) @ unit(a).T
    assert np.array_equal(cl.amumo_clusters_from_embeddings(b, a, 7), cl.amumo_clusters(block, 7))
    monkeypatch.setattr(cl, "MAX_LINKAGE_N", 40)
    labels = cl.amumo_clusters_from_embeddings(b, a, 5)
    assert len(labels) == 120 and set(labels.tolist()) <= {1, 2, 3, 4, 5}
    with pytest.raises(GapscopeError, match="clusters"):
        cl.amumo_clusters(block, 500)


def test_sort_order_groups_labels() -> None:
    labels = np.random.default_rng(0).integers(1, 11, size=333)
    order = cl.sort_order(labels)
    assert sorted(order.tolist()) == list(range(333))
    assert np.array_equal(labels[order], np.sort(labels))
    assert cl.cluster_sizes(labels) == np.bincount(labels)[1:].tolist()


def test_ngram_labels() -> None:
    texts = ["a red car on the road", "red car parked", "the dog runs", "a dog and a cat", "dog sleeps", "the the"]
    labels = np.array([1, 1, 2, 2, 2, 3])
    names = cl.ngram_labels(texts, labels)
    assert names[0].startswith("red car") and names[1].startswith("dog") and names[2] == ""
    with pytest.raises(GapscopeError, match="texts"):
        cl.ngram_labels(texts[:2], labels)
