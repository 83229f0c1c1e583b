"""clean: the whole cleaning pipeline, run by run, on blocks of columns."""

from __future__ import annotations

import logging
import numbers

import numpy as np
from scipy import linalg
from scipy import signal as sp_signal
from scipy.interpolate import CubicSpline

from .._validation import InvalidParameterError
from .._warnings import NonFiniteDataWarning
from ._butterworth import (
    _butterworth_sos,
    _check_butterworth_options,
    _check_filter_length,
)
from ._common import (
    _BUTTERWORTH_KWARGS,
    _EPS64,
    _NonPositiveTrError,
    _check_bool,
    _check_cutoff,
    _column_blocks,
    _float_dtype,
    _warn,
)
from ._detrend import _detrend_inplace
from ._inputs import _sanitize_confounds, _sanitize_runs, _sanitize_sample_mask
from ._standardize import (
    _normalize_standardize,
    _psc_add_mean,
    _standardize_block,
    _warn_psc_zero_mean,
)

logger = logging.getLogger(__name__)


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


def _filtered_span(n_time, kept, filter_type, extrapolate) -> slice:
    """Rows of a run that are filtered (interpolation range without extrapolate)."""
    if kept is not None and filter_type == "butterworth" and not extrapolate:
        return slice(int(kept[0]), int(kept[-1]) + 1)
    return slice(0, n_time)


def _check_run_layout(n_time, kept, filter_type, extrapolate, sos, padtype, padlen, label):
    """Raise, before any work, if a run cannot be interpolated or filtered."""
    if kept is not None and filter_type == "butterworth":
        if kept.size < 2 or np.any(np.diff(kept) <= 0):
            raise ValueError(
                f"sample_mask of run {label} must keep at least 2 volumes in "
                "increasing order to interpolate censored volumes before "
                f"Butterworth filtering; got {kept[:10]}."
            )
    if filter_type == "butterworth":
        span = _filtered_span(n_time, kept, filter_type, extrapolate)
        _check_filter_length(span.stop - span.start, sos, padtype, padlen, f"run {label}")


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
    span = _filtered_span(n_time, kept, filter_type, extrapolate)
    censored = np.zeros(0, dtype=np.intp)
    final_rows = kept
    if interpolate:
        keep_flags = np.zeros(n_time, dtype=bool)
        keep_flags[kept] = True
        censored = np.flatnonzero(~keep_flags[span])
        kept_in_span = kept - span.start
        final_rows = kept_in_span
        times = np.arange(n_time, dtype=np.float64)[span] * t_r

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
       (mean of ``|column means|`` below a tenth of the original), the original
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

    for index, n_run in enumerate(run_lengths):
        _check_run_layout(
            n_run,
            None if kept_per_run is None else kept_per_run[index],
            filter_type,
            extrapolate,
            sos,
            padtype,
            padlen,
            index,
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
