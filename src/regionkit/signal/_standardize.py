"""Standardization of column time series (z-score, percent signal change)."""

from __future__ import annotations

import numpy as np

from .._validation import InvalidParameterError, check_parameter
from ._common import (
    _EPS64,
    StandardizeDeprecationWarning,
    _column_blocks,
    _float_dtype,
    _warn,
)
from ._detrend import detrend as _detrend_function


def _normalize_standardize(standardize, *, warn: bool):
    """Map booleans to their string/None meaning; reject unknown values."""
    if isinstance(standardize, (bool, np.bool_)):
        if warn:
            _warn(
                f"standardize={bool(standardize)!r} is deprecated (as in nilearn "
                "0.13) and will be an error in nilearn 0.15: use "
                "standardize='zscore_sample' instead of True, None instead of False.",
                StandardizeDeprecationWarning,
            )
        return "zscore_sample" if standardize else None
    if standardize is None or (
        isinstance(standardize, str) and standardize in ("zscore_sample", "psc")
    ):
        return standardize
    hint = ""
    if standardize == "zscore":
        hint = (
            " ('zscore', the population standard deviation, was removed in "
            "nilearn 0.14: use 'zscore_sample')"
        )
    raise InvalidParameterError(
        "The 'standardize' parameter must be one of 'zscore_sample', 'psc', "
        f"True, False or None. Got {standardize!r} instead{hint}."
    )


def _standardize_block(block: np.ndarray, standardize: str | None) -> int:
    """Standardize a float64 block in place; return the number of psc zero means."""
    if standardize is None:
        return 0
    if standardize == "zscore_sample":
        block -= block.mean(axis=0)
        std = block.std(axis=0, ddof=1)
        std[std < _EPS64] = 1.0
        block /= std
        return 0
    # psc
    means = block.mean(axis=0)
    scale = np.abs(means)
    invalid = scale < _EPS64
    scale[invalid] = 1.0
    block -= means
    block /= scale
    block *= 100.0
    n_invalid = int(invalid.sum())
    if n_invalid:
        block[:, invalid] = 0.0
    return n_invalid


def _warn_psc_zero_mean(n_invalid: int) -> None:
    _warn(
        "psc standardization is meaningless for features whose mean is 0: "
        f"{n_invalid} such feature(s) were set to 0."
    )


def standardize_signal(
    signals, detrend: bool = False, standardize="zscore_sample"
) -> np.ndarray:
    """Centre and scale every column (a copy; time is the first axis).

    Parameters
    ----------
    signals : ndarray of shape (n_timepoints, n_features)
        Time series, one per column.
    detrend : bool, default=False
        Remove the linear trend (and mean) first.
    standardize : {"zscore_sample", "psc", True, False, None}, default="zscore_sample"
        ``"zscore_sample"`` (or True): mean 0, sample standard deviation
        (``ddof=1``) 1; columns with a standard deviation below float64 eps
        are only centred. ``"psc"``: percent signal change
        ``100 * (x - mean) / |mean|``; columns with a zero mean become 0 (with
        a warning). None (or False): no scaling.

    Returns
    -------
    standardized : ndarray of shape (n_timepoints, n_features)
        A new array of the input's float dtype.

    Notes
    -----
    Mirrors nilearn 0.14.1 ``signal.standardize_signal``; booleans are
    accepted here without a deprecation warning, as nilearn does.
    """
    check_parameter("detrend", detrend, ["boolean"], owner="standardize_signal")
    standardize = _normalize_standardize(standardize, warn=False)
    signals = np.asarray(signals)
    out = _detrend_copy(signals) if detrend else signals.astype(
        _float_dtype(signals.dtype), copy=True
    )
    if standardize is None:
        return out
    if out.shape[0] == 1:
        _warn(
            "Standardizing a single time point would give zeros: standardization "
            f"skipped (signals has shape {out.shape})."
        )
        return out
    view = out[:, None] if out.ndim == 1 else out
    n_invalid = 0
    for cols in _column_blocks(view.shape[0], view.shape[1]):
        block = view[:, cols].astype(np.float64)
        n_invalid += _standardize_block(block, standardize)
        view[:, cols] = block
    if n_invalid:
        _warn_psc_zero_mean(n_invalid)
    return out


def _detrend_copy(signals: np.ndarray) -> np.ndarray:
    return _detrend_function(signals)



def _psc_add_mean(final_means, original_means) -> bool:
    """nilearn's test: was the mean removed (detrend/high-pass) before psc?"""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(final_means).mean() / np.abs(original_means).mean()
    return bool(ratio < 1e-1)
