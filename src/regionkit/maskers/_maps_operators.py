"""Maps operators: the least-squares projection of data onto a set of maps.

nilearn 0.14.1 solves, for every run, ``lstsq(M, data)`` where ``M`` is the
(n_support_voxels, n_maps) matrix of the maps restricted to the voxels where
some map is non-zero (inside the mask). Its minimum-norm solution is
``pinv(M) @ data`` and ``pinv(M) == pinv(M.T @ M) @ M.T`` for any ``M``, so
the projection factorises into

    signals = (values @ M) @ pinv(M.T @ M)

with ``values`` the (n_volumes, n_support_voxels) data. ``M`` stays sparse
when the maps are (localised probabilistic atlases such as DiFuMo), dense
otherwise; ``pinv(M.T @ M)`` is a small (n_maps, n_maps) float64 matrix
computed once at fit. Transform is then one product per chunk, accumulated in
float64, with no (n_voxels, n_maps) dense operator for sparse maps.

The maps are read map by map in chunks (:func:`iter_blocks` over the 4D maps
image), and resampled chunk by chunk when they live on another grid, so fit
never holds the dense 4D maps array either.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..image.stream import iter_blocks
from ._extract import NONFINITE_ALWAYS, Aggregation, ExtractionPlan
from ._grid import _resample_block, same_grid

logger = logging.getLogger(__name__)

__all__ = ["MapsMatrix", "read_maps", "MapsProjection", "maps_plan", "find_map_overlaps"]

# dense M when more than this fraction of its entries are non-zero
_DENSE_FRACTION = 0.3
# dense M in float64 up to this many bytes, float32 beyond
_DENSE_FLOAT64_BYTES = 512 * 2**20


@dataclass
class MapsMatrix:
    """The maps on one grid, as (voxel, map) non-zeros.

    Attributes
    ----------
    shape : tuple of 3 int
    affine : ndarray of shape (4, 4)
    rows : ndarray of int64
        Flat Fortran-order voxel index of each non-zero.
    cols : ndarray of int32
        Map index of each non-zero.
    values : ndarray of float32
    n_maps : int
    source_weight : ndarray of float64, shape (n_maps,)
        Sum of |weights| x voxel volume of each map on its own grid (for
        coverage).
    """

    shape: tuple
    affine: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    n_maps: int
    source_weight: np.ndarray


def _voxel_volume(affine) -> float:
    return float(abs(np.linalg.det(np.asarray(affine, dtype=np.float64)[:3, :3])))


def read_maps(maps_img, shape, affine, chunk_size: int = 16) -> MapsMatrix:
    """Read the maps chunk by chunk onto the grid (shape, affine).

    Parameters
    ----------
    maps_img : nibabel.Nifti1Image
        4D maps (one map per volume). NaN/inf are treated as 0.
    shape, affine
        Target grid; maps on another grid are resampled (trilinear, as
        nilearn) chunk by chunk.
    chunk_size : int
        Maps decoded at a time.

    Returns
    -------
    MapsMatrix
    """
    source_shape = tuple(int(s) for s in maps_img.shape[:3])
    resample = not same_grid(source_shape, maps_img.affine, shape, affine)
    source_volume = _voxel_volume(maps_img.affine)
    rows, cols, values, weights = [], [], [], []
    for start, block in iter_blocks(maps_img, chunk_size=chunk_size):
        # work on the voxels some map of the chunk touches (NaN counts: != 0)
        touched = np.flatnonzero(block.any(axis=0))
        sub = block[:, touched]
        sub[~np.isfinite(sub)] = 0
        weights.append(np.abs(sub).sum(axis=1, dtype=np.float64) * source_volume)
        if resample:
            block = np.zeros_like(block)
            block[:, touched] = sub
            block = _resample_block(
                block, source_shape, maps_img.affine, shape, affine, interpolation="linear"
            )
            touched = np.flatnonzero(block.any(axis=0))
            sub = block[:, touched]
        local_map, position = np.nonzero(sub)
        rows.append(touched[position].astype(np.int64))
        cols.append((local_map + start).astype(np.int32))
        values.append(sub[local_map, position].astype(np.float32))
    n_maps = int(maps_img.shape[3]) if len(maps_img.shape) == 4 else 1
    return MapsMatrix(
        shape=tuple(int(s) for s in shape[:3]),
        affine=np.asarray(affine, dtype=np.float64),
        rows=np.concatenate(rows) if rows else np.empty(0, np.int64),
        cols=np.concatenate(cols) if cols else np.empty(0, np.int32),
        values=np.concatenate(values) if values else np.empty(0, np.float32),
        n_maps=n_maps,
        source_weight=np.concatenate(weights) if weights else np.zeros(0),
    )


def find_map_overlaps(maps: MapsMatrix) -> int:
    """Number of voxels where more than one map is positive (nilearn's test).

    Float values below the float32 machine epsilon count as 0, as in nilearn.
    """
    positive = maps.values >= np.finfo(np.float32).eps
    per_voxel = np.bincount(maps.rows[positive], minlength=0)
    return int((per_voxel > 1).sum())


class MapsProjection:
    """``values -> (values @ M) @ gram_pinv``: nilearn's least-squares signals.

    Parameters
    ----------
    matrix : scipy.sparse.csc_matrix or ndarray, shape (n_selected_voxels, n_columns)
        Maps restricted to the gathered voxels (columns of empty maps are 0).
    gram_pinv : ndarray of float64, shape (n_columns, n_columns)
        ``pinv(matrix.T @ matrix)``.
    empty : ndarray of int
        Columns with no voxel, returned as NaN.
    """

    def __init__(self, matrix, gram_pinv: np.ndarray, empty: np.ndarray):
        self.matrix = matrix
        self.gram_pinv = gram_pinv
        self.empty = np.asarray(empty, dtype=np.int64)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        matrix = self.matrix
        if sparse.issparse(matrix) or matrix.dtype == np.float64:
            projected = values.astype(np.float64) @ matrix
        else:  # large dense maps: float32 product, float64 mixing
            projected = (values @ matrix).astype(np.float64)
        signals = np.asarray(projected) @ self.gram_pinv
        if self.empty.size:
            signals[:, self.empty] = np.nan
        return signals


def _gram_pinv(gram: np.ndarray) -> np.ndarray:
    """Pseudo-inverse of a symmetric positive semi-definite matrix.

    Cholesky (n^3 / 3 flops) when the matrix is comfortably positive definite,
    else the eigendecomposition with nilearn's rank cut-off (minimum-norm
    solution, as ``lstsq``).
    """
    from scipy import linalg

    n = gram.shape[0]
    if n:
        try:
            factor = linalg.cho_factor(gram, lower=True, check_finite=False)
            diagonal = np.abs(np.diag(factor[0]))
            if diagonal.min() ** 2 > diagonal.max() ** 2 * 1e-10:
                return linalg.cho_solve(factor, np.eye(n), check_finite=False)
        except linalg.LinAlgError:
            pass
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    top = eigenvalues.max() if eigenvalues.size else 0.0
    keep = eigenvalues > max(top, 0.0) * gram.shape[0] * np.finfo(np.float64).eps
    inverse = np.zeros_like(eigenvalues)
    inverse[keep] = 1.0 / eigenvalues[keep]
    return (eigenvectors * inverse) @ eigenvectors.T


def maps_plan(
    maps: MapsMatrix,
    mask: np.ndarray | None,
    columns: np.ndarray,
) -> ExtractionPlan:
    """Build the extraction plan of the maps on their grid.

    Parameters
    ----------
    maps : MapsMatrix
        Maps on the extraction grid.
    mask : ndarray of bool of shape ``maps.shape`` or None
    columns : ndarray of int
        Map indices kept as output columns, in order.

    Returns
    -------
    ExtractionPlan
        One ``"block"`` aggregation holding a :class:`MapsProjection`; its
        ``union`` is the support of the kept maps inside the mask.
    """
    columns = np.asarray(columns, dtype=np.int64)
    column_of_map = np.full(maps.n_maps, -1, dtype=np.int64)
    column_of_map[columns] = np.arange(len(columns))
    keep = column_of_map[maps.cols] >= 0
    if mask is not None:
        keep &= mask.ravel(order="F")[maps.rows]
    rows, cols, values = maps.rows[keep], column_of_map[maps.cols[keep]], maps.values[keep]
    union, local_rows = np.unique(rows, return_inverse=True)
    n_selected, n_columns = len(union), len(columns)
    counts = np.bincount(cols, minlength=n_columns)
    empty = np.flatnonzero(counts == 0)
    density = len(values) / max(1, n_selected * n_columns)
    matrix = sparse.csc_matrix(
        (values.astype(np.float64), (local_rows, cols)), shape=(n_selected, n_columns)
    )
    gram = (matrix.T @ matrix).toarray()
    gram_pinv = _gram_pinv(gram)
    if density > _DENSE_FRACTION:
        dense_dtype = (
            np.float64 if n_selected * n_columns * 8 <= _DENSE_FLOAT64_BYTES else np.float32
        )
        matrix = matrix.toarray().astype(dense_dtype, copy=False)
    logger.debug(
        "maps operator: %d voxels x %d maps, density %.3f, %s",
        n_selected,
        n_columns,
        density,
        "sparse" if sparse.issparse(matrix) else f"dense {matrix.dtype}",
    )
    positions = [np.empty(0, np.int64) for _ in range(n_columns)]
    order = np.argsort(cols, kind="stable")
    for column, chunk in enumerate(np.split(local_rows[order], np.cumsum(counts)[:-1])):
        positions[column] = chunk.astype(np.int64)
    return ExtractionPlan(
        shape=maps.shape,
        affine=maps.affine,
        union=union.astype(np.int64),
        positions=positions,
        aggregations=[
            Aggregation("lstsq", "block", MapsProjection(matrix, gram_pinv, empty))
        ],
        nonfinite=NONFINITE_ALWAYS,
        operator=None,
        empty_regions=empty,
    )
