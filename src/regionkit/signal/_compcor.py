"""CompCor-style high-variance confounds from column time series."""

from __future__ import annotations

import numpy as np
from scipy import linalg

from .._validation import Interval, check_parameter
from ._common import _column_blocks, _float_dtype
from ._detrend import _detrend_inplace


def high_variance_confounds(
    series, n_confounds: int = 5, percentile: float = 2.0, detrend: bool = True
) -> np.ndarray:
    """Principal time courses of the highest-variance columns (CompCor).

    Parameters
    ----------
    series : ndarray of shape (n_timepoints, n_features)
        Time series, one per column.
    n_confounds : int, default=5
        Number of confound time series returned.
    percentile : float, default=2.0
        Keep the columns whose mean square is above the ``100 - percentile``
        percentile, ``0 <= percentile <= 100``.
    detrend : bool, default=True
        Remove each column's mean and linear trend first.

    Returns
    -------
    confounds : ndarray of shape (n_timepoints, n_confounds)
        Unit-norm eigenvectors of ``X @ X.T / n_timepoints`` (X the kept
        columns) with the largest eigenvalues, largest first. Float dtype of
        ``series``. Signs are arbitrary, as for any eigenvector.

    Notes
    -----
    Related to aCompCor (Behzadi et al., 2007). Mean squares are taken without
    mean removal (after the optional detrend).
    """
    check_parameter(
        "n_confounds", n_confounds, [Interval("int", 1, None)], owner="high_variance_confounds"
    )
    check_parameter(
        "percentile",
        percentile,
        [Interval("real", 0, 100)],
        owner="high_variance_confounds",
    )
    check_parameter("detrend", detrend, ["boolean"], owner="high_variance_confounds")
    series = np.asarray(series)
    if series.ndim != 2:
        raise ValueError(
            f"series must be 2D (n_timepoints, n_features), got shape {series.shape}."
        )
    out_dtype = _float_dtype(series.dtype)
    n_time, n_features = series.shape
    mean_squares = np.empty(n_features)
    for cols in _column_blocks(n_time, n_features):
        block = series[:, cols].astype(np.float64)
        if detrend and n_time > 1:
            _detrend_inplace(block)
        mean_squares[cols] = np.einsum("ij,ij->j", block, block) / n_time
    threshold = np.nanpercentile(mean_squares, 100.0 - percentile)
    kept = series[:, mean_squares > threshold].astype(np.float64)
    if detrend and n_time > 1:
        _detrend_inplace(kept)
    eigenvalues, eigenvectors = linalg.eigh(kept @ kept.T / n_time)
    order = np.argsort(eigenvalues)[::-1][:n_confounds]
    return eigenvectors[:, order].astype(out_dtype)
