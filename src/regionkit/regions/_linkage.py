"""Average and complete linkage under a connectivity constraint.

scikit-learn's :class:`~sklearn.cluster.AgglomerativeClustering` with a
connectivity graph and ``linkage="average"`` or ``"complete"`` builds the whole
tree (down to one cluster, because ``compute_full_tree="auto"`` asks for it
whenever ``n_clusters < max(100, 0.02 * n_samples)``) and never removes dead
clusters from its neighbour lists, so merges late in the tree walk ever longer
lists. This module runs the *same* agglomeration — same initial edge weights,
same Lance–Williams-style updates, same heap with the same push order — but

- stops as soon as ``n_clusters`` clusters remain (the partition of the full
  tree cut at ``n_clusters`` is exactly the state after ``n - n_clusters``
  merges, because merges happen in node order), and
- keeps each live cluster's neighbour table free of dead clusters.

The partition is therefore identical to scikit-learn's, ties included: the
heap holds edges compared by weight only, pushed in the same order as
scikit-learn pushes them, so equal weights are popped in the same order.
Cluster *numbers* differ (scikit-learn numbers the clusters of a full tree by
the order of its cut heap; we number them by the index of the node that
formed them, as scikit-learn does when it stops early with
``compute_full_tree=False``).

Connectivity graphs with several connected components are handed to
scikit-learn unchanged (it adds edges between components first).
"""

from __future__ import annotations

import heapq
import logging

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

__all__ = ["constrained_linkage_labels"]

logger = logging.getLogger(__name__)

_LINKAGES = ("average", "complete")
_DISTANCE_CHUNK = 65536


class _Edge(float):
    """A heap entry ordered by weight only (as scikit-learn's ``WeightedEdge``).

    A float subclass: heapq compares entries with float's C comparison, so the
    heap is as fast as a heap of floats and equal weights stay unordered (the
    heap's own structure decides between them, exactly as in scikit-learn).
    """

    __slots__ = ("a", "b")


def _edge(weight: float, a: int, b: int) -> _Edge:
    entry = _Edge(weight)
    entry.a = a
    entry.b = b
    return entry


def _lower_edges(connectivity: sparse.spmatrix, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges ``(row, col)`` with ``col < row`` of the symmetrised graph, row-major, columns sorted."""
    graph = sparse.csr_matrix(connectivity, dtype=np.float64)
    graph = (graph + graph.T).tocsr()
    graph.sum_duplicates()
    graph.sort_indices()
    rows = np.repeat(np.arange(n_samples, dtype=np.intp), np.diff(graph.indptr))
    cols = graph.indices.astype(np.intp, copy=False)
    lower = cols < rows
    return rows[lower], cols[lower]


def _edge_distances(X: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Euclidean distances of the edges, computed as scikit-learn computes them.

    ``paired_distances`` on ``X[row], X[col]`` in ``X``'s dtype, in chunks so the
    gathered rows never exceed ``_DISTANCE_CHUNK`` edges.
    """
    from sklearn.metrics.pairwise import paired_euclidean_distances

    distances = np.empty(rows.size, dtype=np.float64)
    for start in range(0, rows.size, _DISTANCE_CHUNK):
        stop = min(start + _DISTANCE_CHUNK, rows.size)
        distances[start:stop] = paired_euclidean_distances(X[rows[start:stop]], X[cols[start:stop]])
    return distances


def _agglomerate(
    rows: np.ndarray,
    cols: np.ndarray,
    distances: np.ndarray,
    n_samples: int,
    n_clusters: int,
    linkage: str,
) -> np.ndarray:
    """Run the merges; return each sample's cluster root (a node index)."""
    n_merges = n_samples - n_clusters
    n_nodes = n_samples + n_merges
    # neighbour tables of live clusters: {neighbour node: linkage distance}
    tables: list = [None] * n_nodes
    for node in range(n_samples):
        tables[node] = {}
    rows_list = rows.tolist()
    cols_list = cols.tolist()
    dist_list = distances.tolist()
    for row, col, dist in zip(rows_list, cols_list, dist_list):
        tables[row][col] = dist
        tables[col][row] = dist
    heap = [_edge(dist, row, col) for row, col, dist in zip(rows_list, cols_list, dist_list)]
    heapq.heapify(heap)
    sizes = [1] * n_samples + [0] * n_merges
    parent = np.arange(n_nodes, dtype=np.intp)
    heappop = heapq.heappop
    heappush = heapq.heappush
    average = linkage == "average"
    for new in range(n_samples, n_nodes):
        while True:
            edge = heappop(heap)
            if sizes[edge.a] and sizes[edge.b]:
                break
        first, second = edge.a, edge.b
        parent[first] = parent[second] = new
        n_first = sizes[first]
        n_second = sizes[second]
        n_new = n_first + n_second
        sizes[new] = n_new
        sizes[first] = sizes[second] = 0
        table_first = tables[first]
        table_second = tables[second]
        tables[first] = tables[second] = None
        merged = {}
        for key, value in table_first.items():
            if key != second:
                merged[key] = value
        for key, value in table_second.items():
            if key == first:
                continue
            other = merged.get(key)
            if other is None:
                merged[key] = value
            elif average:
                merged[key] = (n_first * other + n_second * value) / n_new
            elif value > other:
                merged[key] = value
        for key in sorted(merged):
            value = merged[key]
            neighbour = tables[key]
            neighbour.pop(first, None)
            neighbour.pop(second, None)
            neighbour[new] = value
            heappush(heap, _edge(value, new, key))
        tables[new] = merged
    # follow parents to each sample's root (pointer jumping)
    roots = parent.copy()
    while True:
        jumped = roots[roots]
        if np.array_equal(jumped, roots):
            break
        roots = jumped
    return roots[:n_samples]


def constrained_linkage_labels(
    X: np.ndarray,
    connectivity: sparse.spmatrix,
    n_clusters: int,
    linkage: str = "average",
) -> np.ndarray:
    """Cluster samples by average or complete linkage along a graph.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Samples to cluster (for parcellations: voxels x reduced components).
    connectivity : sparse matrix of shape (n_samples, n_samples)
        Which samples may merge directly (e.g. the voxel grid graph from
        :func:`sklearn.feature_extraction.image.grid_to_graph`). Symmetrised;
        the diagonal is ignored.
    n_clusters : int
        Number of clusters to stop at, in ``[1, n_samples]``.
    linkage : {"average", "complete"}, default="average"
        Distance between two clusters: the size-weighted average (or the
        maximum) of the distances along the graph edges joining them, updated
        as scikit-learn updates it.

    Returns
    -------
    labels : ndarray of shape (n_samples,), dtype intp
        Cluster labels ``0 .. n_clusters - 1``, numbered by the order in which
        the clusters' last merge happened (earliest first; unmerged samples by
        index before them).

    Notes
    -----
    The partition equals ``AgglomerativeClustering(n_clusters, linkage=linkage,
    connectivity=connectivity).fit(X).labels_`` (adjusted Rand index 1),
    including the order in which equal distances are merged; see the module
    docstring. Cost: ``O(E log E)`` heap operations where ``E`` is the number of
    edges pushed (initial graph edges plus one per neighbour per merge).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.feature_extraction.image import grid_to_graph
    >>> X = np.array([[0.0], [0.1], [5.0], [5.2]])
    >>> constrained_linkage_labels(X, grid_to_graph(4, 1, 1), 2).tolist()
    [0, 0, 1, 1]
    """
    if linkage not in _LINKAGES:
        raise ValueError(f"linkage must be one of {list(_LINKAGES)}; got {linkage!r}.")
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2D array (n_samples, n_features); got shape {X.shape}.")
    n_samples = X.shape[0]
    if not 1 <= int(n_clusters) <= n_samples:
        raise ValueError(f"n_clusters must be in [1, {n_samples}] (the number of samples); got {n_clusters}.")
    if connectivity.shape != (n_samples, n_samples):
        raise ValueError(
            f"connectivity must have shape ({n_samples}, {n_samples}) to match X; got {connectivity.shape}."
        )
    n_components, _ = connected_components(connectivity, directed=False)
    if n_components > 1:
        from sklearn.cluster import AgglomerativeClustering

        logger.info("connectivity has %d components: using scikit-learn's linkage", n_components)
        model = AgglomerativeClustering(n_clusters=int(n_clusters), connectivity=connectivity, linkage=linkage)
        return model.fit(X).labels_.astype(np.intp)
    rows, cols = _lower_edges(connectivity, n_samples)
    distances = _edge_distances(X, rows, cols)
    roots = _agglomerate(rows, cols, distances, n_samples, int(n_clusters), linkage)
    _, labels = np.unique(roots, return_inverse=True)
    return labels.astype(np.intp, copy=False)
