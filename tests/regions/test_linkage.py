"""Connectivity-constrained ward / average / complete linkage against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.image import grid_to_graph
from sklearn.metrics import adjusted_rand_score

from regionkit.regions._linkage import constrained_linkage_labels

LINKAGES = ["ward", "average", "complete"]


def _masked_grid(shape=(9, 10, 8)):
    mask = np.ones(shape, dtype=bool)
    mask[:3, :4] = False
    return mask, grid_to_graph(*shape, mask=mask)


def _same_partition(ours, reference):
    assert adjusted_rand_score(reference, ours) == 1.0


@pytest.mark.parametrize("linkage", LINKAGES)
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_identical_to_scikit_learn(linkage, ties, dtype):
    rng = np.random.default_rng(7)
    mask, connectivity = _masked_grid()
    X = rng.standard_normal((int(mask.sum()), 6)).astype(dtype)
    if (
        ties
    ):  # many equal edge weights: the merge order between them must be scikit-learn's
        X = np.round(X)
    for n_clusters in (1, 2, 7, 40, int(mask.sum()) - 1):
        reference = AgglomerativeClustering(
            n_clusters=n_clusters, connectivity=connectivity, linkage=linkage
        )
        ours = constrained_linkage_labels(X, connectivity, n_clusters, linkage)
        assert ours.dtype == np.intp
        assert np.unique(ours).tolist() == list(range(n_clusters))
        _same_partition(ours, reference.fit(X).labels_)


@pytest.mark.parametrize("linkage", LINKAGES)
def test_as_many_clusters_as_samples_merges_nothing(linkage):
    # (scikit-learn's average/complete linkage fails on this case)
    mask, connectivity = _masked_grid((4, 5, 3))
    X = np.random.default_rng(0).standard_normal((int(mask.sum()), 3))
    np.testing.assert_array_equal(
        constrained_linkage_labels(X, connectivity, X.shape[0], linkage),
        np.arange(X.shape[0]),
    )


@pytest.mark.parametrize("linkage", LINKAGES)
def test_all_weights_equal(linkage):
    # every edge has the same weight: the partition is decided by tie-breaking alone
    mask, connectivity = _masked_grid((6, 7, 5))
    X = np.zeros((int(mask.sum()), 3))
    for n_clusters in (3, 25, 100):
        reference = AgglomerativeClustering(
            n_clusters=n_clusters, connectivity=connectivity, linkage=linkage
        )
        _same_partition(
            constrained_linkage_labels(X, connectivity, n_clusters, linkage),
            reference.fit(X).labels_,
        )


@pytest.mark.parametrize("linkage", LINKAGES)
def test_large_graph_grows_the_heap_and_tables(linkage):
    # a few thousand samples make the heap and the neighbour arena grow and compact
    rng = np.random.default_rng(3)
    shape = (18, 17, 16)
    X = rng.standard_normal((int(np.prod(shape)), 4)).astype(np.float32)
    X += (
        np.indices(shape).reshape(3, -1).T[:, :1] * 0.3
    )  # smooth trend: large clusters form
    connectivity = grid_to_graph(*shape)
    reference = (
        AgglomerativeClustering(
            n_clusters=12, connectivity=connectivity, linkage=linkage
        )
        .fit(X)
        .labels_
    )
    _same_partition(constrained_linkage_labels(X, connectivity, 12, linkage), reference)


def test_asymmetric_and_weighted_connectivity_is_symmetrised():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((30, 2))
    chain = sparse.diags(
        [np.full(29, 3.0)], [1], shape=(30, 30)
    ).tocsr()  # upper triangle only
    for linkage in LINKAGES:
        reference = (
            AgglomerativeClustering(n_clusters=4, connectivity=chain, linkage=linkage)
            .fit(X)
            .labels_
        )
        _same_partition(constrained_linkage_labels(X, chain, 4, linkage), reference)


def test_several_components_fall_back_to_scikit_learn():
    rng = np.random.default_rng(1)
    mask = np.zeros((8, 8, 3), dtype=bool)
    mask[:3] = True
    mask[5:] = True
    X = rng.standard_normal((int(mask.sum()), 4))
    connectivity = grid_to_graph(*mask.shape, mask=mask)
    for linkage in LINKAGES:
        with pytest.warns(UserWarning, match="connected components"):
            reference = AgglomerativeClustering(
                n_clusters=5, connectivity=connectivity, linkage=linkage
            ).fit(X)
        with pytest.warns(UserWarning, match="connected components"):
            ours = constrained_linkage_labels(X, connectivity, 5, linkage)
        _same_partition(ours, reference.labels_)


def test_bad_input():
    X = np.zeros((144, 4))
    connectivity = grid_to_graph(12, 12, 1)
    with pytest.raises(
        ValueError,
        match=r"linkage must be one of \['ward', 'average', 'complete'\]; got 'single'",
    ):
        constrained_linkage_labels(X, connectivity, 5, "single")
    with pytest.raises(ValueError, match=r"n_clusters must be in \[1, 144\].*got 145"):
        constrained_linkage_labels(X, connectivity, 145)
    with pytest.raises(ValueError, match=r"n_clusters must be in \[1, 144\].*got 0"):
        constrained_linkage_labels(X, connectivity, 0)
    with pytest.raises(ValueError, match="X must be a 2D array"):
        constrained_linkage_labels(X[:, 0], connectivity, 5)
    with pytest.raises(ValueError, match=r"connectivity must have shape \(144, 144\)"):
        constrained_linkage_labels(X, grid_to_graph(5, 5, 1), 5)
