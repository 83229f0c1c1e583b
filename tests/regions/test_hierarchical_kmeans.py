"""HierarchicalKMeans: small-cluster adjustment, estimator contract, errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from regionkit.regions import HierarchicalKMeans
from regionkit.regions._hierarchical_kmeans import adjust_small_clusters


@pytest.mark.parametrize(
    ("shares", "total", "expected"),
    [
        ([0.2, 4.4, 5.4], 10, [1, 4, 5]),  # raised to 1, then one taken back
        ([2.5, 2.5, 5.0], 10, [3, 2, 5]),  # rint gives 2, 2: the first gains one
        ([0.4, 0.4, 0.4, 8.8], 10, [1, 1, 1, 7]),
        ([3.3, 3.3, 3.4], 10, [3, 3, 4]),
        ([1.6, 1.6, 6.8], 10, [1, 2, 7]),  # 11: the most rounded-up loses one
    ],
)
def test_adjust_small_clusters(shares, total, expected):
    counts = adjust_small_clusters(np.array(shares), total)
    assert counts.tolist() == expected
    assert counts.sum() == total and counts.min() >= 1


@pytest.fixture
def blobs():
    """Features from 6 well-separated groups: (n_samples=12, n_features=180)."""
    rng = np.random.default_rng(3)
    centers = rng.standard_normal((6, 12)) * 10
    groups = np.repeat(np.arange(6), 30)
    X = (centers[groups] + rng.standard_normal((180, 12))).T
    return np.ascontiguousarray(X, dtype=np.float32), groups


def test_recovers_separated_groups(blobs):
    X, groups = blobs
    hkm = HierarchicalKMeans(n_clusters=6, n_init=3).fit(X)
    from sklearn.metrics import adjusted_rand_score

    assert hkm.n_clusters_ == 6
    assert adjusted_rand_score(groups, hkm.labels_) == pytest.approx(1.0)
    assert hkm.sizes_.tolist() == [30] * 6


def test_transform_inverse_and_names(blobs):
    X, _ = blobs
    hkm = HierarchicalKMeans(n_clusters=9, n_init=2).fit(X)
    reduced = hkm.transform(X)
    assert reduced.shape == (12, hkm.n_clusters_) and reduced.dtype == np.float32
    for cluster in range(hkm.n_clusters_):
        np.testing.assert_allclose(
            reduced[:, cluster], X[:, hkm.labels_ == cluster].mean(axis=1), rtol=1e-5
        )
    restored = hkm.inverse_transform(reduced)
    np.testing.assert_allclose(restored, reduced[:, hkm.labels_])
    assert list(hkm.get_feature_names_out()[:2]) == ["hierarchicalkmeans0", "hierarchicalkmeans1"]


def test_scaling_round_trip(blobs):
    X, _ = blobs
    hkm = HierarchicalKMeans(n_clusters=4, n_init=1, scaling=True).fit(X)
    piecewise = hkm.inverse_transform(np.ones((1, 4), dtype=np.float32))
    np.testing.assert_allclose(piecewise[0], 1 / np.sqrt(hkm.sizes_[hkm.labels_]), rtol=1e-6)
    reduced = hkm.transform(piecewise)
    np.testing.assert_allclose(reduced[0], np.ones(4), rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(reduced), np.linalg.norm(piecewise), rtol=1e-5)
    np.testing.assert_allclose(hkm.inverse_transform(reduced), piecewise, rtol=1e-5)


def test_pandas_output(blobs):
    X, _ = blobs
    hkm = HierarchicalKMeans(n_clusters=4, n_init=1).set_output(transform="pandas")
    frame = hkm.fit(X).transform(X)
    assert list(frame.columns) == [f"hierarchicalkmeans{i}" for i in range(4)]


def test_same_random_state_same_labels(blobs):
    X, _ = blobs
    first = HierarchicalKMeans(n_clusters=16, n_init=2, random_state=4).fit(X).labels_
    second = HierarchicalKMeans(n_clusters=16, n_init=2, random_state=4).fit(X).labels_
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("n_clusters", [None, 0, -1, 2.5])
def test_bad_n_clusters(blobs, n_clusters):
    X, _ = blobs
    with pytest.raises(ValueError, match=r"'n_clusters' parameter of HierarchicalKMeans"):
        HierarchicalKMeans(n_clusters=n_clusters).fit(X)


def test_n_clusters_above_n_features(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match=r"at most the number of features \(voxels\), 180\. Got 181"):
        HierarchicalKMeans(n_clusters=181).fit(X)


def test_unknown_init_and_not_fitted(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match=r"'init' parameter .*Got 'kmeans'"):
        HierarchicalKMeans(n_clusters=3, init="kmeans").fit(X)
    with pytest.raises(NotFittedError):
        HierarchicalKMeans(n_clusters=3).transform(X)
