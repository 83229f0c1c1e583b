"""Grid helpers shared by the labels, maps and Nifti maskers.

* :func:`same_grid` -- nilearn's "same field of view" test (shape + affine).
* :func:`resample_to_grid` -- resample a 3D/4D image onto a (shape, affine) grid.
* :func:`extract_on_target_grid` -- the streamed extraction when the *data*
  must be resampled onto the regions' grid (``resampling_target`` "labels",
  "maps" or "mask", or a NiftiMasker whose mask is on another grid): each
  chunk of volumes is decoded, resampled (cubic spline, as nilearn's
  "continuous"), optionally smoothed, then fed to the region operators. Peak
  memory stays one chunk on each grid plus the outputs.
"""

from __future__ import annotations

import logging

import nibabel as nib
import numpy as np

from ..image import resample_img
from ..image.stream import iter_blocks
from ._extract import (
    DEFAULT_CHUNK_SIZE,
    ExtractionPlan,
    _Accumulator,
    _smooth_block,
    _union_box,
)

logger = logging.getLogger(__name__)

__all__ = [
    "same_grid",
    "resample_to_grid",
    "grid_key",
    "plan_for_data_grid",
    "boolean_mask_on_grid",
    "check_one_grid",
    "extract_on_target_grid",
]


def same_grid(shape_a, affine_a, shape_b, affine_b) -> bool:
    """Whether two grids are identical (nilearn's ``check_same_fov``).

    Parameters
    ----------
    shape_a, shape_b : tuple of int
        Only the first three axes are compared.
    affine_a, affine_b : ndarray of shape (4, 4)

    Returns
    -------
    bool
    """
    return tuple(shape_a[:3]) == tuple(shape_b[:3]) and np.allclose(
        np.asarray(affine_a, dtype=np.float64), np.asarray(affine_b, dtype=np.float64)
    )


def grid_key(shape, affine) -> tuple:
    """Hashable key of a grid, used to cache operators per data grid."""
    affine = np.round(np.asarray(affine, dtype=np.float64), 6) + 0.0  # -0.0 -> 0.0
    return (tuple(int(s) for s in shape[:3]), affine.tobytes())


def resample_to_grid(img, shape, affine, interpolation: str) -> nib.Nifti1Image:
    """Resample ``img`` onto the grid (shape, affine) with ``interpolation``."""
    return resample_img(
        img,
        target_affine=np.asarray(affine, dtype=np.float64),
        target_shape=tuple(int(s) for s in shape[:3]),
        interpolation=interpolation,
        force_resample=True,
        copy_header=True,
    )


def data_range(img, chunk_size: int = DEFAULT_CHUNK_SIZE) -> tuple[float, float]:
    """``(min(data, 0), max(data, 0))`` over the finite values of a whole run.

    Resampling clips its output to this range of the *whole* image (nilearn's
    ``clip=True``); chunk-by-chunk resampling needs it beforehand (one extra
    streamed pass, only on the data-resampling path).
    """
    low, high = 0.0, 0.0
    for _, block in iter_blocks(img, chunk_size=chunk_size):
        finite = block[np.isfinite(block)]
        if finite.size:
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    return low, high


def _resample_block(
    block,
    source_shape,
    source_affine,
    target_shape,
    target_affine,
    interpolation="continuous",
    clip_range=None,
):
    """Resample the volumes of a (n, X*Y*Z) block; returns (n, X'*Y'*Z') float32.

    ``clip_range``: clip to this (low, high) instead of the chunk's own range
    (pass the whole image's :func:`data_range` so chunking changes nothing).
    """
    n_volumes = block.shape[0]
    sx, sy, sz = source_shape
    volumes = block.reshape(n_volumes, sz, sy, sx).transpose(3, 2, 1, 0)
    chunk = nib.Nifti1Image(np.asarray(volumes, dtype=np.float32), source_affine)
    resampled = resample_img(
        chunk,
        target_affine=np.asarray(target_affine, dtype=np.float64),
        target_shape=tuple(int(s) for s in target_shape[:3]),
        interpolation=interpolation,
        clip=clip_range is None,
        force_resample=True,
        copy_header=True,
    )
    data = np.asarray(resampled.dataobj, dtype=np.float32).reshape(
        (*target_shape, n_volumes)
    )
    if clip_range is not None:
        data = np.clip(data, np.float32(clip_range[0]), np.float32(clip_range[1]))
    # Fortran flat index of voxel (i, j, k) is the row of data.reshape(-1, n, "F")
    return np.ascontiguousarray(data.reshape(-1, n_volumes, order="F").T)


def extract_on_target_grid(
    img,
    plans: list[ExtractionPlan],
    target_shape,
    target_affine,
    smoothing_fwhm=None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
):
    """Stream ``img``, resample each chunk onto the plans' grid, extract.

    Parameters
    ----------
    img : nibabel.Nifti1Image
        3D or 4D data on any grid.
    plans : list of ExtractionPlan
        All built on (target_shape, target_affine).
    target_shape : tuple of 3 int
    target_affine : ndarray of shape (4, 4)
    smoothing_fwhm : float or None
        Applied after resampling, on the target grid (nilearn's order).
    chunk_size : int
        Volumes decoded at a time.

    Returns
    -------
    list of (list of ndarray, NonFiniteReport)
        As :func:`regionkit.maskers._extract.extract_signals`.
    """
    n_volumes = img.shape[3] if len(img.shape) == 4 else 1
    source_shape = tuple(int(s) for s in img.shape[:3])
    target_shape = tuple(int(s) for s in target_shape[:3])
    logger.debug(
        "resampling data %s -> %s chunk by chunk", source_shape, target_shape
    )
    clip_range = data_range(img, chunk_size)
    accumulators = [_Accumulator(plan, n_volumes) for plan in plans]
    source_nonfinite = np.zeros(int(np.prod(source_shape)), dtype=bool)
    box = _union_box(plans, target_shape) if smoothing_fwhm is not None else None
    for start, block in iter_blocks(img, chunk_size=chunk_size):
        finite = np.isfinite(block)
        if not finite.all():
            source_nonfinite |= ~finite.all(axis=0)
            block = np.where(finite, block, np.float32(0))
        block = _resample_block(
            block, source_shape, img.affine, target_shape, target_affine, clip_range=clip_range
        )
        if smoothing_fwhm is not None:
            block = _smooth_block(block, target_shape, target_affine, smoothing_fwhm, box)
        for accumulator in accumulators:
            accumulator.feed(start, block)
    results = [accumulator.finish(True) for accumulator in accumulators]
    n_source = int(source_nonfinite.sum())
    for _, report in results:
        # non-finite source voxels were zeroed before resampling (as nilearn's
        # ensure_finite); report them on the source grid
        report.n_voxels = max(report.n_voxels, n_source)
        report.replaced = True
    return results


def boolean_mask_on_grid(mask_img, shape, affine) -> np.ndarray:
    """Boolean mask on the grid (shape, affine), resampled (nearest) if needed."""
    if not same_grid(mask_img.shape, mask_img.affine, shape, affine):
        mask_img = resample_to_grid(mask_img, shape, affine, "nearest")
    return np.asarray(mask_img.dataobj).astype(bool)


def check_one_grid(owner: str, regions_name: str, regions_img, mask_img, img) -> None:
    """Raise :func:`grid_mismatch_error` unless the regions image, the mask
    (if any) and the data (if any) share one grid (``resampling_target=None``)."""
    grids = {regions_name: (regions_img.shape, regions_img.affine)}
    if mask_img is not None:
        grids["mask_img"] = (mask_img.shape, mask_img.affine)
    if img is not None:
        grids["imgs"] = (img.shape, img.affine)
    if not all(same_grid(*grids[regions_name], *g) for g in grids.values()):
        raise grid_mismatch_error(owner, grids)


def plan_for_data_grid(masker, shape, affine, regions_name: str, build):
    """The plan of a labels or maps masker on a data grid it was not fitted on.

    With ``resampling_target=None`` this is a :func:`grid_mismatch_error`;
    otherwise ``build(shape, affine)`` makes the plan once per data grid and
    ``masker._plan_cache`` (keyed by :func:`grid_key`) keeps it for later runs.
    """
    plan = masker.extraction_plan_
    if masker.resampling_target is None:
        raise grid_mismatch_error(
            type(masker).__name__,
            {regions_name: (plan.shape, plan.affine), "imgs": (tuple(shape), affine)},
        )
    key = grid_key(shape, affine)
    cached = masker._plan_cache.get(key)
    if cached is not None:
        return cached
    new_plan = build(shape, affine)
    # a documented cache: one entry per data grid, never read by fit
    masker._plan_cache[key] = new_plan
    return new_plan


def grid_mismatch_error(owner: str, what: dict) -> ValueError:
    """ValueError listing the grids of images that should share one."""
    described = "; ".join(
        f"{name}: shape {tuple(int(s) for s in shape[:3])}, affine "
        f"{np.array2string(np.asarray(affine), precision=3, separator=',').replace(chr(10), '')}"
        for name, (shape, affine) in what.items()
    )
    return ValueError(
        f"{owner}: with resampling_target=None the images must share one grid "
        f"(same shape and affine), got {described}. Resample them, or set "
        "resampling_target."
    )
