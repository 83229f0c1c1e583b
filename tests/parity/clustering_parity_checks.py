"""Comparison shared by the ReNA and HierarchicalKMeans parity tests."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score


def assert_same_clustering(ours, theirs, X) -> None:
    """Two fitted clusterings agree: labels, sizes, transform, inverse_transform."""
    assert adjusted_rand_score(theirs.labels_, ours.labels_) >= 0.8
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_array_equal(ours.sizes_, theirs.sizes_)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), rtol=1e-4, atol=1e-5)
    reduced = theirs.transform(X)
    np.testing.assert_allclose(
        ours.inverse_transform(reduced), theirs.inverse_transform(reduced), rtol=1e-5
    )
