"""Confounds from the highest-variance voxels (CompCor-like)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from scipy import linalg

from .._validation import Interval, check_parameter
from ._niimg import _read, check_niimg

logger = logging.getLogger(__name__)

__all__ = ["high_variance_confounds"]


def _detrend_linear(signals: np.ndarray) -> np.ndarray:
    """Remove mean and linear trend from each column (in place)."""
    signals -= signals.mean(axis=0)
    n = signals.shape[0]
    regressor = np.arange(n, dtype=signals.dtype)
    regressor -= regressor.mean()
    norm = np.sqrt((regressor**2).sum())
    if not norm < np.finfo(np.float64).eps:
        regressor /= norm
    signals -= np.outer(regressor, regressor.dot(signals))
    return signals


def high_variance_confounds(
    imgs: Any,
    n_confounds: int = 5,
    percentile: float = 2.0,
    detrend: bool = True,
    mask_img: Any = None,
) -> np.ndarray:
    """Principal time courses of the highest-variance voxels.

    Parameters
    ----------
    imgs : 4D image-like
    n_confounds : int, default=5
        Number of confounds to return.
    percentile : float, default=2.0
        Keep the voxels whose variance (after detrending) is above the
        ``100 - percentile`` percentile.
    detrend : bool, default=True
        Remove mean and linear trend before computing variances.
    mask_img : 3D image-like, optional
        Only voxels inside it are considered; same grid as ``imgs``.

    Returns
    -------
    confounds : ndarray of shape (n_timepoints, n_confounds)
        Left singular vectors with the largest singular values (unit norm;
        their sign is arbitrary).
    """
    check_parameter("n_confounds", n_confounds, [Interval("int", 1, None)], "high_variance_confounds")
    check_parameter("percentile", percentile, [Interval("real", 0, 100, closed="right")], "high_variance_confounds")
    img = check_niimg(imgs, ensure_ndim=4, name="imgs")
    mask = None
    if mask_img is not None:
        mask_ref = check_niimg(mask_img, ensure_ndim=3, name="mask_img")
        if not np.allclose(mask_ref.affine, img.affine) or mask_ref.shape[:3] != img.shape[:3]:
            raise ValueError(
                f"mask_img must be on the grid of imgs: mask_img has shape {mask_ref.shape} "
                f"and affine\n{mask_ref.affine}\nimgs has shape {img.shape[:3]} and affine\n{img.affine}"
            )
        mask = np.asarray(_read(mask_ref))
        if mask.dtype.kind == "f":
            mask = np.where(np.isfinite(mask), mask, 0)
        values = np.unique(mask)
        if (
            len(values) > 2
            or (len(values) == 2 and 0 not in values)
            or (len(values) == 1 and values[0] == 0)
        ):
            raise ValueError(
                "mask_img must be a binary mask (0 and one other value) with some "
                f"non-zero voxels; it holds {values[:5].tolist()}."
            )
        mask = mask != 0
    data = _read(img)  # every check passed: now read the run
    if mask is not None:
        dtype = data.dtype if data.dtype.kind == "f" else np.float32
        signals = np.asarray(data[mask], dtype=dtype).T.copy()
        signals[~np.isfinite(signals)] = 0
    else:
        if data.dtype.kind == "f":
            dtype = data.dtype
        else:
            dtype = np.float64 if data.dtype.itemsize == 8 else np.float32
        signals = np.reshape(data, (-1, data.shape[-1])).T.astype(dtype, copy=True)
    if detrend and signals.shape[0] > 1:
        signals = _detrend_linear(signals)
    variance = (signals**2).mean(axis=0)
    cutoff = np.nanpercentile(variance, 100.0 - percentile)
    selected = signals[:, variance > cutoff]
    eigenvalues, eigenvectors = linalg.eigh(selected.dot(selected.T) / selected.shape[0])
    order = np.argsort(eigenvalues)[::-1]
    return eigenvectors[:, order[:n_confounds]].copy()
