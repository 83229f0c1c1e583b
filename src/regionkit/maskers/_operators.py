"""Region operators built once at ``fit``: which voxels each region reads.

Every function here works on geometry only (shape, affine, mask); no voxel
data is read. Voxel indices are flat indices in Fortran (NIfTI on-disk)
order, ``np.ravel_multi_index((i, j, k), shape, order="F")``, the layout of
the blocks yielded by :func:`regionkit.image.stream.iter_blocks`.

Sphere selection follows nilearn 0.14.1 exactly:

1. the voxel nearest to the seed (``round(inv(affine) @ seed)``, numpy's
   round-half-to-even) when it lies inside the image and the mask;
2. every in-mask voxel whose centre lies at a distance ``<= radius`` mm from
   the seed (none when ``radius`` is None);
3. the first in-mask voxel, in C order, whose world coordinates truncated
   towards zero equal the seed's truncated coordinates (nilearn's "voxel
   containing the seed" rule; it can add a second voxel when ``radius`` is
   None).

Within a sphere, voxels are listed in C order, the column order in which
nilearn hands a sphere's signals to its aggregation function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = [
    "SphereSelection",
    "select_sphere_voxels",
    "find_overlaps",
    "mean_operator",
    "union_positions",
]

# |w - s| < 2 on each axis when trunc(w) == trunc(s) (both can lie in (-1, 1)),
# so the voxel of rule 3 is closer than this to the seed.
_TRUNCATION_REACH_MM = 2.0 * np.sqrt(3.0) + 1e-6


@dataclass(frozen=True)
class SphereSelection:
    """The voxels each sphere reads on one image grid.

    Attributes
    ----------
    voxels : list of ndarray of int64
        For each seed, flat Fortran-order indices of its voxels, listed in C
        order (nilearn's order). Empty when the sphere has no voxel.
    n_voxels_unbounded : ndarray of int64, shape (n_seeds,)
        Voxels the sphere would hold on an infinite grid with no mask.
    n_voxels_in_fov : ndarray of int64, shape (n_seeds,)
        Voxels inside the image's field of view, ignoring the mask.
    """

    voxels: list
    n_voxels_unbounded: np.ndarray
    n_voxels_in_fov: np.ndarray

    @property
    def coverage(self) -> np.ndarray:
        """Fraction of each sphere's voxels inside the mask and field of view."""
        n_selected = np.array([len(v) for v in self.voxels], dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(
                self.n_voxels_unbounded > 0,
                n_selected / np.maximum(self.n_voxels_unbounded, 1),
                0.0,
            )

    @property
    def empty(self) -> np.ndarray:
        """Indices of the seeds whose sphere holds no voxel."""
        return np.flatnonzero([len(v) == 0 for v in self.voxels])


def _world(ijk: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """World coordinates (n, 3) of voxel indices (n, 3), computed as nilearn."""
    homogeneous = np.c_[ijk.astype(np.float64), np.ones(len(ijk))].T
    return np.dot(affine, homogeneous)[:3].T


def _box(center: np.ndarray, half_widths: np.ndarray, shape=None) -> np.ndarray:
    """All integer voxel indices (n, 3) of a box, optionally clipped to ``shape``."""
    low = np.floor(center - half_widths).astype(np.int64)
    high = np.ceil(center + half_widths).astype(np.int64)
    if shape is not None:
        low = np.maximum(low, 0)
        high = np.minimum(high, np.asarray(shape) - 1)
    if np.any(high < low):
        return np.empty((0, 3), dtype=np.int64)
    axes = [np.arange(lo, hi + 1) for lo, hi in zip(low, high)]
    grid = np.meshgrid(*axes, indexing="ij")  # C order when raveled
    return np.stack([g.ravel() for g in grid], axis=1)


def select_sphere_voxels(
    seeds: np.ndarray,
    radius: float | None,
    shape: tuple,
    affine: np.ndarray,
    mask: np.ndarray | None = None,
) -> SphereSelection:
    """Select the voxels of spheres centred on seeds, as nilearn does.

    Parameters
    ----------
    seeds : ndarray of shape (n_seeds, 3)
        Seed coordinates in world (mm) space; finite.
    radius : float or None
        Sphere radius in mm; None selects the voxel nearest to the seed.
    shape : tuple of 3 ints
        Image grid shape.
    affine : ndarray of shape (4, 4)
        Voxel-to-world affine of the image grid.
    mask : ndarray of bool, shape ``shape``, optional
        Voxels allowed (already on the image grid). None allows every voxel.

    Returns
    -------
    SphereSelection
        Per-seed voxel indices (Fortran flat, C-ordered within a sphere) and
        the counts needed for coverage.

    Notes
    -----
    Only a box around each seed is examined, whose half-width on voxel axis
    ``i`` is ``R * ||inv(affine)[i, :3]||`` with ``R`` the larger of the
    radius and the reach of the truncation rule, so the cost is independent
    of the image size.
    """
    seeds = np.asarray(seeds, dtype=np.float64).reshape(-1, 3)
    shape = tuple(int(s) for s in shape[:3])
    affine = np.asarray(affine, dtype=np.float64)
    inverse = np.linalg.inv(affine)
    row_norms = np.sqrt((inverse[:3, :3] ** 2).sum(axis=1))
    reach = max(0.0 if radius is None else float(radius), _TRUNCATION_REACH_MM)
    half_widths = reach * row_norms + 1.0
    shape_arr = np.asarray(shape)

    voxels, unbounded, in_fov = [], [], []
    for seed in seeds:
        seed_homogeneous = np.r_[seed, 1.0]
        continuous = np.dot(inverse, seed_homogeneous)[:3]
        nearest = np.round(continuous).astype(np.int64)

        candidates = _box(continuous, half_widths)
        world = _world(candidates, affine)
        if radius is None:
            in_ball = np.zeros(len(candidates), dtype=bool)
        else:
            squared = ((world - seed) ** 2).sum(axis=1)
            in_ball = squared <= float(radius) * float(radius)
        is_nearest = (candidates == nearest).all(axis=1)
        truncated_match = (world.astype(np.int64) == seed.astype(np.int64)).all(axis=1)

        inside = ((candidates >= 0) & (candidates < shape_arr)).all(axis=1)
        allowed = inside.copy()
        if mask is not None:
            idx = candidates[inside]
            allowed[inside] = mask[idx[:, 0], idx[:, 1], idx[:, 2]]

        # Rule 3 picks only the first allowed voxel in C order.
        first_truncated = np.zeros(len(candidates), dtype=bool)
        hits = np.flatnonzero(truncated_match & allowed)
        if hits.size:
            first_truncated[hits[0]] = True  # candidates are in C order
        # Unbounded count: the same rules on an infinite, unmasked grid.
        first_unbounded = np.zeros(len(candidates), dtype=bool)
        hits_unbounded = np.flatnonzero(truncated_match)
        if hits_unbounded.size:
            first_unbounded[hits_unbounded[0]] = True

        selected = allowed & (in_ball | is_nearest | first_truncated)
        # the geometric sphere keeps the rule-3 voxel actually used, if any
        geometric = in_ball | is_nearest | (first_truncated if hits.size else first_unbounded)
        unbounded.append(int(geometric.sum()))
        in_fov.append(int((geometric & inside).sum()))
        ijk = candidates[selected]
        voxels.append(
            np.ravel_multi_index(tuple(ijk.T), shape, order="F").astype(np.int64)
            if len(ijk)
            else np.empty(0, dtype=np.int64)
        )
    return SphereSelection(
        voxels=voxels,
        n_voxels_unbounded=np.asarray(unbounded, dtype=np.int64),
        n_voxels_in_fov=np.asarray(in_fov, dtype=np.int64),
    )


def find_overlaps(region_voxels: list) -> list[tuple[int, int]]:
    """Pairs of regions sharing at least one voxel.

    Parameters
    ----------
    region_voxels : list of ndarray of int
        Voxel indices of each region.

    Returns
    -------
    list of (int, int)
        Sorted pairs ``(a, b)`` with ``a < b``.
    """
    if not region_voxels:
        return []
    owners = np.concatenate(
        [np.full(len(v), i, dtype=np.int64) for i, v in enumerate(region_voxels)]
    )
    flat = np.concatenate([np.asarray(v, dtype=np.int64) for v in region_voxels])
    order = np.lexsort((owners, flat))
    flat, owners = flat[order], owners[order]
    pairs = set()
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    ends = np.r_[starts[1:], len(flat)]
    for start, end in zip(starts, ends):
        if end - start > 1:
            shared = np.unique(owners[start:end])
            for a_pos in range(len(shared)):
                for b_pos in range(a_pos + 1, len(shared)):
                    pairs.add((int(shared[a_pos]), int(shared[b_pos])))
    return sorted(pairs)


def union_positions(region_voxels: list) -> tuple[np.ndarray, list]:
    """The sorted union of the regions' voxels and each region's positions in it.

    Parameters
    ----------
    region_voxels : list of ndarray of int
        Voxel indices of each region.

    Returns
    -------
    union : ndarray of int64, shape (n_selected_voxels,)
        Sorted unique voxel indices read by any region.
    positions : list of ndarray of int64
        For each region, the positions of its voxels in ``union`` (same order
        as the region's own voxel list).
    """
    if region_voxels:
        union = np.unique(
            np.concatenate([np.asarray(v, dtype=np.int64) for v in region_voxels])
        )
    else:
        union = np.empty(0, dtype=np.int64)
    positions = [np.searchsorted(union, np.asarray(v, dtype=np.int64)) for v in region_voxels]
    return union, positions


def mean_operator(positions: list, n_selected_voxels: int) -> sparse.csc_matrix:
    """Sparse operator averaging each region's voxels.

    Parameters
    ----------
    positions : list of ndarray of int
        For each region, the columns (positions in the gathered union) it reads.
    n_selected_voxels : int
        Length of the gathered union.

    Returns
    -------
    scipy.sparse.csc_matrix of float32, shape (n_selected_voxels, n_regions)
        Column ``r`` holds ``1 / n_r`` on region ``r``'s voxels, so
        ``values @ operator`` turns gathered (n_volumes, n_selected_voxels)
        values into (n_volumes, n_regions) means. An empty region has an
        all-zero column (its mean is set to NaN by the extraction).
    """
    rows = np.concatenate(
        [np.asarray(p, dtype=np.int64) for p in positions] or [np.empty(0, dtype=np.int64)]
    )
    cols = np.concatenate(
        [np.full(len(p), r, dtype=np.int64) for r, p in enumerate(positions)]
        or [np.empty(0, dtype=np.int64)]
    )
    sizes = np.array([len(p) for p in positions], dtype=np.float64)
    weights = (1.0 / np.maximum(sizes, 1.0))[cols].astype(np.float32)
    return sparse.csc_matrix(
        (weights, (rows, cols)), shape=(n_selected_voxels, len(positions)), dtype=np.float32
    )
