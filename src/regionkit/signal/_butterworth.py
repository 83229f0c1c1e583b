"""Zero-phase Butterworth filtering along time."""

from __future__ import annotations

import numpy as np
from scipy import signal as sp_signal

from .._validation import Interval, Options, check_parameter
from ._common import _EPS32, _check_cutoff, _column_blocks, _float_dtype, _warn


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
