"""Split brain maps and label atlases into spatially connected regions.

Outline:

* :func:`split_map` - the array kernel: one 3D map -> integer region labels,
  either by connected components or by a random walker seeded at the local
  maxima of the smoothed map (``"local_regions"``);
* :func:`connected_regions` - every volume of a 4D maps image through
  :func:`split_map`, regions under ``min_region_size`` mm3 dropped, one output
  volume per region;
* :func:`connected_label_regions` - each label of a 3D atlas split into its
  connected components, names carried over.

Behaviour follows nilearn 0.14.1 (``nilearn.regions.connected_regions`` and
``connected_label_regions``). The random walker is nilearn's own, repeated bit
for bit by :mod:`regionkit.regions._random_walker` on the bounding box of each
map's support (it never reaches outside the support), with the diffusion scale
of the whole volume; scikit-image's preconditioned walkers are available as
``random_walker_mode="cg_j"`` / ``"cg_mg"``.
"""

from __future__ import annotations

import logging
import numbers
import warnings
from collections.abc import Iterable
from typing import Any

import nibabel as nib
import numpy as np
from scipy import ndimage

from .._validation import Interval, Options, check_parameter
from .._warnings import EmptyRegionWarning
from ._random_walker import walk_labels

__all__ = [
    "connected_label_regions",
    "connected_regions",
    "find_peaks",
    "random_walker_labels",
    "split_map",
]

logger = logging.getLogger(__name__)

EXTRACT_TYPES = ("connected_components", "local_regions")
RANDOM_WALKER_MODES = ("cg", "cg_j", "cg_mg")

# nilearn's peak detection: local maxima in a (2 * 10 + 1)^3 window, above
# 10 % of the highest one. Random walker: beta 130, tolerance 1e-3.
_PEAK_MIN_DISTANCE = 10
_PEAK_THRESHOLD_REL = 0.1
_RW_BETA = 130.0
_RW_TOL = 1e-3


# --------------------------------------------------------------------------
# Array kernels
# --------------------------------------------------------------------------
def _bounding_box(support: np.ndarray, margin: int) -> tuple[slice, ...]:
    """Slices of the smallest box holding ``support``, grown by ``margin``."""
    box = []
    for axis in range(support.ndim):
        other = tuple(a for a in range(support.ndim) if a != axis)
        present = np.flatnonzero(support.any(axis=other))
        start = max(int(present[0]) - margin, 0)
        stop = min(int(present[-1]) + 1 + margin, support.shape[axis])
        box.append(slice(start, stop))
    return tuple(box)


def find_peaks(smoothed: np.ndarray, min_distance: int = _PEAK_MIN_DISTANCE) -> np.ndarray:
    """Local maxima of a volume, as nilearn finds region seeds.

    Parameters
    ----------
    smoothed : ndarray of shape (nx, ny, nz)
        The (smoothed) map.
    min_distance : int, default=10
        Half-width of the cubic window a peak must dominate.

    Returns
    -------
    peaks : ndarray of bool, same shape
        Voxels equal to the maximum of their window (zero-padded at the
        borders) and above ``max(0, 0.1 * highest such maximum)``; nothing if
        the volume is constant.
    """
    if smoothed.size == 0 or np.all(smoothed == smoothed.flat[0]):
        return np.zeros(smoothed.shape, dtype=bool)
    window_max = ndimage.maximum_filter(
        smoothed, size=2 * min_distance + 1, mode="constant"
    )
    maxima = np.where(smoothed == window_max, smoothed, 0)
    threshold = max(float(maxima.max()) * _PEAK_THRESHOLD_REL, 0.0)
    return maxima > threshold


def _remove_unreachable(seeds: np.ndarray) -> np.ndarray:
    """Mark voxels the walk cannot use with -1 (as nilearn does).

    Unlabeled voxels (0) that no seed can reach, and seeds that touch no
    unlabeled voxel, leave the graph.
    """
    active = seeds >= 0
    reached = ndimage.binary_propagation(seeds > 0, mask=active)
    seeds[(seeds == 0) & ~reached] = -1
    reaches = ndimage.binary_propagation(seeds == 0, mask=seeds >= 0)
    seeds[(seeds > 0) & ~reaches] = -1
    return seeds


def random_walker_labels(
    map_3d: np.ndarray,
    seeds: np.ndarray,
    beta_scale: float | None = None,
    mode: str = "cg",
) -> np.ndarray:
    """Random walker segmentation of a map from seed labels.

    Parameters
    ----------
    map_3d : ndarray of shape (nx, ny, nz), float
        Intensities; edges are weighted ``exp(-130 * grad**2 / (10 * s))``
        with ``s = beta_scale`` (default: the standard deviation of
        ``map_3d``), plus 1e-10. With ``mode="cg"`` the gradients are taken in
        the map's dtype, as nilearn takes them.
    seeds : ndarray of int, same shape
        Positive seed labels, 0 for voxels to label, -1 for voxels outside
        the graph. Not modified.
    beta_scale : float, optional
        Standard deviation that normalises the gradients. Pass the whole
        volume's when ``map_3d`` is a crop, so the weights do not change.
    mode : {"cg", "cg_j", "cg_mg"}, default="cg"
        ``"cg"``: nilearn's random walker (plain conjugate gradient) step for
        step, compiled (:mod:`regionkit.regions._random_walker`).
        ``"cg_j"`` / ``"cg_mg"``: scikit-image's, with a Jacobi or an
        algebraic multigrid (pyamg; "cg_j" without it) preconditioner, run one
        graph component at a time.

    Returns
    -------
    labels : ndarray of int32, same shape
        Each voxel of the graph gets the seed label whose walker reaches it
        first; 0 outside the graph. Seed values are kept, except that
        ``"cg"`` numbers labels with gaps 1..k first, as nilearn does.

    Notes
    -----
    As in nilearn, unlabeled voxels no seed can reach and seeds touching no
    unlabeled voxel leave the graph (label 0); if nothing is left to label,
    the seeds are returned as they are.

    ``"cg"`` reproduces nilearn's iterations bit for bit, so its labels
    too, including where a walk stopped (tolerance 1e-3) before reaching a
    voxel: probabilities are compared across every label of the map, and
    where none arrived the lowest label wins, wherever its seed is. Each
    label's iterations run over the unknowns of its own graph component only
    (the system is block diagonal). The preconditioned modes solve one
    component at a time, label voxels no walk reached with their own
    component's seed, and label a component with one seed without solving.
    """
    seeds = np.asarray(seeds)
    original = np.where(seeds > 0, seeds, 0).astype(np.int32)
    if not (seeds == 0).any() or not (seeds > 0).any():
        return original
    if mode == "cg":
        return _nilearn_walk(map_3d, seeds, beta_scale, original)
    active = _remove_unreachable(seeds.astype(np.int32))
    if not (active >= 0).any():
        return original
    data = np.asarray(map_3d, dtype=np.float32)
    if beta_scale is None:
        beta_scale = float(data[..., np.newaxis].std())
    scale = np.float32(_RW_BETA) / (np.float32(10) * np.float32(beta_scale))
    labels = np.where(active > 0, active, 0).astype(np.int32)
    components, _ = ndimage.label(active >= 0)
    for index, box in enumerate(ndimage.find_objects(components), start=1):
        if box is None:
            continue
        inside = components[box] == index
        local_seeds = np.where(inside, active[box], -1)
        values = np.unique(local_seeds[local_seeds > 0])
        free = inside & (local_seeds == 0)
        if values.size == 1:
            labels[box][free] = values[0]
            continue
        probabilities = _walk(data[box], local_seeds, scale, mode)[:, free]
        labels[box][free] = values[np.argmax(probabilities, axis=0)]
    return labels


def _nilearn_walk(map_3d: np.ndarray, seeds: np.ndarray, beta_scale: float | None, original: np.ndarray):
    """nilearn's random walker, step for step (see :mod:`regionkit.regions._random_walker`).

    Seed labels with gaps are renumbered 1..k first, as nilearn does; the
    result keeps that numbering (the caller renumbers regions anyway).
    """
    data = np.asarray(map_3d)
    if data.dtype not in (np.float32, np.float64):
        data = data.astype(np.float32 if data.dtype.itemsize <= 4 else np.float64)
    # beta / (10 std): in the dtype of the map's std, as nilearn
    std = data[..., np.newaxis].std() if beta_scale is None else data.dtype.type(beta_scale)
    scale = _RW_BETA / (10 * std)
    seeds = seeds.astype(np.int32)
    positive = np.unique(seeds[seeds > 0])
    if not np.array_equal(positive, np.arange(1, positive.size + 1)):
        graph = seeds >= 0
        seeds[graph] = np.searchsorted(np.unique(seeds[graph]), seeds[graph])
    active = _remove_unreachable(seeds)
    if not (active >= 0).any():
        return original
    return walk_labels(data, active, scale, _RW_TOL)


def _beta_for_scale(data: np.ndarray, scale: np.float32) -> float:
    """``beta`` such that scikit-image's float32 ``beta / (10 * std)`` is ``scale``."""
    denominator = np.float32(10) * data[..., np.newaxis].std()
    beta = np.float32(scale * denominator)
    for _ in range(8):
        got = np.float32(beta) / denominator
        if got == scale:
            break
        beta = np.nextafter(beta, np.float32(np.inf if got < scale else -np.inf))
    return float(beta)


def _walk(data: np.ndarray, seeds: np.ndarray, scale: np.float32, mode: str) -> np.ndarray:
    """scikit-image's preconditioned random walker probabilities, one row per seed label."""
    from skimage.segmentation import random_walker

    # A frame of zeros outside the graph keeps the crop's standard deviation
    # non-zero (a constant component) without changing the graph.
    data = np.pad(np.asarray(data, dtype=np.float32), 1)
    seeds = np.pad(seeds, 1, constant_values=-1)
    if mode == "cg_mg":
        try:
            import pyamg  # noqa: F401
        except ImportError:
            mode = "cg_j"
    with warnings.catch_warnings():
        # scikit-image warns about missing UMFPACK for "cg" and about
        # probabilities slightly outside [0, 1] at the 1e-3 tolerance.
        warnings.simplefilter("ignore", UserWarning)
        probabilities = random_walker(
            data,
            seeds,
            beta=_beta_for_scale(data, scale),
            mode=mode,
            tol=_RW_TOL,
            return_full_prob=True,
        )
    return np.asarray(probabilities)[:, 1:-1, 1:-1, 1:-1]


def split_map(
    map_3d: np.ndarray,
    affine: np.ndarray,
    extract_type: str = "local_regions",
    smoothing_fwhm: Any = 6,
    mode: str = "cg",
) -> np.ndarray:
    """Label the regions of one 3D map.

    Parameters
    ----------
    map_3d : ndarray of shape (nx, ny, nz)
        The map; voxels equal to 0 belong to no region.
    affine : ndarray of shape (4, 4)
        Voxel-to-world affine (for the smoothing width in mm).
    extract_type : {"local_regions", "connected_components"}
        ``"connected_components"``: 6-connected components of the non-zero
        voxels. ``"local_regions"``: a random walker seeded at the local
        maxima of the map smoothed with ``smoothing_fwhm``.
    smoothing_fwhm : float or None, default=6
        FWHM in mm of the smoothing that finds the seeds.
    mode : {"cg", "cg_j", "cg_mg"}, default="cg"
        Random walker solver (see :func:`random_walker_labels`).

    Returns
    -------
    labels : ndarray of int32, same shape
        0 for no region, 1..k for the regions in nilearn's order.
    """
    from ..image import smooth_array

    support = map_3d != 0
    labels = np.zeros(map_3d.shape, dtype=np.int32)
    if not support.any():
        return labels
    if extract_type == "connected_components":
        box = _bounding_box(support, 0)
        labels[box] = ndimage.label(map_3d[box])[0]
        return labels

    # Seeds: peaks of the smoothed map. The crop keeps every voxel whose
    # smoothed value or window maximum can affect a seed inside the support.
    sigmas = _sigmas_in_voxels(smoothing_fwhm, affine)
    reach = int(max((int(4.0 * s + 0.5) for s in sigmas), default=0))
    peak_box = _bounding_box(support, _PEAK_MIN_DISTANCE + reach + 1)
    cropped_map = map_3d[peak_box]
    smoothed = smooth_array(cropped_map, affine, fwhm=smoothing_fwhm)
    seeds = ndimage.label(find_peaks(smoothed))[0].astype(np.int32)
    seeds[cropped_map == 0] = -1

    # Walk on the support's bounding box (plus one voxel) only.
    walk_box = _bounding_box(support, 1)
    offset = tuple(slice(w.start - p.start, w.stop - p.start) for w, p in zip(walk_box, peak_box))
    if mode == "cg" and np.asarray(map_3d).dtype == np.float64:
        volume_std = float(np.asarray(map_3d)[..., np.newaxis].std())
    else:
        volume_std = float(np.asarray(map_3d, dtype=np.float32)[..., np.newaxis].std())
    labels[walk_box] = random_walker_labels(
        map_3d[walk_box], seeds[offset], beta_scale=volume_std, mode=mode
    )
    return _renumber(labels)


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Map the positive labels onto 1..k, keeping their order."""
    positive = np.unique(labels[labels > 0])
    if positive.size == 0:
        return labels
    lookup = np.zeros(int(positive[-1]) + 1, dtype=np.int32)
    lookup[positive] = np.arange(1, positive.size + 1, dtype=np.int32)
    return lookup[labels]


def _sigmas_in_voxels(fwhm: Any, affine: np.ndarray) -> list[float]:
    """Gaussian sigmas (voxels) per axis for ``fwhm`` mm; empty if no smoothing."""
    if fwhm is None or isinstance(fwhm, str):
        return [1.0] if isinstance(fwhm, str) else []
    widths = np.broadcast_to(
        np.asarray([0.0 if f is None else f for f in np.ravel([fwhm])], dtype=float), (3,)
    )
    voxel_sizes = np.sqrt(np.sum(np.asarray(affine)[:3, :3] ** 2, axis=0))
    return list(widths / (np.sqrt(8 * np.log(2)) * voxel_sizes))


def _keep_large_regions(labels: np.ndarray, min_voxels: float) -> list[int]:
    """Region ids (ascending) with strictly more than ``min_voxels`` voxels."""
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return [int(i) for i in np.flatnonzero(sizes > min_voxels)]


# --------------------------------------------------------------------------
# Image-level functions
# --------------------------------------------------------------------------
def _load_mask_for(mask_img: Any, maps_img: nib.Nifti1Image) -> np.ndarray:
    from ..image import check_niimg, resample_img

    mask_img = check_niimg(mask_img, ensure_ndim=3, name="mask_img")
    if mask_img.shape[:3] != maps_img.shape[:3] or not np.allclose(
        mask_img.affine, maps_img.affine
    ):
        mask_img = resample_img(
            mask_img,
            target_affine=maps_img.affine,
            target_shape=maps_img.shape[:3],
            interpolation="nearest",
        )
    mask = np.asarray(mask_img.dataobj) != 0
    if not mask.any():
        raise ValueError("mask_img is empty: it has no non-zero voxel")
    return mask


def connected_regions(
    maps_img: Any,
    min_region_size: float = 1350,
    extract_type: str = "local_regions",
    smoothing_fwhm: Any = 6,
    mask_img: Any = None,
    *,
    random_walker_mode: str = "cg",
) -> tuple[nib.Nifti1Image, list[int]] | tuple[None, None]:
    """Split each brain map into its separate regions.

    Parameters
    ----------
    maps_img : Niimg-like, 3D or 4D
        Maps (one per volume), e.g. ICA components or a probabilistic atlas.
    min_region_size : float, default=1350
        Regions of at most this volume (mm3) are dropped (1350 mm3 is 50
        voxels of 3 mm).
    extract_type : {"local_regions", "connected_components"}, default="local_regions"
        How a map is split, see :func:`split_map`.
    smoothing_fwhm : float or None, default=6
        Smoothing (mm) used to find the seeds of ``"local_regions"``.
    mask_img : Niimg-like, optional
        Voxels outside it are set to 0 first (resampled, nearest, to the
        maps' grid when needed).
    random_walker_mode : {"cg", "cg_j", "cg_mg"}, default="cg"
        Solver of the random walker (keyword only; not in nilearn). "cg"
        reproduces nilearn's labels; the preconditioned modes are faster on
        large regions and label voxels the plain solver leaves unreached
        with their own component's seed (see :func:`random_walker_labels`).

    Returns
    -------
    regions_img : nibabel.Nifti1Image or None
        4D, one volume per region holding the map's values on the region.
    index : list of int or None
        For each region, the index of the map it comes from. Both are None
        (with an :class:`~regionkit.EmptyRegionWarning`) when no region is
        found.

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> maps = np.zeros((8, 8, 8, 1), dtype="float32")
    >>> maps[1:3, 1:3, 1:3, 0] = 1; maps[5:7, 5:7, 5:7, 0] = 2
    >>> img, index = connected_regions(nib.Nifti1Image(maps, np.eye(4)),
    ...     min_region_size=1, extract_type="connected_components")
    >>> img.shape, index
    ((8, 8, 8, 2), [0, 0])
    """
    from ..image import check_niimg, get_data

    check_parameter(
        "min_region_size", min_region_size, [Interval("real", 0, None)], "connected_regions"
    )
    check_parameter(
        "extract_type", extract_type, [Options(EXTRACT_TYPES)], "connected_regions"
    )
    check_parameter(
        "random_walker_mode", random_walker_mode, [Options(RANDOM_WALKER_MODES)],
        "connected_regions",
    )
    maps_img = check_niimg(maps_img, atleast_4d=True, name="maps_img")
    if len(maps_img.shape) != 4:
        raise ValueError(
            f"maps_img must be a 3D or 4D image, got shape {maps_img.shape}"
        )
    affine = maps_img.affine
    min_voxels = min_region_size / abs(np.linalg.det(affine[:3, :3]))
    mask = None if mask_img is None else _load_mask_for(mask_img, maps_img)
    maps = get_data(maps_img)

    # Per region: its map, box and voxel values inside the box; the 4D
    # output is allocated once and filled box by box.
    pieces: list[tuple[tuple[slice, ...], np.ndarray]] = []
    index: list[int] = []
    dtype = maps.dtype
    for map_index in range(maps.shape[3]):
        map_3d = np.array(maps[..., map_index])
        if mask is not None:
            map_3d[~mask] = 0
        labels = split_map(map_3d, affine, extract_type, smoothing_fwhm, random_walker_mode)
        kept = _keep_large_regions(labels, min_voxels)
        logger.debug("map %d: %d regions kept", map_index, len(kept))
        boxes = ndimage.find_objects(labels)
        for region in kept:
            box = boxes[region - 1]
            pieces.append((box, np.where(labels[box] == region, map_3d[box], 0)))
        index.extend([map_index] * len(kept))

    if not pieces:
        warnings.warn(
            "No supra threshold regions was found: no map has a region larger "
            f"than min_region_size={min_region_size} mm3.",
            EmptyRegionWarning,
            stacklevel=2,
        )
        return None, None
    regions = np.zeros((*maps.shape[:3], len(pieces)), dtype=dtype)
    for position, (box, values) in enumerate(pieces):
        regions[(*box, position)] = values
    header = maps_img.header.copy()
    header.set_data_dtype(regions.dtype)
    return nib.Nifti1Image(regions, affine, header=header), index


def _remove_small_regions(regions: np.ndarray, affine: np.ndarray, min_size: float) -> np.ndarray:
    """Zero labels of at most ``min_size`` mm3 and renumber the rest 1..k."""
    values, inverse = np.unique(regions, return_inverse=True)
    sizes = np.bincount(inverse.ravel())
    kept = sizes > min_size / abs(np.linalg.det(affine[:3, :3]))
    if kept.all():
        return regions
    regions = np.where(kept[inverse.reshape(regions.shape)], regions, 0)
    return np.searchsorted(np.unique(regions), regions).astype(np.int32)


def connected_label_regions(
    labels_img: Any,
    min_size: float | None = None,
    connect_diag: bool = True,
    labels: Any = None,
) -> nib.Nifti1Image | tuple[nib.Nifti1Image, list[str]]:
    """Split every label of an atlas into its connected components.

    Parameters
    ----------
    labels_img : Niimg-like, 3D
        Atlas of non-negative integer labels (0 is background).
    min_size : float, optional
        Components of at most this volume (mm3) are dropped.
    connect_diag : bool, default=True
        26-connectivity (diagonals connect) when True, 6-connectivity when
        False.
    labels : list of str, optional
        One name per non-zero label, in increasing label order.

    Returns
    -------
    new_labels_img : nibabel.Nifti1Image
        int32 labels 1..k, the components of the first label first.
    new_labels : list of str
        Only when ``labels`` is given: the name of each new label (its
        original label's).

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> atlas = np.zeros((6, 6, 6), dtype="int32")
    >>> atlas[0:2, 0:2, 0:2] = 1; atlas[4:6, 4:6, 4:6] = 1; atlas[0, 5, 0] = 2
    >>> img, names = connected_label_regions(nib.Nifti1Image(atlas, np.eye(4)),
    ...     labels=["a", "b"])
    >>> np.unique(np.asarray(img.dataobj)).tolist(), names
    ([0, 1, 2, 3], ['a', 'a', 'b'])
    """
    from ..image import check_niimg, get_data

    labels_img = check_niimg(labels_img, ensure_ndim=3, name="labels_img")
    if min_size is not None and (
        not isinstance(min_size, numbers.Number) or isinstance(min_size, bool)
    ):
        raise ValueError(
            f"min_size must be a number of mm3 or None, got {min_size!r}"
        )
    if not isinstance(connect_diag, (bool, np.bool_)):
        raise ValueError(
            f"connect_diag must be True or False, got {connect_diag!r}"
        )
    data = np.asarray(get_data(labels_img))
    if not np.all(np.isfinite(data)):
        data = np.where(np.isfinite(data), data, 0)
    unique = np.unique(data)
    if np.any(unique < 0):
        raise ValueError(
            "labels_img must hold non-negative integer labels, got negative "
            f"values {unique[unique < 0].tolist()}"
        )
    region_ids = unique[unique != 0]
    names: list | None = None
    if labels is not None:
        if isinstance(labels, str) or not isinstance(labels, Iterable):
            labels = [labels]
        names = list(labels)
        if len(names) != len(region_ids):
            raise ValueError(
                f"labels has {len(names)} names but labels_img has "
                f"{len(region_ids)} non-zero labels; give one name per label"
            )

    structure = np.ones((3, 3, 3), dtype=bool) if connect_diag else None
    affine = labels_img.affine
    new_data = np.zeros(data.shape, dtype=np.int32)
    new_names: list = []
    n_done = 0
    # Visit each label's bounding box only.
    position_map = np.where(data != 0, np.searchsorted(region_ids, data) + 1, 0)
    boxes = ndimage.find_objects(position_map)
    for position, region_id in enumerate(region_ids):
        box = boxes[position]
        in_label = data[box] == region_id
        components, n_components = ndimage.label(in_label, structure=structure)
        if min_size is not None:
            components = _remove_small_regions(components, affine, min_size)
            n_components = int(components.max())
        target = new_data[box]
        target[components != 0] = components[components != 0] + n_done
        n_done += n_components
        if names is not None:
            new_names.extend([names[position]] * n_components)

    header = labels_img.header.copy()
    header.set_data_dtype(np.int32)
    new_img = nib.Nifti1Image(new_data, affine, header=header)
    if names is not None:
        return new_img, new_names
    return new_img
