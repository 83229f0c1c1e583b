"""Recursive nearest agglomeration (ReNA) of voxels on a 3D grid.

ReNA (Hoyos-Idrobo et al., "Recursive nearest agglomeration (ReNA): fast
clustering for approximation of structured signals", IEEE TPAMI 2019) groups
the voxels of a mask into spatially connected clusters by repeatedly merging
every cluster with its nearest neighbour (in feature space) among its spatial
neighbours, then averaging the merged clusters' signals.

The module reads like an outline: the public :func:`recursive_neighbor_agglomeration`
and the :class:`ReNA` estimator sit on plain array functions,

1. :func:`grid_edges` - the 6-connected edges between mask voxels;
2. :func:`weighted_connectivity` - those edges weighted by squared distances;
3. :func:`nearest_neighbor_graph` - each node's nearest neighbour(s);
4. :func:`nearest_neighbor_grouping` - connected components of that graph,
   capped so that at least ``n_clusters`` remain;
5. :func:`reduce_data_and_connectivity` - cluster means and the graph between
   clusters.

Everything is sparse and vectorised; signals are kept in float32. The
arithmetic (summation order, dtypes, tie handling) follows nilearn 0.14.1 so
that labels agree with it voxel for voxel on the same float32 input.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_array, check_is_fitted

from .._validation import Interval, validate_params

__all__ = [
    "ReNA",
    "grid_edges",
    "weighted_connectivity",
    "nearest_neighbor_graph",
    "nearest_neighbor_grouping",
    "reduce_data_and_connectivity",
    "recursive_neighbor_agglomeration",
]

logger = logging.getLogger(__name__)

# Number of edges whose squared distances are computed at once (bounds the
# temporary (n_edges_chunk, n_samples) float64 array to a few tens of MB).
_EDGE_CHUNK = 16384


# --------------------------------------------------------------------------
# Graph on the voxel grid
# --------------------------------------------------------------------------
def grid_edges(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges between 6-connected voxels of a 3D mask.

    Parameters
    ----------
    mask : ndarray of bool, shape (nx, ny, nz)
        Voxels in the mask. Voxels are numbered ``0 .. n_voxels - 1`` in
        C (row-major) order of the mask, the order of ``data[mask]`` and of
        :func:`regionkit.masking.apply_mask` columns.

    Returns
    -------
    sources, targets : ndarray of int64, shape (n_edges,)
        One entry per undirected edge with ``sources < targets``, listed axis
        by axis (last axis first).

    Examples
    --------
    >>> import numpy as np
    >>> grid_edges(np.ones((1, 2, 2), dtype=bool))
    (array([0, 2, 0, 1]), array([1, 3, 2, 3]))
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 3:
        raise ValueError(
            f"mask must be a 3D array, got an array of shape {mask.shape}"
        )
    rank = np.full(mask.shape, -1, dtype=np.int64)
    rank[mask] = np.arange(int(mask.sum()), dtype=np.int64)
    sources, targets = [], []
    for axis in (2, 1, 0):
        lower = [slice(None)] * 3
        upper = [slice(None)] * 3
        lower[axis] = slice(None, -1)
        upper[axis] = slice(1, None)
        both = mask[tuple(lower)] & mask[tuple(upper)]
        sources.append(rank[tuple(lower)][both])
        targets.append(rank[tuple(upper)][both])
    return np.concatenate(sources), np.concatenate(targets)


def _edge_sq_distances_float64(
    voxel_signals: np.ndarray, sources: np.ndarray, targets: np.ndarray
) -> np.ndarray:
    """Squared Euclidean distances of edges, accumulated in float64.

    ``voxel_signals`` is (n_voxels, n_samples); each row's sum runs over a
    contiguous axis (pairwise summation), as nilearn's first graph does.
    """
    weights = np.empty(len(sources), dtype=np.float64)
    for start in range(0, len(sources), _EDGE_CHUNK):
        stop = start + _EDGE_CHUNK
        diff = voxel_signals[sources[start:stop]].astype(np.float64)
        diff -= voxel_signals[targets[start:stop]]
        np.square(diff, out=diff)
        weights[start:stop] = diff.sum(axis=1)
    return weights


def _symmetric_csr(
    sources: np.ndarray, targets: np.ndarray, weights: np.ndarray, n_nodes: int
) -> sparse.csr_matrix:
    """Symmetric CSR matrix from one-directional edges (canonical format)."""
    rows = np.concatenate([sources, targets])
    cols = np.concatenate([targets, sources])
    data = np.concatenate([weights, weights])
    matrix = sparse.csr_matrix((data, (rows, cols)), shape=(n_nodes, n_nodes))
    matrix.sum_duplicates()
    return matrix


def weighted_connectivity(X: np.ndarray, mask: np.ndarray) -> sparse.csr_matrix:
    """Voxel adjacency of a mask weighted by squared signal distances.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_voxels)
        Masked data, columns in C order of ``mask``.
    mask : ndarray of bool, shape (nx, ny, nz)
        The mask that produced ``X``; ``mask.sum()`` must equal ``n_voxels``.

    Returns
    -------
    connectivity : scipy.sparse.csr_matrix of shape (n_voxels, n_voxels)
        Symmetric, float64; entry ``(i, j)`` is ``sum_t (X[t, i] - X[t, j])**2``
        for 6-connected voxels ``i`` and ``j``. Edges of weight exactly 0
        (identical signals) are left out, as in nilearn.

    Notes
    -----
    Memory is ``O(n_edges)`` plus a bounded chunk: the full grid is never
    unmasked.
    """
    X = np.asarray(X)
    mask = np.asarray(mask, dtype=bool)
    n_voxels = int(mask.sum())
    if X.ndim != 2 or X.shape[1] != n_voxels:
        raise ValueError(
            f"X must have one column per mask voxel: the mask has {n_voxels} "
            f"voxels, X has shape {X.shape}"
        )
    sources, targets = grid_edges(mask)
    voxel_signals = np.ascontiguousarray(X.T)
    weights = _edge_sq_distances_float64(voxel_signals, sources, targets)
    keep = weights != 0
    return _symmetric_csr(sources[keep], targets[keep], weights[keep], n_voxels)


# --------------------------------------------------------------------------
# One agglomeration step
# --------------------------------------------------------------------------
def nearest_neighbor_graph(
    connectivity: sparse.csr_matrix, threshold: float = 1e-7
) -> sparse.coo_matrix:
    """Directed graph linking each node to its nearest neighbour(s).

    Parameters
    ----------
    connectivity : scipy.sparse matrix of shape (n_nodes, n_nodes)
        Symmetric, positive weights (squared distances) on the edges.
    threshold : float, default=1e-7
        Neighbours whose similarity ``1 / weight`` is within a relative
        ``threshold`` of the best one are all kept (ties, "eccentricities").

    Returns
    -------
    nn_graph : scipy.sparse.coo_matrix of shape (n_nodes, n_nodes)
        Entry ``(i, j) = 1`` when ``j`` is a nearest neighbour of ``i``.
    """
    connectivity = sparse.csr_matrix(connectivity)
    connectivity.sum_duplicates()
    connectivity.eliminate_zeros()
    n_nodes = connectivity.shape[0]
    similarity = 1.0 / connectivity.data
    row_lengths = np.diff(connectivity.indptr)
    nonempty = row_lengths > 0
    row_max = np.zeros(n_nodes, dtype=similarity.dtype)
    if similarity.size:
        row_max[nonempty] = np.maximum.reduceat(
            similarity, connectivity.indptr[:-1][nonempty]
        )
    rows = np.repeat(np.arange(n_nodes), row_lengths)
    with np.errstate(divide="ignore"):
        inv_row_max = 1.0 / row_max
    relative = inv_row_max[rows] * similarity
    keep = relative > 1 - threshold
    ones = np.ones(int(keep.sum()), dtype=np.int64)
    return sparse.coo_matrix(
        (ones, (rows[keep], connectivity.indices[keep])), shape=(n_nodes, n_nodes)
    )


def _cap_merges(nn_graph: sparse.coo_matrix, n_clusters: int) -> sparse.coo_matrix:
    """Keep only ``n_nodes - n_clusters`` merges (the longest-range ones).

    Ties are broken by :func:`numpy.argsort` on the row-major list of edges,
    the same array nilearn sorts, so the same edges survive.
    """
    n_nodes = nn_graph.shape[0]
    n_edges = n_nodes - n_clusters
    symmetric = nn_graph + nn_graph.T
    rows, cols = symmetric.nonzero()
    chosen = np.argsort(rows - cols)[:n_edges]
    rows, cols = rows[chosen], cols[chosen]
    return sparse.coo_matrix(
        (
            np.ones(2 * n_edges),
            (np.concatenate([rows, cols]), np.concatenate([cols, rows])),
        ),
        shape=(n_nodes, n_nodes),
    )


def _mean_operator(labels: np.ndarray, n_clusters: int) -> sparse.csr_matrix:
    """(n_clusters, n_nodes) float32 operator averaging nodes per cluster.

    Within a row the nodes are stored in decreasing index order: the
    product with the signals then accumulates in the order nilearn's sparse
    product does, which keeps float32 results bit-identical.
    """
    n_nodes = len(labels)
    counts = np.bincount(labels, minlength=n_clusters).astype(np.float32)
    order = np.lexsort((-np.arange(n_nodes), labels))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=n_clusters))])
    data = (np.float32(1.0) / counts)[labels[order]]
    return sparse.csr_matrix(
        (data, order.astype(np.int64), indptr), shape=(n_clusters, n_nodes)
    )


def _cluster_sq_distances(
    cluster_signals: np.ndarray, sources: np.ndarray, targets: np.ndarray
) -> np.ndarray:
    """Squared distances between cluster signals, in their dtype (float32).

    ``cluster_signals`` is (n_clusters, n_samples), C-contiguous: each sum
    runs over a contiguous row (numpy's pairwise summation), the order
    nilearn's reduction over its Fortran-ordered gather uses.
    """
    weights = np.empty(len(sources), dtype=cluster_signals.dtype)
    for start in range(0, len(sources), _EDGE_CHUNK):
        stop = start + _EDGE_CHUNK
        diff = cluster_signals[sources[start:stop]] - cluster_signals[targets[start:stop]]
        diff *= diff
        weights[start:stop] = diff.sum(axis=1)
    return weights


def reduce_data_and_connectivity(
    X: np.ndarray,
    labels: np.ndarray,
    n_components: int,
    connectivity: sparse.spmatrix,
    threshold: float = 1e-7,
) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Average signals per cluster and connect clusters that touch.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_nodes)
        Signals of the current nodes.
    labels : ndarray of int, shape (n_nodes,)
        Cluster of each node, in ``0 .. n_components - 1``.
    n_components : int
        Number of clusters.
    connectivity : scipy.sparse matrix of shape (n_nodes, n_nodes)
        Adjacency of the current nodes (only its sparsity pattern is used).
    threshold : float, default=1e-7
        Lower bound of the new weights (keeps identical clusters connected).

    Returns
    -------
    reduced_connectivity : scipy.sparse.csr_matrix of shape (n_components, n_components)
        Squared distances between the means of adjacent clusters.
    reduced_X : ndarray of shape (n_samples, n_components)
        Mean signal of each cluster.
    """
    labels = np.asarray(labels)
    operator = _mean_operator(labels, n_components)
    cluster_signals = np.ascontiguousarray(operator @ np.ascontiguousarray(X.T))

    coo = sparse.coo_matrix(connectivity)
    source_labels = labels[coo.row]
    target_labels = labels[coo.col]
    between = source_labels < target_labels
    pairs = np.unique(
        source_labels[between].astype(np.int64) * n_components
        + target_labels[between]
    )
    sources, targets = np.divmod(pairs, n_components)
    weights = _cluster_sq_distances(cluster_signals, sources, targets)
    weights = np.maximum(threshold, weights)
    reduced_connectivity = _symmetric_csr(sources, targets, weights, n_components)
    return reduced_connectivity, cluster_signals.T


def nearest_neighbor_grouping(
    X: np.ndarray,
    connectivity: sparse.spmatrix,
    n_clusters: int,
    threshold: float = 1e-7,
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Merge every node with its nearest neighbour, then reduce.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_nodes)
        Signals of the nodes.
    connectivity : scipy.sparse matrix of shape (n_nodes, n_nodes)
        Weighted adjacency (squared distances).
    n_clusters : int
        Merges are capped so that at least this many clusters remain.
    threshold : float, default=1e-7
        Tie tolerance, see :func:`nearest_neighbor_graph`.

    Returns
    -------
    reduced_connectivity : scipy.sparse.csr_matrix
    reduced_X : ndarray of shape (n_samples, n_components)
    labels : ndarray of int, shape (n_nodes,)
        New cluster of each node.
    """
    nn_graph = nearest_neighbor_graph(connectivity, threshold)
    n_nodes = connectivity.shape[0]
    n_links = (nn_graph + nn_graph.T).nnz // 2
    if n_nodes - n_links < n_clusters:
        nn_graph = _cap_merges(nn_graph, n_clusters)
    n_components, labels = csgraph.connected_components(nn_graph, directed=False)
    reduced_connectivity, reduced_X = reduce_data_and_connectivity(
        X, labels, n_components, connectivity, threshold
    )
    return reduced_connectivity, reduced_X, labels


def recursive_neighbor_agglomeration(
    X: np.ndarray,
    mask: np.ndarray,
    n_clusters: int,
    n_iter: int = 10,
    threshold: float = 1e-7,
    verbose: int = 0,
) -> tuple[int, np.ndarray]:
    """Cluster mask voxels by recursive nearest agglomeration.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_voxels)
        Masked data, columns in C order of ``mask``. Computed in float32.
    mask : ndarray of bool, shape (nx, ny, nz)
        Voxels of ``X`` on their grid.
    n_clusters : int
        Number of clusters wanted (at least this many are returned; fewer
        iterations may stop above it).
    n_iter : int, default=10
        Maximum number of agglomeration steps.
    threshold : float, default=1e-7
        Tie tolerance of the nearest-neighbour choice.
    verbose : int, default=0
        Log progress at INFO level when > 0.

    Returns
    -------
    n_components : int
        Number of clusters found.
    labels : ndarray of int, shape (n_voxels,)
        Cluster of each voxel, in ``0 .. n_components - 1``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> mask = np.ones((4, 4, 4), dtype=bool)
    >>> n, labels = recursive_neighbor_agglomeration(
    ...     rng.standard_normal((10, 64)), mask, n_clusters=8)
    >>> n >= 8, labels.shape
    (True, (64,))
    """
    X = np.asarray(X, dtype=np.float32)
    connectivity = weighted_connectivity(X, mask)
    n_components = connectivity.shape[0]
    labels = np.arange(n_components)
    for iteration in range(n_iter):
        connectivity, X, step_labels = nearest_neighbor_grouping(
            X, connectivity, n_clusters, threshold
        )
        labels = step_labels[labels]
        n_components = connectivity.shape[0]
        if verbose:
            logger.info(
                "ReNA iteration %d: %d clusters", iteration + 1, n_components
            )
        if n_components <= n_clusters:
            break
    return n_components, labels


# --------------------------------------------------------------------------
# Estimator
# --------------------------------------------------------------------------
def _mask_array(mask_img: Any, n_features: int) -> np.ndarray:
    """3D boolean mask from ``mask_img`` (image, path, array or None)."""
    if mask_img is None:
        return np.ones((n_features, 1, 1), dtype=bool)
    if isinstance(mask_img, np.ndarray):
        mask = mask_img
    else:
        from ..image import check_niimg

        img = check_niimg(mask_img, ensure_ndim=3, name="mask_img")
        mask = np.asarray(img.dataobj)
    if mask.ndim != 3:
        raise ValueError(
            f"mask_img must be a 3D mask, got data of shape {mask.shape}"
        )
    return mask != 0


def _check_fit_input(X: Any, n_clusters: int, owner: str, dtype: Any) -> np.ndarray:
    """``X`` of a clustering's ``fit`` as an array (at least 2 samples and 2
    features) of ``dtype``; ``n_clusters`` must not exceed its features."""
    X = check_array(
        X,
        dtype=dtype,
        ensure_min_features=2,
        ensure_min_samples=2,
        input_name="X",
    )
    n_features = X.shape[1]
    if n_clusters > n_features:
        raise ValueError(
            f"The 'n_clusters' parameter of {owner} must be at most the number "
            f"of features (voxels), {n_features}. Got {n_clusters} instead."
        )
    return X


def _reduce_to_clusters(estimator: Any, X: Any, owner: str) -> np.ndarray:
    """``transform`` of a fitted clustering (ReNA, HierarchicalKMeans).

    Checks ``X`` against ``estimator.n_features_in_`` and returns the
    per-cluster means of ``X`` (times ``sqrt(size)`` when ``estimator.scaling``),
    an array of shape (n_samples, n_clusters_).
    """
    check_is_fitted(estimator, "labels_")
    X = check_array(X, dtype=[np.float32, np.float64], input_name="X")
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {owner} was fitted with "
            f"{estimator.n_features_in_}"
        )
    return _cluster_means(X, estimator.labels_, estimator.sizes_, estimator.scaling)


def _spread_clusters(estimator: Any, X_red: Any, owner: str) -> np.ndarray:
    """``inverse_transform`` of a fitted clustering (ReNA, HierarchicalKMeans).

    ``X_red`` of shape (n_samples, n_clusters_) or (n_clusters_,) is spread back
    to the features, piecewise constant over clusters.
    """
    check_is_fitted(estimator, "labels_")
    X_red = np.asarray(X_red)
    n_clusters = estimator.n_clusters_
    if X_red.ndim not in (1, 2) or X_red.shape[-1] != n_clusters:
        raise ValueError(
            f"{owner}.inverse_transform expects {n_clusters} columns (one per "
            f"cluster), got an array of shape {X_red.shape}"
        )
    if estimator.scaling:
        X_red = X_red / np.sqrt(estimator.sizes_)
    return X_red[..., estimator.labels_]


class ReNA(ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, BaseEstimator):
    """Recursive nearest agglomeration (ReNA) of voxels.

    Repeatedly merges each cluster with its nearest spatial neighbour (in
    signal space) until ``n_clusters`` clusters remain or ``n_iter`` steps
    were made (Hoyos-Idrobo et al., IEEE TPAMI 2019).

    Parameters
    ----------
    mask_img : Niimg-like, ndarray of bool (3D) or None, default=None
        Mask whose voxels are the columns of ``X`` (C order). None treats the
        features as a line of voxels (each linked to the next).
    n_clusters : int, default=2
        Number of clusters to find, in ``[1, n_features]``.
    scaling : bool, default=False
        Multiply each cluster's mean by ``sqrt(cluster size)`` in
        :meth:`transform` (preserves the l2 norm); undone by
        :meth:`inverse_transform`.
    n_iter : int, default=10
        Maximum number of agglomeration steps.
    threshold : float, default=1e-7
        Tie tolerance, in the open interval (0, 1).
    memory : None, str or joblib.Memory, default=None
        Cache for the clustering.
    memory_level : int, default=1
        Caching is used when ``memory_level >= 1`` and ``memory`` is set.
    verbose : int, default=0
        Log progress when > 0.

    Attributes
    ----------
    labels_ : ndarray of int, shape (n_features,)
        Cluster of each feature.
    n_clusters_ : int
        Number of clusters found.
    sizes_ : ndarray of int, shape (n_clusters_,)
        Number of features per cluster.
    mask_img_ : object
        The mask used.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((20, 64)).astype("float32")
    >>> rena = ReNA(mask_img=np.ones((4, 4, 4), bool), n_clusters=6).fit(X)
    >>> rena.transform(X).shape[1] == rena.n_clusters_
    True
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval("int", 1, None)],
        "scaling": ["boolean"],
        "n_iter": [Interval("int", 1, None)],
        "threshold": [Interval("real", 0, 1, closed="neither")],
        "memory_level": [Interval("int", 0, None)],
        "verbose": [Interval("int", 0, None), "boolean"],
        "memory": "no_validation",
        "mask_img": "no_validation",
    }

    def __init__(
        self,
        mask_img: Any = None,
        n_clusters: int = 2,
        scaling: bool = False,
        n_iter: int = 10,
        threshold: float = 1e-7,
        memory: Any = None,
        memory_level: int = 1,
        verbose: int = 0,
    ):
        self.mask_img = mask_img
        self.n_clusters = n_clusters
        self.scaling = scaling
        self.n_iter = n_iter
        self.threshold = threshold
        self.memory = memory
        self.memory_level = memory_level
        self.verbose = verbose

    def fit(self, X: Any, y: Any = None) -> ReNA:
        """Cluster the features (voxels) of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Masked data.
        y : None
            Ignored.

        Returns
        -------
        self : ReNA
        """
        validate_params(self.get_params(deep=False), self._parameter_constraints, "ReNA")
        X = _check_fit_input(X, self.n_clusters, "ReNA", dtype=np.float32)
        n_features = X.shape[1]
        self.n_features_in_ = n_features
        mask = _mask_array(self.mask_img, n_features)
        if int(mask.sum()) != n_features:
            raise ValueError(
                f"mask_img has {int(mask.sum())} voxels but X has {n_features} "
                f"features (columns); they must match"
            )
        cluster = recursive_neighbor_agglomeration
        if self.memory is not None and self.memory_level >= 1:
            import joblib

            memory = (
                self.memory
                if isinstance(self.memory, joblib.Memory)
                else joblib.Memory(self.memory, verbose=0)
            )
            cluster = memory.cache(recursive_neighbor_agglomeration)
        n_components, labels = cluster(
            X, mask, self.n_clusters, n_iter=self.n_iter,
            threshold=self.threshold, verbose=self.verbose,
        )
        self.mask_img_ = self.mask_img
        self.labels_ = labels
        self.sizes_ = np.bincount(labels, minlength=n_components)
        self.n_clusters_ = int(n_components)
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
            Mean of each cluster (times ``sqrt(size)`` when ``scaling``).
        """
        return _reduce_to_clusters(self, X, "ReNA")

    def inverse_transform(self, X_red: Any) -> np.ndarray:
        """Spread cluster values back to their features.

        Parameters
        ----------
        X_red : array-like of shape (n_samples, n_clusters_) or (n_clusters_,)

        Returns
        -------
        X_inv : ndarray of shape (n_samples, n_features) or (n_features,)
            Piecewise constant over clusters.
        """
        return _spread_clusters(self, X_red, "ReNA")


def _cluster_means(
    X: np.ndarray, labels: np.ndarray, sizes: np.ndarray, scaling: bool
) -> np.ndarray:
    """Per-cluster means of the columns of ``X`` (sparse product, X's dtype)."""
    n_clusters = len(sizes)
    indicator = sparse.csr_matrix(
        (np.ones(len(labels), dtype=X.dtype), (labels, np.arange(len(labels)))),
        shape=(n_clusters, len(labels)),
    )
    sums = np.asarray(indicator @ X.T).T
    means = sums / sizes.astype(X.dtype)
    if scaling:
        means = means * np.sqrt(sizes).astype(X.dtype)
    return np.ascontiguousarray(means)
