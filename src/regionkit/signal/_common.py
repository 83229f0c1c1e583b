"""Shared constants, errors, warnings and small checks of regionkit.signal."""

from __future__ import annotations

import warnings

import numpy as np

from .._validation import InvalidParameterError, Interval, check_parameter
from .._warnings import RegionkitWarning, StandardizeDeprecationWarning

_EPS64 = np.finfo(np.float64).eps
_EPS32 = np.finfo(np.float32).eps
# Elements of one float64 working block (8 MiB); scipy filtering holds ~5 such.
_BLOCK_ELEMENTS = 1 << 20
_BUTTERWORTH_KWARGS = ("order", "padtype", "padlen")
_NA_STRINGS = frozenset({"", "n/a", "na", "nan", "none", "null"})


class AllVolumesRemovedError(ValueError):
    """``sample_mask`` removed every volume of a run."""


class _NonPositiveTrError(InvalidParameterError, ZeroDivisionError):
    """``t_r`` is not a positive number (nilearn divides by it)."""


def _float_dtype(dtype: np.dtype) -> np.dtype:
    """Float dtype used for the output: floats kept, others by item size."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return dtype
    if dtype.kind in "biu":
        return np.dtype(np.float64) if dtype.itemsize == 8 else np.dtype(np.float32)
    raise TypeError(
        f"signals must hold real numbers, got an array of dtype {dtype}."
    )


def _column_blocks(n_rows: int, n_columns: int):
    """Yield ``slice`` objects covering the columns in float64-sized blocks."""
    width = max(1, _BLOCK_ELEMENTS // max(n_rows, 1))
    for start in range(0, n_columns, width):
        yield slice(start, min(start + width, n_columns))


def _check_bool(name: str, value) -> None:
    check_parameter(name, value, ["boolean"], owner="clean")


def _check_cutoff(name: str, value) -> None:
    check_parameter(name, value, [None, Interval("real", None, None)], owner="clean")


def _warn(message: str, category=RegionkitWarning) -> None:
    warnings.warn(message, category, stacklevel=3)
