"""Linear detrending of column time series."""

from __future__ import annotations

import numpy as np

from .._validation import Options, check_parameter
from ._common import _column_blocks, _float_dtype, _warn


def _detrend_inplace(block: np.ndarray, kind: str = "linear") -> None:
    """Remove the mean (and linear trend) of each column of a float block."""
    block -= block.mean(axis=0)
    if kind != "linear" or block.shape[0] < 2:
        return
    regressor = np.arange(block.shape[0], dtype=np.float64)
    regressor -= regressor.mean()
    regressor /= np.sqrt(regressor @ regressor)
    slopes = regressor @ block
    block -= np.multiply.outer(regressor, slopes).astype(block.dtype, copy=False)


def detrend(signals, inplace: bool = False, type: str = "linear") -> np.ndarray:  # noqa: A002
    """Remove the mean and linear trend of every column.

    Parameters
    ----------
    signals : ndarray of shape (n_timepoints, n_features)
        Time series, one per column.
    inplace : bool, default=False
        Write into ``signals`` (must be a float array) instead of a copy.
    type : {"linear", "constant"}, default="linear"
        ``"constant"`` removes only the mean.

    Returns
    -------
    detrended : ndarray of shape (n_timepoints, n_features)
        Same float dtype as ``signals`` (integers become float).

    Notes
    -----
    The linear trend is the projection on the centred, unit-norm ramp
    ``t - mean(t)``; the fit is done in float64 on blocks of columns.
    A single time point is returned unchanged, with a warning.
    """
    check_parameter("type", type, [Options(("linear", "constant"))], owner="detrend")
    signals = np.asarray(signals)
    out_dtype = _float_dtype(signals.dtype)
    if inplace and signals.dtype == out_dtype:
        out = signals
    else:
        out = signals.astype(out_dtype, copy=True)
    if out.shape[0] == 1:
        _warn(
            "Detrending a single time point would give zeros: detrend skipped "
            f"(signals has shape {out.shape})."
        )
        return out
    if out.ndim == 1:
        block = out.astype(np.float64)
        _detrend_inplace(block[:, None], type)
        out[...] = block
        return out
    for cols in _column_blocks(out.shape[0], out.shape[1]):
        block = out[:, cols].astype(np.float64)
        _detrend_inplace(block, type)
        out[:, cols] = block
    return out
