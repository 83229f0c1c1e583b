"""Property tests for the region kernels (ReNA, HierarchicalKMeans, connected)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage
from threadpoolctl import threadpool_limits

from regionkit.regions import HierarchicalKMeans, ReNA
from regionkit.regions._connected import split_map


@st.composite
def masks_and_data(draw, max_side=6):
    shape = tuple(draw(st.integers(2, max_side)) for _ in range(3))
    mask = draw(arrays(bool, shape, elements=st.booleans()))
    if mask.sum() < 3:
        mask.flat[:3] = True
    n_samples = draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2**16))
    X = np.random.default_rng(seed).standard_normal((n_samples, int(mask.sum())))
    return mask, X.astype(np.float32)


@given(masks_and_data(), st.data())
def test_rena_partitions_voxels(mask_data, data):
    mask, X = mask_data
    n_voxels = X.shape[1]
    n_clusters = data.draw(st.integers(1, n_voxels))
    rena = ReNA(mask_img=mask, n_clusters=n_clusters).fit(X)
    labels = rena.labels_
    # every voxel labelled once, labels consecutive, at least n_clusters clusters
    assert labels.shape == (n_voxels,)
    assert set(np.unique(labels)) == set(range(rena.n_clusters_))
    assert rena.n_clusters_ >= n_clusters
    assert rena.sizes_.sum() == n_voxels
    # transform / inverse_transform: piecewise constant, a projection
    reduced = rena.transform(X)
    restored = rena.inverse_transform(reduced)
    for cluster in range(rena.n_clusters_):
        block = restored[:, labels == cluster]
        np.testing.assert_allclose(block, block[:, :1].repeat(block.shape[1], 1))
    np.testing.assert_allclose(
        rena.inverse_transform(rena.transform(restored)), restored, rtol=1e-5, atol=1e-6
    )


@given(masks_and_data(max_side=5))
def test_rena_reaches_n_clusters_on_connected_masks(mask_data):
    mask, X = mask_data
    n_parts = ndimage.label(mask)[1]
    n_clusters = max(n_parts, X.shape[1] // 3)
    rena = ReNA(mask_img=mask, n_clusters=n_clusters, n_iter=50).fit(X)
    assert rena.n_clusters_ == n_clusters


@given(
    st.integers(2, 40),
    st.integers(2, 5),
    st.integers(0, 2**16),
    st.data(),
)
def test_hierarchical_kmeans_partitions(n_features, n_samples, seed, data):
    n_clusters = data.draw(st.integers(1, n_features))
    X = np.random.default_rng(seed).standard_normal((n_samples, n_features)).astype(np.float32)
    with threadpool_limits(1):
        hkm = HierarchicalKMeans(n_clusters=n_clusters, n_init=1, random_state=seed).fit(X)
    assert hkm.labels_.shape == (n_features,)
    assert set(np.unique(hkm.labels_)) == set(range(hkm.n_clusters_))
    assert 1 <= hkm.n_clusters_ <= n_clusters
    restored = hkm.inverse_transform(hkm.transform(X))
    for cluster in range(hkm.n_clusters_):
        block = restored[:, hkm.labels_ == cluster]
        np.testing.assert_allclose(block, block[:, :1].repeat(block.shape[1], 1))


@given(arrays(np.float32, (7, 6, 5), elements=st.sampled_from([0.0, 0.0, 1.0, -2.0, 3.5])))
def test_connected_components_labels_support_exactly(volume):
    labels = split_map(volume, np.eye(4), "connected_components")
    assert np.array_equal(labels > 0, volume != 0)
    expected, n = ndimage.label(volume != 0)
    assert labels.max() == n
    # same partition as scipy's labelling of the whole volume
    assert np.array_equal(labels, expected)


@given(st.integers(0, 2**16), st.floats(0.3, 1.5))
def test_local_regions_label_only_the_support(seed, cutoff):
    volume = ndimage.gaussian_filter(
        np.random.default_rng(seed).standard_normal((14, 12, 10)), 1.5
    ).astype(np.float32)
    volume /= volume.std()
    volume[np.abs(volume) < cutoff] = 0
    labels = split_map(volume, np.eye(4), "local_regions", smoothing_fwhm=2)
    assert not labels[volume == 0].any()
    if labels.any():
        assert set(np.unique(labels[labels > 0])) == set(range(1, labels.max() + 1))


@settings(deadline=None, max_examples=40)
@given(
    shape=st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 5)),
    n_features=st.integers(1, 4),
    linkage=st.sampled_from(["ward", "average", "complete"]),
    rounding=st.sampled_from([None, 0, 1]),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_constrained_linkage_equals_scikit_learn(shape, n_features, linkage, rounding, seed, data):
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.image import grid_to_graph
    from sklearn.metrics import adjusted_rand_score

    from regionkit.regions._linkage import constrained_linkage_labels

    n_samples = int(np.prod(shape))
    assume(n_samples >= 2)
    X = np.random.default_rng(seed).standard_normal((n_samples, n_features))
    if rounding is not None:  # coarse values: many tied weights
        X = np.round(X, rounding)
    n_clusters = data.draw(st.integers(1, n_samples - 1))  # scikit-learn fails on n_samples
    connectivity = grid_to_graph(*shape)
    ours = constrained_linkage_labels(X, connectivity, n_clusters, linkage)
    reference = AgglomerativeClustering(n_clusters=n_clusters, connectivity=connectivity, linkage=linkage).fit(X)
    assert np.unique(ours).size == n_clusters
    assert adjusted_rand_score(reference.labels_, ours) == 1.0
    # every cluster is connected along the graph
    for label in range(n_clusters):
        members = np.flatnonzero(ours == label)
        sub = connectivity.tocsr()[members][:, members]
        assert sparse_components(sub) == 1


def sparse_components(graph):
    from scipy.sparse.csgraph import connected_components

    return connected_components(graph, directed=False)[0]


@settings(deadline=None, max_examples=60)
@given(
    shape=st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 8)),
    n_seeds=st.integers(1, 6),
    dtype=st.sampled_from([np.float32, np.float64]),
    pruned=st.floats(0.0, 0.5),
    seed=st.integers(0, 2**16),
)
def test_random_walker_equals_nilearn_s(shape, n_seeds, dtype, pruned, seed):
    """Any small map, seed labels (gaps included) and pruned voxels: nilearn's
    labels, voxel for voxel."""
    import warnings

    import pytest

    segmentation = pytest.importorskip("nilearn._utils.segmentation")
    from regionkit.regions._connected import random_walker_labels

    rng = np.random.default_rng(seed)
    data = ndimage.gaussian_filter(rng.standard_normal(shape), 1.0).astype(dtype)
    assume(data.std() > 0)
    seeds = np.where(rng.random(shape) < pruned, -1, 0).astype(np.int32)
    for label in range(1, n_seeds + 1):
        seeds[tuple(rng.integers(0, s) for s in shape)] = label
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # nilearn's "nothing to segment"
        reference = segmentation.random_walker(data, seeds.copy())
    reference[reference < 0] = 0
    np.testing.assert_array_equal(random_walker_labels(data, seeds, mode="cg"), reference)
