"""Per-region numbers shown in reports: voxel counts, centres and coverage.

Plain array functions; images are handled by the builders.
"""

from __future__ import annotations

import numpy as np

__all__ = ["label_statistics", "map_statistics", "sphere_statistics"]


def _voxel_sizes(affine: np.ndarray) -> np.ndarray:
    return np.sqrt((affine[:3, :3] ** 2).sum(axis=0))


def sphere_statistics(
    seeds: np.ndarray,
    radius: float | None,
    shape: tuple[int, int, int],
    affine: np.ndarray,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Voxels of each sphere inside the grid (and mask), and of the whole sphere.

    A voxel belongs to a sphere when its centre lies within ``radius`` mm of the
    seed; the voxel nearest to the seed always belongs (as in nilearn), so a
    ``radius`` of None or 0 gives one-voxel spheres.

    Parameters
    ----------
    seeds : ndarray of shape (n_spheres, 3)
        Sphere centres in world coordinates (mm).
    radius : float or None
        Sphere radius in mm.
    shape : tuple of 3 ints
        Grid shape.
    affine : ndarray of shape (4, 4)
        Grid voxel-to-world transform.
    mask : ndarray of shape ``shape`` or None, default=None
        Voxels that count (nonzero); None counts every voxel of the grid.

    Returns
    -------
    n_voxels : ndarray of shape (n_spheres,)
        Voxels of the sphere inside the grid and the mask.
    n_voxels_full : ndarray of shape (n_spheres,)
        Voxels of the sphere on an unbounded grid with the same affine.
    """
    seeds = np.atleast_2d(np.asarray(seeds, dtype=float))
    radius = 0.0 if radius is None else float(radius)
    inverse = np.linalg.inv(affine)
    half_width = np.ceil(radius / _voxel_sizes(affine)).astype(int) + 1
    offsets = np.stack(
        np.meshgrid(*(np.arange(-h, h + 1) for h in half_width), indexing="ij"), axis=-1
    ).reshape(-1, 3)
    shape_array = np.asarray(shape[:3])
    n_voxels = np.zeros(len(seeds), dtype=np.int64)
    n_voxels_full = np.zeros(len(seeds), dtype=np.int64)
    for position, seed in enumerate(seeds):
        seed_voxel = inverse[:3, :3] @ seed + inverse[:3, 3]
        nearest = np.rint(seed_voxel).astype(int)
        candidates = nearest + offsets
        world = candidates @ affine[:3, :3].T + affine[:3, 3]
        member = ((world - seed) ** 2).sum(axis=1) <= radius**2
        member |= np.all(candidates == nearest, axis=1)
        n_voxels_full[position] = member.sum()
        inside = member & np.all((candidates >= 0) & (candidates < shape_array), axis=1)
        if mask is not None:
            kept = candidates[inside]
            inside[inside] = mask[kept[:, 0], kept[:, 1], kept[:, 2]] != 0
        n_voxels[position] = inside.sum()
    return n_voxels, n_voxels_full


def label_statistics(
    labels: np.ndarray,
    affine: np.ndarray,
    label_values: np.ndarray,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Voxel counts, centres and in-mask counts of labelled regions.

    Parameters
    ----------
    labels : ndarray of shape (X, Y, Z)
        Label image data (values are rounded to integers).
    affine : ndarray of shape (4, 4)
        Its voxel-to-world transform.
    label_values : ndarray of shape (n_regions,)
        Labels to describe, in table order.
    mask : ndarray of shape (X, Y, Z) or None, default=None
        Mask on the same grid; None means every voxel is kept.

    Returns
    -------
    n_voxels : ndarray of shape (n_regions,)
        Voxels carrying each label.
    centers : ndarray of shape (n_regions, 3)
        For each region, the world coordinates (mm) of its voxel nearest to the
        region's centroid (a point inside the region); NaN for empty regions.
    n_voxels_in_mask : ndarray of shape (n_regions,)
        Voxels carrying each label inside ``mask``.
    """
    label_values = np.asarray(label_values)
    flat = np.rint(labels).astype(np.int64).ravel()
    n_regions = len(label_values)
    sorted_order = np.argsort(label_values)
    sorted_values = label_values[sorted_order]
    position = np.clip(np.searchsorted(sorted_values, flat), 0, max(n_regions - 1, 0))
    known = np.zeros(flat.shape, dtype=bool)
    if n_regions:
        known = sorted_values[position] == flat
    region = sorted_order[position[known]] if n_regions else position[known]
    voxel_index = np.flatnonzero(known)
    ijk = np.column_stack(np.unravel_index(voxel_index, labels.shape[:3])).astype(float)
    n_voxels = np.bincount(region, minlength=n_regions)
    sums = np.column_stack(
        [np.bincount(region, weights=ijk[:, a], minlength=n_regions) for a in range(3)]
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        centroids = sums / n_voxels[:, None]
    # a point inside each region: the member voxel nearest to the centroid
    distance = ((ijk - centroids[region]) ** 2).sum(axis=1) if n_regions else np.zeros(0)
    order = np.lexsort((distance, region))
    first = np.ones(len(order), dtype=bool)
    first[1:] = region[order][1:] != region[order][:-1]
    centers = np.full((n_regions, 3), np.nan)
    nearest = order[first]
    centers[region[nearest]] = ijk[nearest] @ affine[:3, :3].T + affine[:3, 3]
    if mask is None:
        n_voxels_in_mask = n_voxels.copy()
    else:
        in_mask = mask.ravel()[voxel_index] != 0
        n_voxels_in_mask = np.bincount(region[in_mask], minlength=n_regions)
    return n_voxels, centers, n_voxels_in_mask


def map_statistics(
    maps: np.ndarray,
    affine: np.ndarray,
    mask: np.ndarray | None = None,
    chunk_voxels: int = 32768,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Support size, peak and in-mask support of each map of a 4D image.

    One pass over the voxels in chunks (``chunk_voxels`` rows of the
    C-ordered ``(n_voxels, n_maps)`` view), so no 4D temporary is made.

    Parameters
    ----------
    maps : ndarray of shape (X, Y, Z, n_maps)
        Map values.
    affine : ndarray of shape (4, 4)
        Voxel-to-world transform.
    mask : ndarray of shape (X, Y, Z) or None, default=None
        Mask on the same grid; None keeps every voxel.
    chunk_voxels : int, default=32768
        Voxels handled at once.

    Returns
    -------
    n_voxels : ndarray of shape (n_maps,)
        Nonzero voxels of each map.
    peaks : ndarray of shape (n_maps, 3)
        World coordinates (mm) of each map's largest absolute value; NaN for
        all-zero maps.
    peak_values : ndarray of shape (n_maps,)
        The value at the peak.
    n_voxels_in_mask : ndarray of shape (n_maps,)
        Nonzero voxels of each map inside ``mask``.
    strongest : ndarray of shape (X, Y, Z), int32
        1 + the map with the largest absolute value at each voxel; 0 where
        every map is zero.
    """
    n_maps = maps.shape[3]
    flat = maps.reshape(-1, n_maps)
    keep = None if mask is None else np.asarray(mask).reshape(-1) != 0
    n_voxels = np.zeros(n_maps, dtype=np.int64)
    n_voxels_in_mask = np.zeros(n_maps, dtype=np.int64)
    best_value = np.full(n_maps, -1.0)
    best_index = np.zeros(n_maps, dtype=np.int64)
    peak_values = np.zeros(n_maps)
    strongest = np.zeros(flat.shape[0], dtype=np.int32)
    columns = np.arange(n_maps)
    for start in range(0, flat.shape[0], chunk_voxels):
        chunk = np.asarray(flat[start:start + chunk_voxels], dtype=np.float32)
        magnitude = np.abs(chunk)
        support = chunk != 0
        n_voxels += support.sum(axis=0)
        n_voxels_in_mask += (
            support.sum(axis=0) if keep is None
            else support[keep[start:start + chunk_voxels]].sum(axis=0)
        )
        rows = magnitude.argmax(axis=0)
        values = magnitude[rows, columns]
        better = values > best_value
        best_value[better] = values[better]
        best_index[better] = start + rows[better]
        peak_values[better] = chunk[rows[better], columns[better]]
        winner = magnitude.argmax(axis=1)
        any_support = support.any(axis=1)
        strongest[start:start + chunk_voxels] = np.where(any_support, winner + 1, 0)
    ijk = np.column_stack(np.unravel_index(best_index, maps.shape[:3])).astype(float)
    peaks = ijk @ affine[:3, :3].T + affine[:3, 3]
    peaks[n_voxels == 0] = np.nan
    peak_values[n_voxels == 0] = 0.0
    return n_voxels, peaks, peak_values, n_voxels_in_mask, strongest.reshape(maps.shape[:3])
