"""HierarchicalKMeans against nilearn 0.14.1 (same random_state)."""

from __future__ import annotations

import numpy as np
import pytest
from clustering_parity_checks import assert_same_clustering
from scipy.ndimage import gaussian_filter
from threadpoolctl import threadpool_limits

from regionkit.regions import HierarchicalKMeans

nilearn_regions = pytest.importorskip("nilearn.regions")


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


@pytest.mark.parametrize(
    ("n_clusters", "random_state", "scaling"), [(4, 0, False), (30, 1, True)]
)
def test_hkmeans_labels_match_nilearn(n_clusters, random_state, scaling):
    rng = np.random.default_rng(random_state)
    X = gaussian_filter(rng.standard_normal((40, 1500)), (0, 3)).astype(np.float32)
    kwargs = dict(n_clusters=n_clusters, n_init=3, random_state=random_state, scaling=scaling)
    theirs = nilearn_regions.HierarchicalKMeans(**kwargs).fit(X)
    ours = HierarchicalKMeans(**kwargs).fit(X)
    assert_same_clustering(ours, theirs, X)


def test_nilearn_caps_n_clusters_at_n_samples_we_do_not():
    """nilearn compares n_clusters with the samples, not the features (bug)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 200)).astype(np.float32)
    with pytest.warns(UserWarning, match="Taking n_clusters = 6"):
        theirs = nilearn_regions.HierarchicalKMeans(n_clusters=9, n_init=1).fit(X)
    ours = HierarchicalKMeans(n_clusters=9, n_init=1).fit(X)
    assert len(theirs.sizes_) == 6
    assert ours.n_clusters_ == 9
