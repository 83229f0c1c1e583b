"""Hypothesis properties of the regionkit.signal kernels."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from regionkit.signal import butterworth, clean, detrend, standardize_signal

finite = st.floats(-100.0, 100.0, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def signal_arrays(draw, min_time=30, max_time=70, max_features=6):
    """(n_timepoints, n_features) float64 arrays of well-conditioned noise."""
    n_time = draw(st.integers(min_time, max_time))
    n_features = draw(st.integers(1, max_features))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.floats(0.1, 50.0))
    offset = draw(finite)
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_time, n_features)) * scale + offset


@st.composite
def confound_arrays(draw, n_time, max_confounds=4):
    n_confounds = draw(st.integers(1, max_confounds))
    seed = draw(st.integers(0, 2**32 - 1))
    return np.random.default_rng(seed).standard_normal((n_time, n_confounds))


def _quiet_clean(signals, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return clean(signals, **kwargs)


@given(
    signals=signal_arrays(),
    intercepts=hnp.arrays(np.float64, 6, elements=finite),
    slopes=hnp.arrays(np.float64, 6, elements=st.floats(-10, 10)),
)
def test_detrend_removes_any_line(signals, intercepts, slopes):
    n_time, n_features = signals.shape
    t = np.arange(n_time, dtype=np.float64)[:, None]
    lines = intercepts[:n_features] + slopes[:n_features] * t
    np.testing.assert_allclose(detrend(lines), 0.0, atol=1e-9 * (1 + np.abs(lines).max()))
    np.testing.assert_allclose(
        detrend(signals + lines), detrend(signals), atol=1e-8 * (1 + np.abs(lines).max())
    )


@given(signals=signal_arrays())
def test_detrend_output_orthogonal_to_constant_and_ramp(signals):
    out = detrend(signals)
    t = np.arange(signals.shape[0], dtype=np.float64)
    tol = 1e-9 * np.abs(signals).max() * signals.shape[0]
    np.testing.assert_allclose(out.sum(axis=0), 0.0, atol=tol)
    np.testing.assert_allclose(t @ out, 0.0, atol=tol * signals.shape[0])


@given(signals=signal_arrays())
def test_zscore_gives_mean_zero_std_one(signals):
    z = standardize_signal(signals, standardize="zscore_sample")
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(z.std(axis=0, ddof=1), 1.0, rtol=1e-10)
    z32 = standardize_signal(signals.astype(np.float32))
    assert z32.dtype == np.float32
    np.testing.assert_allclose(z32, z, rtol=1e-4, atol=1e-4)


@given(signals=signal_arrays(), data=st.data())
def test_confound_regression_output_orthogonal_to_confounds(signals, data):
    confounds = data.draw(confound_arrays(signals.shape[0]))
    out = _quiet_clean(
        signals, confounds=confounds, detrend=False, standardize=None, filter=False
    )
    centred = confounds - confounds.mean(axis=0)
    tol = 1e-9 * (1 + np.abs(signals).max()) * signals.shape[0]
    np.testing.assert_allclose(centred.T @ out, 0.0, atol=tol)
    # the residual plus the fitted part gives the signal back
    fitted = signals - out
    coefs, *_ = np.linalg.lstsq(centred, fitted, rcond=None)
    np.testing.assert_allclose(centred @ coefs, fitted, atol=tol)


@given(
    signals=signal_arrays(),
    data=st.data(),
    filt=st.sampled_from([{}, {"filter": "cosine", "high_pass": 0.01}]),
)
def test_clean_is_idempotent_for_projections(signals, data, filt):
    """Detrend + confound/cosine projection + z-score is a projection: twice = once."""
    confounds = data.draw(confound_arrays(signals.shape[0]))
    residual = _quiet_clean(signals, confounds=confounds, standardize=None, **filt)
    # a signal (almost) inside the confound span leaves rounding noise, which
    # z-scoring blows up: not a projection any more
    assume(np.all(residual.std(axis=0) > 1e-6 * (1 + np.abs(signals).std(axis=0))))
    once = _quiet_clean(signals, confounds=confounds, **filt)
    twice = _quiet_clean(once, confounds=confounds, **filt)
    np.testing.assert_allclose(twice, once, atol=1e-7)


@given(signals=signal_arrays(min_time=40), perm_seed=st.integers(0, 1000))
def test_clean_is_column_equivariant(signals, perm_seed):
    perm = np.random.default_rng(perm_seed).permutation(signals.shape[1])
    kwargs = {"low_pass": 0.1, "high_pass": 0.01, "standardize": "psc"}
    np.testing.assert_allclose(
        _quiet_clean(signals[:, perm], **kwargs),
        _quiet_clean(signals, **kwargs)[:, perm],
        rtol=1e-10,
        atol=1e-10,
    )


@given(signals=signal_arrays(min_time=40), split=st.integers(20, 30))
def test_runs_equal_separate_cleaning(signals, split):
    assume(signals.shape[0] - split >= 20)
    runs = np.r_[np.zeros(split), np.ones(signals.shape[0] - split)]
    kwargs = {"high_pass": 0.01, "filter": "cosine"}
    together = _quiet_clean(signals, runs=runs, **kwargs)
    apart = np.vstack(
        [_quiet_clean(signals[:split], **kwargs), _quiet_clean(signals[split:], **kwargs)]
    )
    np.testing.assert_allclose(together, apart, rtol=1e-10, atol=1e-10)


@given(
    n_time=st.integers(60, 120),
    amplitude=st.floats(0.5, 20.0),
    slow_cycles=st.integers(1, 3),
)
def test_low_pass_keeps_slow_and_removes_fast_waves(n_time, amplitude, slow_cycles):
    t_r = 2.0  # Nyquist 0.25 Hz
    t = np.arange(n_time) * t_r
    slow = amplitude * np.sin(2 * np.pi * slow_cycles / (n_time * t_r) * t)
    fast = amplitude * np.sin(2 * np.pi * 0.22 * t)
    filtered = butterworth(
        np.column_stack([slow + fast, fast]), sampling_rate=1 / t_r, low_pass=0.08, copy=True
    )
    core = slice(15, n_time - 15)  # away from edge effects
    assert np.abs(filtered[core, 1]).max() < 0.03 * amplitude
    np.testing.assert_allclose(filtered[core, 0], slow[core], atol=0.1 * amplitude)


@given(signals=signal_arrays(min_time=40), data=st.data())
def test_float32_close_to_float64(signals, data):
    confounds = data.draw(confound_arrays(signals.shape[0]))
    kwargs = {"confounds": confounds, "low_pass": 0.1, "high_pass": 0.01}
    ours32 = _quiet_clean(signals.astype(np.float32), **kwargs)
    ours64 = _quiet_clean(signals.astype(np.float32).astype(np.float64), **kwargs)
    assert ours32.dtype == np.float32
    np.testing.assert_allclose(ours32, ours64, rtol=1e-5, atol=1e-5)


@given(signals=signal_arrays(), data=st.data())
def test_censoring_without_filter_equals_cleaning_kept_rows(signals, data):
    n_time = signals.shape[0]
    kept = np.sort(
        data.draw(
            st.lists(st.integers(0, n_time - 1), min_size=3, max_size=n_time, unique=True)
        )
    )
    confounds = data.draw(confound_arrays(n_time))
    masked = _quiet_clean(signals, sample_mask=kept, confounds=confounds)
    direct = _quiet_clean(signals[kept], confounds=confounds[kept])
    np.testing.assert_allclose(masked, direct, rtol=1e-9, atol=1e-9)
