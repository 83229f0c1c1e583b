"""Two-level (hierarchical) k-means clustering of features.

The features (voxels) are first split into ``int(sqrt(n_clusters))`` coarse
clusters with mini-batch k-means; each coarse cluster then receives a share
of ``n_clusters`` proportional to its size (rounded so that every coarse
cluster gets at least one and the shares sum to ``n_clusters``, see
:func:`adjust_small_clusters`) and is split again with mini-batch k-means.

Labels match nilearn 0.14.1's ``HierarchicalKMeans`` given the same data and
``random_state`` (the same scikit-learn estimators are called with the same
arguments in the same order); ``transform`` is a sparse product instead of one
boolean mask per cluster.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.cluster import MiniBatchKMeans

from .._validation import Interval, Options, validate_params
from ._rena import _check_fit_input, _reduce_to_clusters, _spread_clusters

__all__ = ["HierarchicalKMeans", "adjust_small_clusters", "hierarchical_k_means"]

logger = logging.getLogger(__name__)


def adjust_small_clusters(shares: np.ndarray, n_clusters: int) -> np.ndarray:
    """Round real cluster shares to integers >= 1 that sum to ``n_clusters``.

    Parameters
    ----------
    shares : ndarray of float, shape (n_groups,)
        Ideal (real) number of clusters of each group, summing to
        ``n_clusters``.
    n_clusters : int
        Required total.

    Returns
    -------
    counts : ndarray of int, shape (n_groups,)
        Rounded shares, each at least 1. When rounding leaves the total
        short, the groups rounded down the most gain one, one at a time; when
        it overshoots, the groups rounded up the most (and above 1) lose one.

    Examples
    --------
    >>> adjust_small_clusters(np.array([0.2, 4.4, 5.4]), 10)
    array([1, 4, 5])
    """
    shares = np.asarray(shares, dtype=float)
    counts = np.maximum(np.rint(shares).astype(int), 1)
    while counts.sum() < n_clusters:
        counts[np.argmax(shares - counts)] += 1
    while counts.sum() > n_clusters:
        reducible = np.flatnonzero(counts != 1)
        if reducible.size == 0:
            break
        counts[reducible[np.argmin(shares[reducible] - counts[reducible])]] -= 1
    return counts


def _relabel_consecutive(labels: np.ndarray) -> np.ndarray:
    """Map labels onto ``0 .. n_unique - 1`` keeping their order."""
    return np.unique(labels, return_inverse=True)[1].reshape(labels.shape)


def hierarchical_k_means(
    features: np.ndarray,
    n_clusters: int,
    init: Any = "k-means++",
    batch_size: int = 1000,
    n_init: int = 10,
    max_no_improvement: int | None = 10,
    verbose: int = 0,
    random_state: Any = 0,
) -> np.ndarray:
    """Cluster the rows of ``features`` with two levels of mini-batch k-means.

    Parameters
    ----------
    features : ndarray of shape (n_items, n_dims)
        Items to cluster (for voxels: the transposed data, one row per voxel).
    n_clusters : int
        Number of clusters, in ``[1, n_items]``.
    init, batch_size, n_init, max_no_improvement, verbose, random_state
        Passed to :class:`sklearn.cluster.MiniBatchKMeans` at both levels.

    Returns
    -------
    labels : ndarray of int, shape (n_items,)
        Cluster of each item, consecutive from 0.
    """
    n_items = features.shape[0]
    kmeans_args = {
        "init": init,
        "batch_size": batch_size,
        "n_init": n_init,
        "max_no_improvement": max_no_improvement,
        "verbose": verbose,
        "random_state": random_state,
    }
    n_coarse = int(np.sqrt(n_clusters))
    coarse_labels = MiniBatchKMeans(n_clusters=n_coarse, **kmeans_args).fit(features).labels_
    counts = np.bincount(coarse_labels, minlength=n_coarse)
    shares = n_clusters * counts / n_items
    n_fine = adjust_small_clusters(shares, n_clusters)
    logger.debug("hierarchical k-means: coarse sizes %s -> %s clusters", counts, n_fine)

    fine_labels = np.zeros_like(coarse_labels)
    offset = 0
    for coarse, n_sub in enumerate(n_fine):
        members = coarse_labels == coarse
        n_members = int(counts[coarse])
        if n_members == 0:
            continue
        n_sub = min(int(n_sub), n_members)
        sub_labels = (
            MiniBatchKMeans(n_clusters=n_sub, **kmeans_args).fit(features[members]).labels_
        )
        fine_labels[members] = offset + sub_labels
        offset += n_sub
    return _relabel_consecutive(fine_labels)


class HierarchicalKMeans(
    ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, BaseEstimator
):
    """Hierarchical (two-level) k-means clustering of features.

    Parameters
    ----------
    n_clusters : int
        Number of clusters, in ``[1, n_features]``. Required (None raises).
    init : {"k-means++", "random"} or ndarray, default="k-means++"
        Initialisation of :class:`sklearn.cluster.MiniBatchKMeans`.
    batch_size : int, default=1000
        Mini-batch size.
    n_init : int, default=10
        Number of initialisations tried.
    max_no_improvement : int or None, default=10
        Early stopping of the mini-batch iterations.
    verbose : int, default=0
        Verbosity of scikit-learn's k-means.
    random_state : int, RandomState or None, default=0
        Seed of both k-means levels.
    scaling : bool, default=False
        Multiply cluster means by ``sqrt(cluster size)`` in :meth:`transform`
        (undone by :meth:`inverse_transform`).

    Attributes
    ----------
    labels_ : ndarray of int, shape (n_features,)
    sizes_ : ndarray of int, shape (n_clusters_,)
    n_clusters_ : int
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((10, 200)).astype("float32")
    >>> hkm = HierarchicalKMeans(n_clusters=9, n_init=1).fit(X)
    >>> hkm.transform(X).shape
    (10, 9)
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval("int", 1, None)],
        "init": [Options(["k-means++", "random"]), "array-like", "callable"],
        "batch_size": [Interval("int", 1, None)],
        "n_init": [Interval("int", 1, None)],
        "max_no_improvement": [Interval("int", 0, None), None],
        "verbose": [Interval("int", 0, None), "boolean"],
        "random_state": "no_validation",
        "scaling": ["boolean"],
    }

    def __init__(
        self,
        n_clusters: int | None = None,
        init: Any = "k-means++",
        batch_size: int = 1000,
        n_init: int = 10,
        max_no_improvement: int | None = 10,
        verbose: int = 0,
        random_state: Any = 0,
        scaling: bool = False,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.batch_size = batch_size
        self.n_init = n_init
        self.max_no_improvement = max_no_improvement
        self.verbose = verbose
        self.random_state = random_state
        self.scaling = scaling

    def fit(self, X: Any, y: Any = None) -> HierarchicalKMeans:
        """Cluster the features (columns) of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : HierarchicalKMeans
        """
        validate_params(
            self.get_params(deep=False), self._parameter_constraints, "HierarchicalKMeans"
        )
        X = _check_fit_input(
            X, self.n_clusters, "HierarchicalKMeans", dtype=[np.float32, np.float64]
        )
        self.n_features_in_ = X.shape[1]
        labels = hierarchical_k_means(
            np.ascontiguousarray(X.T),
            self.n_clusters,
            init=self.init,
            batch_size=self.batch_size,
            n_init=self.n_init,
            max_no_improvement=self.max_no_improvement,
            verbose=self.verbose,
            random_state=self.random_state,
        )
        self.labels_ = labels
        self.sizes_ = np.bincount(labels)
        self.n_clusters_ = len(self.sizes_)
        self._n_features_out = self.n_clusters_
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Average the features per cluster.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_red : ndarray of shape (n_samples, n_clusters_)
        """
        return _reduce_to_clusters(self, X, "HierarchicalKMeans")

    def inverse_transform(self, X_red: Any) -> np.ndarray:
        """Spread cluster values back to their features.

        Parameters
        ----------
        X_red : array-like of shape (n_samples, n_clusters_) or (n_clusters_,)

        Returns
        -------
        X_inv : ndarray of shape (n_samples, n_features) or (n_features,)
        """
        return _spread_clusters(self, X_red, "HierarchicalKMeans")
