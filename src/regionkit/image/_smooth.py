"""Gaussian smoothing of images with an FWHM given in millimetres."""

from __future__ import annotations

import logging
import numbers
import os
import warnings
from typing import Any

import nibabel as nib
import numpy as np
from scipy.ndimage import gaussian_filter1d

from .._warnings import NonFiniteDataWarning, RegionkitWarning
from ._niimg import _read, check_niimg, new_img_like

logger = logging.getLogger(__name__)

__all__ = ["fwhm_to_sigma", "smooth_array", "smooth_img"]

_FWHM_OVER_SIGMA = np.sqrt(8 * np.log(2))


def _fast_smooth(arr: np.ndarray) -> np.ndarray:
    """Average each voxel with weight 1 and its 6 neighbours with weight 0.2."""
    weight = 0.2
    smoothed = arr.copy()
    weighted = weight * arr
    smoothed[:-1] += weighted[1:]
    smoothed[1:] += weighted[:-1]
    smoothed[:, :-1] += weighted[:, 1:]
    smoothed[:, 1:] += weighted[:, :-1]
    smoothed[:, :, :-1] += weighted[:, :, 1:]
    smoothed[:, :, 1:] += weighted[:, :, :-1]
    smoothed /= 1 + 6 * weight
    return smoothed


def _check_fwhm(fwhm: Any) -> Any:
    if fwhm is None or (isinstance(fwhm, str) and fwhm == "fast"):
        return fwhm
    if isinstance(fwhm, str):
        raise ValueError(f"fwhm must be a number of mm, a sequence of 3, 'fast' or None; got {fwhm!r}.")
    values = np.asarray([fwhm], dtype=object).ravel()
    if values.size not in (1, 3):
        raise ValueError(f"fwhm must be a scalar or hold one value per spatial axis (3); got {fwhm!r}.")
    for value in values:
        if value is not None and (
            not isinstance(value, numbers.Real) or isinstance(value, bool) or not np.isfinite(value) or value < 0
        ):
            raise ValueError(f"fwhm must hold finite values >= 0 mm (or None); got {fwhm!r}.")
    return fwhm


def fwhm_to_sigma(fwhm: Any, affine: np.ndarray) -> np.ndarray:
    """Per-axis Gaussian sigma in voxels for an FWHM in mm.

    Parameters
    ----------
    fwhm : float or sequence of 3 floats (None entries mean 0)
    affine : ndarray of shape (4, 4) or (3, 3)

    Returns
    -------
    sigma : ndarray of shape (3,)
        ``fwhm / (sqrt(8 ln 2) * voxel_size)`` with voxel sizes the column
        norms of the affine's linear part (exact for any rotation of the grid).
    """
    values = np.asarray([fwhm], dtype=object).ravel()
    values = np.asarray([0.0 if v is None else v for v in values], dtype=np.float64)
    voxel_sizes = np.sqrt(np.sum(np.asarray(affine)[:3, :3] ** 2, axis=0))
    return values / (_FWHM_OVER_SIGMA * voxel_sizes)


def smooth_array(
    arr: np.ndarray,
    affine: np.ndarray,
    fwhm: Any = None,
    ensure_finite: bool = True,
    copy: bool = True,
) -> np.ndarray:
    """Smooth the first three axes of an array with a Gaussian kernel.

    Parameters
    ----------
    arr : ndarray of shape (X, Y, Z) or (X, Y, Z, n_volumes)
        Integer arrays are smoothed as float32 (int64 as float64).
    affine : ndarray of shape (4, 4)
        Voxel-to-world affine; only its linear part is used.
    fwhm : float, sequence of 3 floats, "fast", 0 or None
        Full width at half maximum in mm (per axis when a sequence; None
        entries skip an axis). ``"fast"`` averages each voxel with its six
        neighbours (weight 0.2). 0 or None: no smoothing (0 warns).
    ensure_finite : bool, default=True
        Replace NaN and inf by 0 before smoothing (silently, as nilearn).
    copy : bool, default=True
        If False and ``arr`` is float, smooth in place.

    Returns
    -------
    smoothed : ndarray, same shape as ``arr``

    Notes
    -----
    The Gaussian is applied separably along each voxel axis with
    ``sigma = fwhm / (sqrt(8 ln 2) * voxel_size)`` (scipy's
    ``gaussian_filter1d``, mode "reflect", truncated at 4 sigma), with voxel
    sizes the column norms of the affine, so rotated (oblique) grids and
    anisotropic voxels get the right width in mm.
    """
    fwhm = _check_fwhm(fwhm)
    if isinstance(fwhm, numbers.Real) and not isinstance(fwhm, bool) and fwhm == 0:
        warnings.warn(
            "fwhm=0 means no smoothing; treated as fwhm=None.",
            RegionkitWarning,
            stacklevel=2,
        )
        fwhm = None
    if arr.dtype.kind in ("i", "u", "b"):
        arr = arr.astype(np.float64 if arr.dtype in (np.int64, np.uint64) else np.float32)
    elif copy:
        arr = arr.copy()
    if ensure_finite:
        arr[~np.isfinite(arr)] = 0
    if isinstance(fwhm, str):
        return _fast_smooth(arr)
    if fwhm is not None:
        for axis, sigma in enumerate(fwhm_to_sigma(fwhm, affine)):
            if sigma > 0:
                gaussian_filter1d(arr, sigma, output=arr, axis=axis)
    return arr


def smooth_img(imgs: Any, fwhm: Any) -> nib.Nifti1Image | list[nib.Nifti1Image]:
    """Smooth images with a Gaussian kernel of width ``fwhm`` mm.

    Parameters
    ----------
    imgs : image-like or list of image-likes
        3D or 4D images; a list gives a list.
    fwhm : float, sequence of 3 floats, "fast", 0 or None
        See :func:`smooth_array`.

    Returns
    -------
    smoothed : nibabel.Nifti1Image or list of them

    Notes
    -----
    NaN and inf voxels are set to 0 before smoothing, as nilearn does, with a
    :class:`regionkit.NonFiniteDataWarning` saying how many there were.
    """
    fwhm = _check_fwhm(fwhm)
    if isinstance(imgs, os.PathLike):
        imgs = os.fspath(imgs)
    single = isinstance(imgs, (str, nib.spatialimages.SpatialImage)) or not hasattr(imgs, "__iter__")
    items = [imgs] if single else list(imgs)
    results = []
    for i, item in enumerate(items):
        img = check_niimg(item, name="imgs" if single else f"imgs[{i}]")
        data = _read(img)
        if data.dtype.kind in ("f", "c"):
            n_bad = int(np.count_nonzero(~np.isfinite(data)))
            if n_bad:
                warnings.warn(
                    f"smooth_img: {n_bad} voxels hold NaN or inf; set to 0 before smoothing.",
                    NonFiniteDataWarning,
                    stacklevel=2,
                )
        smoothed = smooth_array(data, img.affine, fwhm=fwhm, ensure_finite=True, copy=True)
        results.append(new_img_like(img, smoothed, img.affine))
    return results[0] if single else results
