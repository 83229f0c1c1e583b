"""Thresholding images by value or percentile, with cluster-size filtering."""

from __future__ import annotations

import logging
import numbers
import os
import warnings
from typing import Any

import nibabel as nib
import numpy as np
from scipy import ndimage
from scipy.stats import scoreatpercentile

from .._warnings import NonFiniteDataWarning, RegionkitWarning
from ._niimg import _read, check_niimg, new_img_like

logger = logging.getLogger(__name__)

__all__ = ["threshold_img"]


def _parse_threshold(threshold: Any, two_sided: bool) -> tuple[float, bool]:
    """Return (value, is_percentile), raising before any data is read."""
    if isinstance(threshold, str):
        message = (
            f"threshold given as a string must be a number followed by '%', "
            f"e.g. '25.3%'; got {threshold!r}."
        )
        if not threshold.endswith("%"):
            raise ValueError(message)
        try:
            value = float(threshold[:-1])
        except ValueError as exc:
            raise ValueError(message) from exc
        if value < 0:
            raise ValueError(f"threshold must not be a negative percentile; got {threshold!r}.")
        return value, True
    if not isinstance(threshold, numbers.Real) or isinstance(threshold, bool):
        raise TypeError(
            f"threshold must be a number or a string ending in '%'; got {threshold!r}."
        )
    value = float(threshold)
    if value < 0 and two_sided:
        raise ValueError(
            f"threshold must not be negative when two_sided=True; got {threshold!r}."
        )
    return value, False


def _cutoff(value: float, percentile: bool, data: np.ndarray, two_sided: bool) -> float:
    if value >= 0:
        values = np.abs(data) if two_sided else data[data >= 0]
        if percentile:
            return float(scoreatpercentile(values, value) + 1e-5)
        if values.size and value > values.max():
            warnings.warn(
                f"threshold={value} exceeds the largest value considered ({values.max()}); "
                "the result is empty.",
                RegionkitWarning,
                stacklevel=3,
            )
        return value
    values = data[data <= 0]
    if values.size and value < values.min():
        warnings.warn(
            f"threshold={value} is below the smallest value considered ({values.min()}); "
            "the result is empty.",
            RegionkitWarning,
            stacklevel=3,
        )
    return value


def _remove_small_clusters(volume: np.ndarray, cluster_threshold: float) -> None:
    """Zero, in place, face-connected same-sign clusters smaller than the threshold."""
    structure = ndimage.generate_binary_structure(3, 1)
    for sign in (-1, 1):
        labels, n_labels = ndimage.label(volume * sign > 0, structure)
        if not n_labels:
            continue
        sizes = np.bincount(labels.ravel())
        small = sizes < cluster_threshold
        small[0] = False
        volume[small[labels]] = 0


def _load_mask(mask_img: Any, img: nib.Nifti1Image) -> np.ndarray:
    from ._resample import resample_img

    mask = check_niimg(mask_img, ensure_ndim=3, name="mask_img")
    if mask.shape[:3] != img.shape[:3] or not np.allclose(mask.affine, img.affine):
        mask = resample_img(
            mask, target_affine=img.affine, target_shape=img.shape[:3],
            interpolation="nearest",
        )
    mask_data = np.array(_read(mask), copy=True)
    if mask_data.dtype.kind == "f":
        mask_data[~np.isfinite(mask_data)] = 0
    values = np.unique(mask_data)
    if len(values) == 1 and values[0] == 0:
        raise ValueError("mask_img is empty (all zeros): it masks all data.")
    if len(values) == 2 and 0 not in values:
        raise ValueError(
            f"mask_img background must be 0; it holds the values {values.tolist()}."
        )
    if len(values) > 2:
        raise ValueError(
            f"mask_img must hold two values (0 and one other); it holds {len(values)} "
            f"values, e.g. {values[:5].tolist()}."
        )
    return mask_data != 0


def threshold_img(
    img: Any,
    threshold: float | str,
    cluster_threshold: float = 0,
    two_sided: bool = True,
    mask_img: Any = None,
    copy: bool = True,
    copy_header: bool = True,
) -> nib.Nifti1Image:
    """Zero the voxels of an image below a threshold.

    Parameters
    ----------
    img : 3D or 4D image-like (a path or nibabel image, not a list)
    threshold : float or str
        A value, or a percentile string such as ``"90%"`` computed over the
        (masked) data: of ``|data|`` if ``two_sided``, else of the data >= 0.
        Percentile cutoffs get ``1e-5`` added (as nilearn).
    cluster_threshold : float, default=0
        Remove face-connected clusters (per sign, per volume) with fewer voxels.
    two_sided : bool, default=True
        Keep values with ``|x| >= threshold``; otherwise keep ``x >= threshold``
        (``x <= threshold`` for a negative threshold).
    mask_img : 3D image-like, optional
        Voxels outside it are zeroed and ignored for percentiles; resampled
        (nearest) to ``img`` if needed.
    copy : bool, default=True
        Accepted for nilearn compatibility; the input is never modified.
    copy_header : bool, default=True

    Returns
    -------
    thresholded : nibabel.Nifti1Image
        NaN/inf voxels are 0 (with a :class:`regionkit.NonFiniteDataWarning`).
    """
    if isinstance(img, os.PathLike):
        img = os.fspath(img)
    if not isinstance(img, (str, nib.spatialimages.SpatialImage)):
        raise TypeError(
            f"img must be a 3D/4D NIfTI image or a path to one; got {type(img).__name__}."
        )
    value, percentile = _parse_threshold(threshold, two_sided)
    if not isinstance(cluster_threshold, numbers.Real) or cluster_threshold < 0:
        raise ValueError(f"cluster_threshold must be a number >= 0; got {cluster_threshold!r}.")
    img = check_niimg(img, name="img")
    mask = _load_mask(mask_img, img) if mask_img is not None else None
    data = np.array(_read(img), copy=True)
    if data.dtype.kind == "f":
        non_finite = ~np.isfinite(data)
        n_bad = int(non_finite.sum())
        if n_bad:
            warnings.warn(
                f"threshold_img: {n_bad} voxels hold NaN or inf; set to 0.",
                NonFiniteDataWarning,
                stacklevel=2,
            )
            data[non_finite] = 0
    values_for_cutoff = data
    if mask is not None:
        values_for_cutoff = data[mask]
        data[~mask] = 0
    cutoff = _cutoff(value, percentile, values_for_cutoff, two_sided)
    if two_sided:
        below = (-cutoff < data) & (data < cutoff)
    elif cutoff >= 0:
        below = data < cutoff
    else:
        below = data > cutoff
    data[below] = 0
    if cluster_threshold > 0:
        volumes = data[..., None] if data.ndim == 3 else data
        for t in range(volumes.shape[3]):
            vol = np.ascontiguousarray(volumes[..., t])
            _remove_small_clusters(vol, cluster_threshold)
            volumes[..., t] = vol
    return new_img_like(img, data, img.affine, copy_header=copy_header)
