"""Clean region or voxel time series: detrend, filter, censor, regress, standardize.

Arrays hold time along the first axis: ``signals`` is ``(n_timepoints,
n_features)``. :func:`clean` reproduces ``nilearn.signal.clean`` (0.14.1) and is
built from the public steps :func:`detrend`, :func:`butterworth` and
:func:`standardize_signal`; :func:`high_variance_confounds` is the array-level
CompCor helper.

Work is done on column blocks in float64 and written back in the input's float
dtype, so a ``(300, 200000)`` float32 voxel array costs one float32 output plus
a few megabytes of temporaries, while small region arrays get float64 accuracy.
"""

from __future__ import annotations

import logging
import numbers
import os
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import linalg
from scipy import signal as sp_signal
from scipy.interpolate import CubicSpline

from ._validation import InvalidParameterError, Interval, Options, check_parameter
from ._warnings import NonFiniteDataWarning, RegionkitWarning

__all__ = [
    "AllVolumesRemovedError",
    "butterworth",
    "clean",
    "detrend",
    "high_variance_confounds",
    "standardize_signal",
]

logger = logging.getLogger(__name__)

_EPS64 = np.finfo(np.float64).eps
_EPS32 = np.finfo(np.float32).eps
# Elements of one float64 working block (16 MiB).
_BLOCK_ELEMENTS = 1 << 21
_STANDARDIZE_OPTIONS = ("zscore_sample", "psc", True, False, None)
_BUTTERWORTH_KWARGS = ("order", "padtype", "padlen")
_NA_STRINGS = frozenset({"", "n/a", "na", "nan", "none", "null"})


class AllVolumesRemovedError(ValueError):
    """``sample_mask`` removed every volume of a run."""


class StandardizeDeprecationWarning(RegionkitWarning, FutureWarning):
    """Boolean ``standardize`` values are deprecated (as in nilearn 0.14)."""


class _NonPositiveTrError(InvalidParameterError, ZeroDivisionError):
    """``t_r`` is not a positive number (nilearn divides by it)."""


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# public steps
# --------------------------------------------------------------------------


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
    return detrend(signals)


def _check_wn(kind: str, freq: float, nyquist: float) -> float:
    """Keep a cutoff strictly inside (0, Nyquist), warning when moved."""
    if freq >= nyquist:
        new = nyquist - nyquist * 10 * _EPS32
        _warn(
            f"{kind}={freq} Hz is at or above the Nyquist frequency "
            f"({nyquist} Hz = 0.5 / t_r) and cannot be handled by a digital "
            f"filter: it was lowered to {new} Hz."
        )
        return new
    if freq < 0:
        new = nyquist * _EPS32
        _warn(
            f"{kind}={freq} Hz is negative; a cutoff must be >= 0 Hz: it was "
            f"set to {new} Hz."
        )
        return new
    return freq


def _butterworth_sos(sampling_rate, low_pass, high_pass, order):
    """Second-order sections of the filter, or None when nothing to do."""
    if low_pass is None and high_pass is None:
        return None
    if low_pass is not None and high_pass is not None and high_pass >= low_pass:
        raise ValueError(
            f"high_pass ({high_pass} Hz) must be lower than low_pass "
            f"({low_pass} Hz) for a band-pass filter."
        )
    for name, value in (("low_pass", low_pass), ("high_pass", high_pass)):
        if value is not None and value == 0:
            raise ValueError(
                f"{name}={value}: Butterworth cutoff frequencies must be > 0 Hz "
                "(pass None to switch this side of the filter off)."
            )
    nyquist = 0.5 * sampling_rate
    critical = []
    if high_pass is not None:
        critical.append(_check_wn("high_pass", high_pass, nyquist))
    if low_pass is not None:
        critical.append(_check_wn("low_pass", low_pass, nyquist))
    if len(critical) == 2:
        if critical[0] == critical[1]:
            _warn(
                f"high_pass={high_pass} Hz and low_pass={low_pass} Hz were both "
                f"moved to the same frequency ({critical[0]} Hz, just below "
                f"Nyquist for sampling_rate={sampling_rate} Hz): signals are "
                "returned unfiltered."
            )
            return None
        btype, wn = "band", critical
    else:
        btype, wn = ("high" if high_pass is not None else "low"), critical[0]
    return sp_signal.butter(N=order, Wn=wn, btype=btype, output="sos", fs=sampling_rate)


def _default_padlen(sos: np.ndarray) -> int:
    """scipy.signal.sosfiltfilt's default pad length for these sections."""
    n_zeros = min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    return 3 * (2 * len(sos) + 1 - n_zeros)


def _check_filter_length(n_timepoints: int, sos, padtype, padlen, where: str) -> None:
    if sos is None or padtype is None:
        return
    needed = _default_padlen(sos) if padlen is None else padlen
    if n_timepoints <= needed:
        raise ValueError(
            f"{where} has {n_timepoints} time points, but Butterworth filtering "
            f"with padlen={needed} needs more than {needed}: use a lower "
            "butterworth__order, butterworth__padlen, or no filter."
        )


def _check_butterworth_options(order, padtype, padlen, owner="butterworth"):
    check_parameter("order", order, [Interval("int", 1, None)], owner=owner)
    check_parameter(
        "padtype", padtype, [Options(("odd", "even", "constant")), None], owner=owner
    )
    check_parameter("padlen", padlen, [None, Interval("int", 0, None)], owner=owner)


def butterworth(
    signals,
    sampling_rate,
    low_pass=None,
    high_pass=None,
    order: int = 5,
    padtype: str | None = "odd",
    padlen: int | None = None,
    copy: bool = False,
) -> np.ndarray:
    """Zero-phase low-, high- or band-pass Butterworth filter along time.

    Parameters
    ----------
    signals : ndarray of shape (n_timepoints,) or (n_timepoints, n_features)
        Signals to filter, one per column.
    sampling_rate : float
        Samples per second (Hz), ``1 / t_r``.
    low_pass, high_pass : float or None, default=None
        Cutoffs in Hz; None switches that side off. Cutoffs at or above
        Nyquist are moved just below it, negative ones just above 0 (with a
        warning). ``high_pass`` must be lower than ``low_pass``.
    order : int, default=5
        Filter order.
    padtype : {"odd", "even", "constant", None}, default="odd"
        Edge padding, as :func:`scipy.signal.sosfiltfilt`.
    padlen : int or None, default=None
        Pad length; None uses scipy's default.
    copy : bool, default=False
        If False and ``signals`` is a float array, filter it in place.

    Returns
    -------
    filtered : ndarray
        Same shape and float dtype as ``signals``.

    Notes
    -----
    Second-order sections (:func:`scipy.signal.butter` with ``output="sos"``)
    run forward and backward (:func:`scipy.signal.sosfiltfilt`), in float64,
    over blocks of columns.
    """
    check_parameter(
        "sampling_rate",
        sampling_rate,
        [Interval("real", 0, None, closed="neither")],
        owner="butterworth",
    )
    _check_cutoff("low_pass", low_pass)
    _check_cutoff("high_pass", high_pass)
    _check_butterworth_options(order, padtype, padlen)
    signals = np.asarray(signals)
    out_dtype = _float_dtype(signals.dtype)
    out = signals if (not copy and signals.dtype == out_dtype) else signals.astype(
        out_dtype, copy=True
    )
    sos = _butterworth_sos(sampling_rate, low_pass, high_pass, order)
    if sos is None:
        return out
    _check_filter_length(out.shape[0], sos, padtype, padlen, "signals")
    view = out[:, None] if out.ndim == 1 else out
    for cols in _column_blocks(view.shape[0], view.shape[1]):
        view[:, cols] = sp_signal.sosfiltfilt(
            sos, view[:, cols].astype(np.float64), axis=0, padtype=padtype, padlen=padlen
        )
    return out


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


# --------------------------------------------------------------------------
# clean: input sanitation
# --------------------------------------------------------------------------


def _read_confounds_file(path: str) -> tuple[np.ndarray, list]:
    """Read a TSV/CSV of confounds (optional one-line header)."""
    with open(path) as handle:
        first = ""
        for line in handle:
            if line.strip():
                first = line
                break
    if not first:
        raise ValueError(f"confounds file {path!r} is empty.")
    sep = next((s for s in ("\t", ",", ";") if s in first), r"\s+")
    table = pd.read_csv(
        path,
        sep=sep,
        header=None,
        dtype=str,
        keep_default_na=False,
        engine="python" if sep == r"\s+" else "c",
        skip_blank_lines=True,
    )

    def numeric(text: str) -> bool:
        text = text.strip()
        if text.lower() in _NA_STRINGS:
            return True
        try:
            float(text)
        except ValueError:
            return False
        return True

    header = not all(numeric(v) for v in table.iloc[0])
    if header:
        names = [str(v).strip() for v in table.iloc[0]]
        table = table.iloc[1:]
    else:
        names = list(range(table.shape[1]))
    columns = []
    for position, name in enumerate(names):
        raw = table.iloc[:, position].str.strip()
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        bad = np.isnan(values) & ~raw.str.lower().isin(_NA_STRINGS).to_numpy()
        if bad.any():
            first_bad = raw.to_numpy()[np.flatnonzero(bad)[0]]
            raise ValueError(
                f"confounds file {path!r}: column {name!r} is not numeric "
                f"(value {first_bad!r} in {int(bad.sum())} row(s)); pass numeric "
                "columns only."
            )
        columns.append(values)
    return np.column_stack(columns) if columns else np.empty((len(table), 0)), names


def _confound_to_array(confound, where: str) -> tuple[np.ndarray, list]:
    """One confounds item as a float64 2D array plus column names."""
    if isinstance(confound, os.PathLike):
        confound = os.fspath(confound)
    if isinstance(confound, str):
        return _read_confounds_file(confound)
    if isinstance(confound, pd.Series):
        confound = confound.to_frame()
    if isinstance(confound, pd.DataFrame):
        names = list(confound.columns)
        columns = []
        for name in names:
            column = confound[name]
            if column.dtype.kind in "biuf":
                columns.append(column.to_numpy(dtype=np.float64))
                continue
            values = pd.to_numeric(column, errors="coerce")
            bad = values.isna() & column.notna()
            if bad.any():
                raise ValueError(
                    f"{where}: column {name!r} is not numeric (dtype "
                    f"{column.dtype}, e.g. value {column[bad].iloc[0]!r}); pass "
                    "numeric columns only."
                )
            columns.append(values.to_numpy(dtype=np.float64))
        array = np.column_stack(columns) if columns else np.empty((len(confound), 0))
        return array, names
    if isinstance(confound, np.ndarray):
        if confound.ndim == 1:
            confound = confound[:, None]
        elif confound.ndim != 2:
            raise ValueError(
                f"{where} must be 1D or 2D (n_timepoints, n_confounds), got an "
                f"array of shape {confound.shape}."
            )
        if confound.dtype.kind not in "biuf":
            try:
                confound = confound.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"{where} holds non-numeric values (dtype {confound.dtype}): "
                    f"{exc}."
                ) from None
        return confound.astype(np.float64), list(range(confound.shape[1]))
    raise TypeError(
        f"{where} must be an ndarray, a pandas DataFrame, a path to a TSV/CSV "
        f"file, or a list of those; got {type(confound).__name__}."
    )


def _sanitize_confounds(confounds, n_time: int, run_rows: list | None):
    """Confounds as one float64 array per run (list), or None.

    A list whose items all have ``n_time`` rows is stacked column-wise (all
    confounds apply to all runs). With ``runs``, a list of one item per run,
    each with its run's number of rows, gives per-run confounds.
    """
    if confounds is None:
        return None
    if isinstance(confounds, (list, tuple)):
        items = list(confounds)
        if not items:
            raise ValueError("confounds is an empty list; pass None for no confounds.")
    else:
        items = [confounds]
    arrays = []
    for index, item in enumerate(items):
        where = "confounds" if len(items) == 1 else f"confounds[{index}]"
        array, names = _confound_to_array(item, where)
        arrays.append((where, array, names))
    run_lengths = [len(rows) for rows in run_rows] if run_rows is not None else None
    per_run = (
        run_lengths is not None
        and len(run_lengths) > 1
        and len(arrays) == len(run_lengths)
        and all(a.shape[0] == n for (_, a, _), n in zip(arrays, run_lengths))
        and not all(a.shape[0] == n_time for _, a, _ in arrays)
    )
    if not per_run:
        for where, array, _ in arrays:
            if array.shape[0] != n_time:
                extra = ""
                if run_lengths is not None and len(run_lengths) > 1:
                    extra = (
                        f" (or, as a list of one confounds item per run, "
                        f"{run_lengths} rows)"
                    )
                raise ValueError(
                    f"{where} has {array.shape[0]} rows but signals has {n_time} "
                    f"time points (rows){extra}: they must match."
                )
    for where, array, names in arrays:
        finite = np.isfinite(array)
        if not finite.all():
            bad_cols = np.flatnonzero(~finite.all(axis=0))
            label = [names[i] for i in bad_cols[:5]]
            raise ValueError(
                f"{where} holds {int((~finite).sum())} NaN/inf value(s) in "
                f"column(s) {label}; confounds must be finite (fill or drop "
                "them, e.g. the first row of fMRIPrep derivative columns)."
            )
    if per_run:
        return [array for _, array, _ in arrays]
    stacked = np.hstack([array for _, array, _ in arrays])
    if run_rows is None:
        return [stacked]
    return [stacked[rows] for rows in run_rows]


def _sanitize_runs(runs, n_time: int):
    """Row indices of each run, in sorted label order (None: one run)."""
    if runs is None:
        return None
    runs = np.asarray(runs)
    if runs.ndim != 1 or runs.shape[0] != n_time:
        raise ValueError(
            f"runs must be a 1D array with one label per time point ({n_time}), "
            f"got shape {runs.shape}."
        )
    return [np.flatnonzero(runs == label) for label in np.unique(runs)]


def _one_sample_mask(mask, n_rows: int, where: str) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 1:
        raise InvalidParameterError(
            f"{where} must be 1D (indices or booleans), got shape {mask.shape}."
        )
    if mask.dtype.kind == "b":
        if mask.shape[0] != n_rows:
            raise IndexError(
                f"{where} is a boolean mask of length {mask.shape[0]}, but the run "
                f"has {n_rows} time points: the lengths must match."
            )
        return np.flatnonzero(mask)
    if mask.size == 0:
        return np.zeros(0, dtype=np.intp)
    if mask.dtype.kind == "f":
        if not np.all(np.isfinite(mask)) or not np.all(mask == np.round(mask)):
            raise InvalidParameterError(
                f"{where} must hold integer indices or booleans, got non-integer "
                f"values such as {mask[mask != np.round(mask)][:3]}."
            )
    elif mask.dtype.kind not in "iu":
        raise InvalidParameterError(
            f"{where} must hold integer indices or booleans, got dtype {mask.dtype}."
        )
    mask = mask.astype(np.int64)
    if mask.min() < 0:
        raise InvalidParameterError(
            f"{where} holds negative indices {mask[mask < 0][:5]}; indices must be "
            f"in [0, {n_rows - 1}]."
        )
    if mask.shape[0] > n_rows:
        raise IndexError(
            f"{where} holds {mask.shape[0]} indices, more than the {n_rows} time "
            "points of the run."
        )
    if mask.max() >= n_rows:
        raise IndexError(
            f"{where} holds indices {mask[mask >= n_rows][:5]} out of range: the run "
            f"has {n_rows} time points (valid indices 0..{n_rows - 1})."
        )
    return mask.astype(np.intp)


def _sanitize_sample_mask(sample_mask, run_lengths: list[int], has_runs: bool):
    """One index array per run (volumes kept), or None."""
    if sample_mask is None:
        return None
    if isinstance(sample_mask, (list, tuple)) and not (
        len(sample_mask) > 0
        and all(isinstance(v, (numbers.Integral, np.bool_)) for v in sample_mask)
        and not has_runs
    ):
        masks = list(sample_mask)
    elif isinstance(sample_mask, (np.ndarray, list, tuple)):
        masks = [sample_mask]
    else:
        raise InvalidParameterError(
            "sample_mask must be an array of indices or booleans, or a list of "
            f"them (one per run); got {type(sample_mask).__name__}."
        )
    if len(masks) != len(run_lengths):
        raise ValueError(
            f"sample_mask holds {len(masks)} mask(s) but there are "
            f"{len(run_lengths)} run(s): pass one mask per run."
        )
    checked = []
    for index, (mask, n_rows) in enumerate(zip(masks, run_lengths)):
        where = "sample_mask" if len(masks) == 1 else f"sample_mask[{index}]"
        kept = _one_sample_mask(mask, n_rows, where)
        if kept.size == 0:
            raise AllVolumesRemovedError(
                f"{where} keeps no volume: every volume of the run was removed."
            )
        checked.append(kept)
    return checked


# --------------------------------------------------------------------------
# clean: per-run processing
# --------------------------------------------------------------------------


def _cosine_drift(n_time: int, high_pass: float, t_r: float) -> np.ndarray:
    """DCT-II drift regressors up to ``high_pass`` (constant term excluded)."""
    if high_pass * t_r >= 0.5:
        _warn(
            f"high_pass={high_pass} Hz with t_r={t_r} s spans all accessible "
            "frequencies and saturates the design matrix: lower high_pass."
        )
    order = int(min(n_time - 1, int(np.floor(2 * n_time * high_pass * t_r))))
    times = np.arange(n_time) + 0.5
    ks = np.arange(1, order + 1)
    return np.sqrt(2.0 / n_time) * np.cos(np.pi / n_time * np.outer(times, ks))


def _add_cosine_drift(confounds, n_time: int, high_pass: float, t_r: float):
    drift = _cosine_drift(n_time, high_pass, t_r)
    if drift.shape[1] == 0:
        _warn(
            f"No cosine drift regressor was created (n_timepoints={n_time}, "
            f"high_pass={high_pass} Hz, t_r={t_r} s): the run is too short or "
            "high_pass too low."
        )
        return confounds
    if confounds is None:
        return drift
    centred = confounds - confounds.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = (drift.T @ centred) / (np.sqrt((drift**2).sum(axis=0))[:, None] * norms)
    if np.any(np.nan_to_num(corr) > 0.9):
        _warn(
            "Cosine drift regressors already present in confounds (correlation "
            "> 0.9): only the supplied confounds are used."
        )
        return confounds
    return np.hstack((confounds, drift))


def _interpolate(block: np.ndarray, kept: np.ndarray, censored: np.ndarray, times):
    """Fill censored rows of a float64 block by a cubic spline over kept rows."""
    if censored.size:
        spline = CubicSpline(times[kept], block[kept], axis=0, extrapolate=True)
        block[censored] = spline(times[censored])
    return block


def _clean_run(
    signals,
    rows,
    out,
    out_rows,
    confounds,
    kept,
    *,
    detrend,
    standardize,
    standardize_confounds,
    filter_type,
    sos,
    padtype,
    padlen,
    high_pass,
    t_r,
    extrapolate,
    ensure_finite,
    run_label,
):
    """Clean one run of ``signals`` (rows ``rows``) into ``out[out_rows]``."""
    n_time = signals.shape[0] if rows is None else rows.shape[0]
    n_features = signals.shape[1]

    if filter_type == "cosine":
        confounds = _add_cosine_drift(confounds, n_time, high_pass, t_r)

    # Which rows survive, before and after filtering.
    interpolate = kept is not None and filter_type == "butterworth"
    span = slice(0, n_time)
    censored = np.zeros(0, dtype=np.intp)
    final_rows = kept
    if interpolate:
        if kept.size < 2 or np.any(np.diff(kept) <= 0):
            raise ValueError(
                f"sample_mask of run {run_label} must keep at least 2 volumes in "
                "increasing order to interpolate censored volumes before "
                f"Butterworth filtering; got {kept[:10]}."
            )
        if not extrapolate:
            span = slice(int(kept[0]), int(kept[-1]) + 1)
        keep_flags = np.zeros(n_time, dtype=bool)
        keep_flags[kept] = True
        censored = np.flatnonzero(~keep_flags[span])
        kept_in_span = kept - span.start
        final_rows = kept_in_span
        times = np.arange(n_time, dtype=np.float64)[span] * t_r
        _check_filter_length(
            span.stop - span.start, sos, padtype, padlen, f"run {run_label}"
        )
    elif filter_type == "butterworth":
        _check_filter_length(n_time, sos, padtype, padlen, f"run {run_label}")

    n_filtered = (span.stop - span.start) if (interpolate or kept is None) else kept.size
    if detrend and n_filtered == 1:
        _warn(
            f"Detrending a single time point (run {run_label}) would give zeros: "
            "detrend skipped."
        )

    # ---- confounds: same path as the signals, then an orthonormal basis
    basis = None
    if confounds is not None:
        conf = confounds[span].copy()
        if interpolate:
            _interpolate(conf, kept_in_span, censored, times)
        elif kept is not None:
            conf = conf[kept]
        if detrend and conf.shape[0] > 1:
            _detrend_inplace(conf)
        if sos is not None:
            conf = sp_signal.sosfiltfilt(sos, conf, axis=0, padtype=padtype, padlen=padlen)
        if interpolate:
            conf = conf[final_rows]
        if standardize_confounds:
            if conf.shape[0] > 1:
                _standardize_block(conf, "zscore_sample")
        else:
            peak = np.abs(conf).max(axis=0)
            peak[peak == 0] = 1.0
            conf /= peak
        q, r, _ = linalg.qr(conf, mode="economic", pivoting=True)
        basis = q[:, np.abs(np.diag(r)) > _EPS64 * 100.0]

    n_out = out_rows.stop - out_rows.start
    blocks = list(_column_blocks(max(n_time, 1), n_features))
    psc_two_pass = standardize == "psc" and len(blocks) > 1
    if standardize == "psc":
        original_means = np.empty(n_features)
        final_means = np.empty(n_features)
    n_nonfinite = 0
    n_psc_zero = 0
    single = n_out == 1 and standardize is not None

    for cols in blocks:
        if rows is None:
            block = signals[:, cols].astype(np.float64)
        else:
            block = signals[rows, cols].astype(np.float64)
        finite = np.isfinite(block)
        if not finite.all():
            n_nonfinite += int((~finite.all(axis=0)).sum())
            if ensure_finite:
                block[~finite] = 0.0
        del finite
        if span.start != 0 or span.stop != n_time:
            block = block[span]
        if interpolate:
            _interpolate(block, kept_in_span, censored, times)
        elif kept is not None:
            block = block[kept]
        if standardize == "psc":
            original_means[cols] = block.mean(axis=0)
        if detrend:
            if block.shape[0] > 1:
                _detrend_inplace(block)
        if sos is not None:
            block = sp_signal.sosfiltfilt(
                sos, block, axis=0, padtype=padtype, padlen=padlen
            )
        if interpolate:
            block = block[final_rows]
        if basis is not None:
            block -= basis @ (basis.T @ block)
        if standardize == "psc":
            final_means[cols] = block.mean(axis=0)
        if not psc_two_pass and standardize is not None and not single:
            if standardize == "psc":
                if _psc_add_mean(final_means[cols], original_means[cols]):
                    block += original_means[cols]
            n_psc_zero += _standardize_block(block, standardize)
        out[out_rows, cols] = block

    if psc_two_pass and not single:
        add_mean = _psc_add_mean(final_means, original_means)
        for cols in blocks:
            block = out[out_rows, cols].astype(np.float64)
            if add_mean:
                block += original_means[cols]
            n_psc_zero += _standardize_block(block, "psc")
            out[out_rows, cols] = block
    if single:
        _warn(
            f"Standardizing a single time point (run {run_label}) would give "
            "zeros: standardization skipped."
        )
    if n_psc_zero:
        _warn_psc_zero_mean(n_psc_zero)
    return n_nonfinite


def _psc_add_mean(final_means, original_means) -> bool:
    """nilearn's test: was the mean removed (detrend/high-pass) before psc?"""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(final_means).mean() / np.abs(original_means).mean()
    return bool(ratio < 1e-1)


# --------------------------------------------------------------------------
# clean
# --------------------------------------------------------------------------


def _check_filter(filter, low_pass, high_pass, t_r):  # noqa: A002
    """Return the filter actually applied: 'butterworth', 'cosine' or False."""
    if not (filter is False or (isinstance(filter, str) and filter in ("butterworth", "cosine"))):
        raise InvalidParameterError(
            "The 'filter' parameter of clean must be one of 'butterworth', "
            f"'cosine' or False. Got {filter!r} instead."
        )
    if filter is False:
        if low_pass is not None or high_pass is not None:
            _warn(
                f"filter=False but low_pass={low_pass}, high_pass={high_pass} were "
                "given: no filtering is done."
            )
        return False
    if filter == "cosine":
        if t_r is None or high_pass is None:
            raise ValueError(
                "filter='cosine' needs both t_r and high_pass; got "
                f"t_r={t_r!r}, high_pass={high_pass!r}."
            )
        if low_pass is not None:
            _warn(f"low_pass={low_pass} is ignored: filter='cosine' is high-pass only.")
        return "cosine"
    if low_pass is None and high_pass is None:
        return False
    if t_r is None:
        raise ValueError(
            "Butterworth filtering (low_pass/high_pass given) needs the "
            "repetition time: t_r=None; pass t_r in seconds."
        )
    return "butterworth"


def clean(
    signals,
    runs=None,
    detrend: bool = True,
    standardize="zscore_sample",
    sample_mask=None,
    confounds=None,
    standardize_confounds: bool = True,
    filter="butterworth",  # noqa: A002
    low_pass: float | None = None,
    high_pass: float | None = None,
    t_r: float | None = 2.5,
    ensure_finite: bool = False,
    extrapolate: bool = False,
    **kwargs,
) -> np.ndarray:
    """Detrend, filter, censor, remove confounds from and standardize signals.

    Parameters
    ----------
    signals : ndarray of shape (n_timepoints, n_features)
        Time series, one per column. Not modified.
    runs : ndarray of shape (n_timepoints,), default=None
        Run label of each time point. Each run is cleaned on its own; the
        output stacks runs in sorted label order.
    detrend : bool, default=True
        Remove the mean and linear trend of signals and confounds.
    standardize : {"zscore_sample", "psc", True, False, None}, default="zscore_sample"
        Final scaling, see :func:`standardize_signal`. True and False are
        deprecated aliases of ``"zscore_sample"`` and None (FutureWarning).
    sample_mask : ndarray, list of ndarray or None, default=None
        Volumes kept, as indices or a boolean mask (True = keep); with
        ``runs``, a list of one mask per run (sorted label order, indices
        within the run).
    confounds : ndarray, DataFrame, str, Path or list of them, default=None
        Regressors of shape (n_timepoints, n_confounds) or (n_timepoints,).
        A path is a TSV/CSV file with an optional header line. A list of
        items with ``n_timepoints`` rows is stacked column-wise; with
        ``runs``, a list of one item per run (sorted label order) with that
        run's rows gives per-run confounds, which may differ in columns.
    standardize_confounds : bool, default=True
        z-score confounds before the regression; otherwise only divide each by
        its largest absolute value.
    filter : {"butterworth", "cosine", False}, default="butterworth"
        Temporal filter. "cosine" adds DCT drift regressors up to
        ``high_pass`` to the confounds (``low_pass`` is not supported).
    low_pass, high_pass : float or None, default=None
        Cutoff frequencies in Hz.
    t_r : float or None, default=2.5
        Repetition time in seconds, > 0.
    ensure_finite : bool, default=False
        Replace NaN and inf by 0 before cleaning. Either way a
        :class:`~regionkit.NonFiniteDataWarning` says how many features held
        non-finite values (left as is, they make those columns NaN).
    extrapolate : bool, default=False
        With Butterworth filtering and a ``sample_mask``, also extrapolate
        censored volumes before the first and after the last kept volume;
        otherwise they are dropped before filtering.
    **kwargs
        ``butterworth__order``, ``butterworth__padtype`` and
        ``butterworth__padlen`` are passed to :func:`butterworth`; other
        keywords are ignored (as nilearn does).

    Returns
    -------
    cleaned : ndarray of shape (n_kept_timepoints, n_features)
        New array, float dtype of ``signals`` (float32 stays float32).

    Raises
    ------
    ValueError
        Confounds with the wrong number of rows or non-numeric/non-finite
        values, ``high_pass >= low_pass``, unknown ``standardize`` or
        ``filter``, a non-positive ``t_r``, ``runs`` of the wrong length, too
        few time points for the Butterworth padding.
    IndexError
        ``sample_mask`` out of range or of the wrong length.
    TypeError
        Unsupported confounds type, unknown ``butterworth__`` keyword.

    Notes
    -----
    Each run is processed independently, in this order:

    1. ``filter="cosine"``: DCT drift regressors (from the full run length)
       are appended to the confounds, unless the confounds already hold one
       (correlation > 0.9).
    2. ``sample_mask`` with Butterworth filtering: censored volumes of signals
       and confounds are replaced by a cubic spline through the kept volumes
       (not-a-knot, over time ``t * t_r``); censored volumes before the first
       or after the last kept one are extrapolated if ``extrapolate`` else
       dropped. Without Butterworth filtering, censored volumes are removed
       here.
    3. Detrend (mean and linear trend) signals and confounds.
    4. Butterworth filter signals and confounds (zero-phase, order 5 by
       default), then remove the censored volumes.
    5. Confounds are z-scored (or scaled by their maximum), an orthonormal
       basis Q of their span is taken from a column-pivoted QR (columns with
       ``|R_ii| <= 100 eps`` dropped) and ``signals -= Q Q^T signals``.
    6. Standardize. For ``"psc"``, if the mean was removed by the steps above
       (mean of |column means| below a tenth of the original), the original
       means are added back first.

    Filtering confounds like the signals keeps regression and filter
    orthogonal (Lindquist et al., 2018). Arithmetic is float64 on blocks of
    columns; the result is written in the input's float dtype.

    Differences from nilearn 0.14.1, where nilearn is in error: censored
    volumes are interpolated by a boolean complement of the kept set (nilearn
    applies ``~`` to integer indices, so a censored volume whose mirror
    ``n - 1 - t`` is also censored stays unfiltered, and censoring both ends
    without ``extrapolate`` misaligns the output); with ``runs``,
    ``standardize_confounds``, ``extrapolate`` and ``butterworth__`` options
    are honoured (nilearn drops them) and per-run sample masks follow sorted
    run labels (nilearn requires labels 0..n_runs-1).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> signals = rng.standard_normal((100, 3)) + np.linspace(0, 5, 100)[:, None]
    >>> cleaned = clean(signals, low_pass=0.1, t_r=2.0)
    >>> cleaned.shape
    (100, 3)
    >>> bool(np.allclose(cleaned.std(axis=0, ddof=1), 1.0))
    True
    """
    # ---- parameters (cheap, before touching data)
    _check_bool("detrend", detrend)
    _check_bool("standardize_confounds", standardize_confounds)
    _check_bool("ensure_finite", ensure_finite)
    _check_bool("extrapolate", extrapolate)
    _check_cutoff("low_pass", low_pass)
    _check_cutoff("high_pass", high_pass)
    if t_r is not None:
        if isinstance(t_r, (bool, np.bool_)) or not isinstance(t_r, numbers.Real):
            raise InvalidParameterError(
                f"The 't_r' parameter of clean must be a float in seconds, > 0, or "
                f"None. Got {t_r!r} instead."
            )
        if not (np.isfinite(t_r) and t_r > 0):
            raise _NonPositiveTrError(
                f"The 't_r' parameter of clean must be a repetition time in seconds, "
                f"> 0. Got {t_r!r} instead."
            )
    standardize = _normalize_standardize(standardize, warn=True)
    filter_type = _check_filter(filter, low_pass, high_pass, t_r)
    bw = {}
    for key, value in kwargs.items():
        if key.startswith("butterworth__"):
            name = key[len("butterworth__"):]
            if name not in _BUTTERWORTH_KWARGS:
                raise TypeError(
                    f"clean got an unexpected keyword {key!r}: butterworth accepts "
                    f"{['butterworth__' + k for k in _BUTTERWORTH_KWARGS]}."
                )
            bw[name] = value
        else:
            logger.debug("clean ignores keyword %r", key)
    order = bw.get("order", 5)
    padtype = bw.get("padtype", "odd")
    padlen = bw.get("padlen")
    _check_butterworth_options(order, padtype, padlen, owner="clean")

    signals = np.asarray(signals)
    if signals.ndim != 2:
        raise ValueError(
            "signals must be a 2D array (n_timepoints, n_features), got shape "
            f"{signals.shape}."
        )
    out_dtype = _float_dtype(signals.dtype)
    n_time, n_features = signals.shape
    run_rows = _sanitize_runs(runs, n_time)
    run_lengths = [n_time] if run_rows is None else [len(r) for r in run_rows]
    confounds_per_run = _sanitize_confounds(confounds, n_time, run_rows)
    if confounds_per_run is not None and not detrend and not standardize_confounds:
        _warn(
            "confounds given with detrend=False and standardize_confounds=False: "
            "confounds are neither demeaned nor standardized, so the signals will "
            "not be correctly cleaned unless the confounds were demeaned already."
        )
    kept_per_run = _sanitize_sample_mask(sample_mask, run_lengths, run_rows is not None)
    sos = None
    if filter_type == "butterworth":
        sos = _butterworth_sos(1.0 / t_r, low_pass, high_pass, order)
        if sos is None:
            filter_type = False

    if kept_per_run is not None and filter_type == "butterworth" and not ensure_finite:
        for cols in _column_blocks(n_time, n_features):
            bad = ~np.isfinite(signals[:, cols]).all(axis=0)
            if bad.any():
                raise ValueError(
                    "signals hold NaN/inf values, which cannot be interpolated over "
                    "censored volumes (sample_mask with Butterworth filtering): "
                    "pass ensure_finite=True to replace them by 0."
                )

    # ---- output
    n_out = [len(k) for k in kept_per_run] if kept_per_run is not None else run_lengths
    out = np.empty((sum(n_out), n_features), dtype=out_dtype)
    n_nonfinite = 0
    start = 0
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for index in range(len(run_lengths)):
            out_rows = slice(start, start + n_out[index])
            start += n_out[index]
            n_nonfinite += _clean_run(
                signals,
                None if run_rows is None else run_rows[index],
                out,
                out_rows,
                None if confounds_per_run is None else confounds_per_run[index],
                None if kept_per_run is None else kept_per_run[index],
                detrend=detrend,
                standardize=standardize,
                standardize_confounds=standardize_confounds,
                filter_type=filter_type,
                sos=sos,
                padtype=padtype,
                padlen=padlen,
                high_pass=high_pass,
                t_r=t_r,
                extrapolate=extrapolate,
                ensure_finite=ensure_finite,
                run_label=index,
            )
    if n_nonfinite:
        action = (
            "replaced by 0 (ensure_finite=True)"
            if ensure_finite
            else "left as is, so those output columns hold NaN (pass ensure_finite=True to replace them by 0)"
        )
        _warn(
            f"{n_nonfinite} of {n_features} feature(s) held NaN/inf values, "
            f"{action}.",
            NonFiniteDataWarning,
        )
    return out
