"""Unit tests of regionkit.signal: bad input, warnings, dtypes, memory-safe blocks."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import signal as sp_signal
from scipy.interpolate import CubicSpline

import regionkit.signal as rsignal
import regionkit.signal._clean
import regionkit.signal._common
from regionkit import NonFiniteDataWarning, RegionkitWarning
from regionkit.signal import (
    AllVolumesRemovedError,
    butterworth,
    clean,
    detrend,
    high_variance_confounds,
    standardize_signal,
)


@pytest.fixture
def signals(rng):
    """(60, 5) float64 signals with a trend and an offset."""
    trend = np.linspace(0.0, 3.0, 60)[:, None]
    return rng.standard_normal((60, 5)) + trend + 5.0


@pytest.fixture
def confounds(rng):
    return rng.standard_normal((60, 3))


@pytest.fixture
def no_heavy_work(monkeypatch):
    """Fail if clean reaches the per-run processing."""

    def boom(*args, **kwargs):
        raise AssertionError("validation must happen before any processing")

    monkeypatch.setattr(rsignal._clean, "_clean_run", boom)


# ---------------------------------------------------------------- bad input


def test_confounds_wrong_rows_names_both_numbers(signals, no_heavy_work):
    with pytest.raises(ValueError, match=r"confounds has 40 rows.*60 time points"):
        clean(signals, confounds=np.ones((40, 2)))


def test_confounds_in_list_wrong_rows(signals, confounds, no_heavy_work):
    with pytest.raises(ValueError, match=r"confounds\[1\] has 59 rows.*60"):
        clean(signals, confounds=[confounds, np.ones(59)])


def test_confounds_non_numeric_dataframe_column(signals, confounds, no_heavy_work):
    frame = pd.DataFrame(confounds, columns=["a", "b", "c"])
    frame["motion_label"] = ["low"] * 60
    with pytest.raises(ValueError, match=r"'motion_label' is not numeric.*'low'"):
        clean(signals, confounds=frame)


def test_confounds_non_numeric_tsv_column(signals, confounds, tmp_path, no_heavy_work):
    frame = pd.DataFrame(confounds, columns=["a", "b", "c"])
    frame["site"] = "x"
    path = tmp_path / "confounds.tsv"
    frame.to_csv(path, sep="\t", index=False)
    with pytest.raises(ValueError, match=r"column 'site' is not numeric"):
        clean(signals, confounds=path)


def test_confounds_nan_rejected_with_column(signals, confounds, no_heavy_work):
    frame = pd.DataFrame(confounds, columns=["a", "b", "framewise_displacement"])
    frame.iloc[0, 2] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN/inf.*'framewise_displacement'"):
        clean(signals, confounds=frame)


def test_confounds_3d_and_bad_type(signals, no_heavy_work):
    with pytest.raises(ValueError, match=r"shape \(60, 2, 1\)"):
        clean(signals, confounds=np.ones((60, 2, 1)))
    with pytest.raises(TypeError, match="got dict"):
        clean(signals, confounds={"a": 1})


@pytest.mark.parametrize("t_r", [0, 0.0, -2.0, float("nan")])
def test_non_positive_t_r(signals, t_r, no_heavy_work):
    with pytest.raises(ValueError, match=r"'t_r'.*> 0\. Got"):
        clean(signals, t_r=t_r, low_pass=0.1)


def test_zero_t_r_is_also_a_zero_division_error(signals):
    # nilearn 0.14.1 raises ZeroDivisionError for t_r=0 with a filter.
    with pytest.raises(ZeroDivisionError):
        clean(signals, t_r=0, low_pass=0.1)


def test_high_pass_not_below_low_pass(signals, no_heavy_work):
    with pytest.raises(ValueError, match=r"high_pass \(0.1 Hz\).*low_pass \(0.05 Hz\)"):
        clean(signals, low_pass=0.05, high_pass=0.1)
    with pytest.raises(ValueError, match="lower than low_pass"):
        clean(signals, low_pass=0.05, high_pass=0.05)


@pytest.mark.parametrize("standardize", ["foo", "zscore", 1, "ZSCORE_SAMPLE"])
def test_unknown_standardize(signals, standardize, no_heavy_work):
    with pytest.raises(ValueError, match=r"'standardize'.*Got"):
        clean(signals, standardize=standardize)


def test_zscore_message_points_to_zscore_sample(signals):
    with pytest.raises(ValueError, match="use 'zscore_sample'"):
        clean(signals, standardize="zscore")


@pytest.mark.parametrize("bad_filter", ["foo", True, None, "Butterworth"])
def test_unknown_filter(signals, bad_filter, no_heavy_work):
    with pytest.raises(ValueError, match=r"'filter'.*'butterworth', 'cosine' or False"):
        clean(signals, filter=bad_filter, low_pass=0.1)


def test_cosine_needs_high_pass(signals, no_heavy_work):
    with pytest.raises(ValueError, match="high_pass=None"):
        clean(signals, filter="cosine")


def test_butterworth_needs_t_r(signals, no_heavy_work):
    with pytest.raises(ValueError, match="t_r=None"):
        clean(signals, low_pass=0.1, t_r=None)


def test_zero_cutoff(signals, no_heavy_work):
    with pytest.raises(ValueError, match=r"low_pass=0.*> 0 Hz"):
        clean(signals, low_pass=0)


def test_runs_wrong_length(signals, no_heavy_work):
    with pytest.raises(ValueError, match=r"one label per time point \(60\).*\(50,\)"):
        clean(signals, runs=np.zeros(50))


@pytest.mark.parametrize(
    ("mask", "error", "pattern"),
    [
        (np.arange(50, 61), IndexError, r"indices \[60\] out of range.*60 time points"),
        (np.arange(61) % 60, IndexError, r"61 indices, more than the 60"),
        (np.ones(50, dtype=bool), IndexError, r"length 50.*60 time points"),
        (np.ones(70, dtype=bool), IndexError, r"length 70"),
        (np.array([-1, 2, 3]), ValueError, r"negative indices \[-1\]"),
        (np.array([0.5, 2.0]), TypeError, r"non-integer values"),
        (np.array(["a", "b"]), TypeError, r"dtype <U1"),
        (np.zeros((2, 3), dtype=int), ValueError, r"must be 1D"),
        (np.zeros(60, dtype=bool), AllVolumesRemovedError, "keeps no volume"),
    ],
)
def test_bad_sample_mask(signals, mask, error, pattern, no_heavy_work):
    with pytest.raises(error, match=pattern):
        clean(signals, sample_mask=mask)


def test_sample_mask_count_must_match_runs(signals, no_heavy_work):
    with pytest.raises(ValueError, match=r"1 mask\(s\) but there are 2 run\(s\)"):
        clean(signals, runs=np.repeat([0, 1], 30), sample_mask=[np.arange(10)])


def test_unknown_butterworth_kwarg(signals, no_heavy_work):
    with pytest.raises(TypeError, match="butterworth__foo"):
        clean(signals, low_pass=0.1, butterworth__foo=3)
    with pytest.raises(ValueError, match="'order'"):
        clean(signals, low_pass=0.1, butterworth__order=0)


def test_too_short_for_filter_padding(rng, no_heavy_work):
    with pytest.raises(ValueError, match=r"10 time points.*padlen=18"):
        clean(rng.standard_normal((10, 2)), low_pass=0.1)
    # the second run is too short once its censored tail is dropped
    with pytest.raises(ValueError, match=r"run 1 has 15 time points.*padlen=18"):
        clean(
            rng.standard_normal((60, 2)),
            runs=np.repeat([0, 1], 30),
            sample_mask=[np.arange(30), np.arange(15)],
            low_pass=0.1,
        )


def test_unsorted_mask_cannot_be_interpolated(signals, no_heavy_work):
    with pytest.raises(ValueError, match="increasing order"):
        clean(signals, sample_mask=np.array([5, 3, 8, 20, 40]), low_pass=0.1)


def test_signals_must_be_2d():
    with pytest.raises(ValueError, match=r"2D array.*\(30,\)"):
        clean(np.zeros(30))


def test_bad_booleans(signals, no_heavy_work):
    with pytest.raises(TypeError, match="'detrend'"):
        clean(signals, detrend="yes")
    with pytest.raises(ValueError, match="'ensure_finite'"):
        clean(signals, ensure_finite="yes")


# ---------------------------------------------------------------- warnings


def test_low_pass_at_nyquist_warns_and_is_lowered(signals):
    # t_r=2.5 s: Nyquist 0.2 Hz
    with pytest.warns(RegionkitWarning, match=r"low_pass=0.3 Hz.*Nyquist.*0.2 Hz"):
        ours = clean(signals, low_pass=0.3, standardize=None, detrend=False)
    nyquist = 0.2
    sos = sp_signal.butter(
        5, nyquist * (1 - 10 * np.finfo(np.float32).eps), "low", output="sos", fs=0.4
    )
    np.testing.assert_allclose(ours, sp_signal.sosfiltfilt(sos, signals, axis=0))
    assert issubclass(RegionkitWarning, UserWarning)  # nilearn warns UserWarning


def test_negative_high_pass_warns(signals):
    with pytest.warns(RegionkitWarning, match=r"high_pass=-0.1 Hz is negative"):
        clean(signals, high_pass=-0.1)


def test_band_collapsed_above_nyquist_returns_unfiltered(signals):
    with pytest.warns(RegionkitWarning) as record:
        ours = clean(signals, low_pass=0.5, high_pass=0.3, detrend=False, standardize=None)
    assert any("returned unfiltered" in str(w.message) for w in record)
    np.testing.assert_array_equal(ours, signals)


def test_boolean_standardize_is_deprecated(signals):
    with pytest.warns(FutureWarning, match=r"standardize=True is deprecated"):
        ours = clean(signals, standardize=True)
    np.testing.assert_allclose(ours, clean(signals))
    with pytest.warns(FutureWarning, match=r"None instead of False"):
        ours = clean(signals, standardize=False)
    np.testing.assert_allclose(ours, clean(signals, standardize=None))


def test_filter_false_with_cutoffs_warns(signals):
    with pytest.warns(RegionkitWarning, match="no filtering is done"):
        ours = clean(signals, filter=False, low_pass=0.1)
    np.testing.assert_allclose(ours, clean(signals))


def test_cosine_ignores_low_pass_with_warning(signals):
    with pytest.warns(RegionkitWarning, match="low_pass=0.1 is ignored"):
        ours = clean(signals, filter="cosine", high_pass=0.01, low_pass=0.1)
    np.testing.assert_allclose(ours, clean(signals, filter="cosine", high_pass=0.01))


def test_confounds_without_detrend_or_standardization_warns(signals, confounds):
    with pytest.warns(RegionkitWarning, match="neither demeaned nor standardized"):
        clean(signals, confounds=confounds, detrend=False, standardize_confounds=False)


def test_psc_zero_mean_feature_set_to_zero(signals):
    signals = signals.copy()
    signals[:, 1] = np.tile([1.0, -1.0], 30)  # mean exactly 0
    with pytest.warns(RegionkitWarning, match=r"1 such feature"):
        ours = standardize_signal(signals, standardize="psc")
    np.testing.assert_array_equal(ours[:, 1], 0.0)
    assert np.all(np.abs(ours[:, 0]) > 0)


# ---------------------------------------------------------------- NaN / inf


def _with_non_finite(signals):
    signals = signals.astype(np.float32)
    signals[3, 1] = np.nan
    signals[7, 3] = np.inf
    signals[9, 3] = -np.inf
    return signals


def test_ensure_finite_replaces_by_zero_and_counts_features(signals):
    dirty = _with_non_finite(signals)
    with pytest.warns(NonFiniteDataWarning, match=r"2 of 5 feature\(s\).*replaced by 0"):
        ours = clean(dirty, ensure_finite=True, low_pass=0.1)
    zeroed = np.where(np.isfinite(dirty), dirty, 0).astype(np.float32)
    np.testing.assert_allclose(ours, clean(zeroed, low_pass=0.1), rtol=1e-6)
    assert np.isfinite(ours).all()
    assert dirty[3, 1] != dirty[3, 1]  # input untouched


def test_non_finite_without_ensure_finite_gives_nan_columns(signals):
    dirty = _with_non_finite(signals)
    with pytest.warns(NonFiniteDataWarning, match=r"2 of 5 feature\(s\).*hold NaN"):
        ours = clean(dirty, confounds=np.arange(60.0))
    assert np.isnan(ours[:, [1, 3]]).all()
    clean_cols = clean(dirty[:, [0, 2, 4]], confounds=np.arange(60.0))
    np.testing.assert_allclose(ours[:, [0, 2, 4]], clean_cols)


def test_non_finite_cannot_be_interpolated(signals):
    dirty = _with_non_finite(signals)
    with pytest.raises(ValueError, match="ensure_finite=True"):
        clean(dirty, low_pass=0.1, sample_mask=np.r_[0:20, 21:60])


# ---------------------------------------------------------------- behaviour


def test_input_not_modified_and_dtypes(signals, confounds):
    float32 = signals.astype(np.float32)
    before = float32.copy()
    out = clean(float32, confounds=confounds, low_pass=0.1, high_pass=0.01)
    np.testing.assert_array_equal(float32, before)
    assert out.dtype == np.float32
    assert clean(signals).dtype == np.float64
    assert clean(np.arange(120).reshape(60, 2)).dtype == np.float64
    assert clean(np.arange(120, dtype=np.int16).reshape(60, 2)).dtype == np.float32
    mask = np.arange(5, 60, dtype=np.int32)
    clean(float32, sample_mask=mask, low_pass=0.1)
    np.testing.assert_array_equal(mask, np.arange(5, 60))  # nilearn shifts it in place


def test_blocks_give_same_result_as_one_block(signals, confounds, monkeypatch):
    options = [
        {"standardize": "psc", "high_pass": 0.01, "confounds": confounds},
        {"standardize": "psc", "detrend": False},
        {"standardize": "zscore_sample", "low_pass": 0.1, "sample_mask": np.r_[0:9, 11:60]},
        {"filter": "cosine", "high_pass": 0.02, "runs": np.repeat([0, 1], 30)},
    ]
    whole = [clean(signals, **kw) for kw in options]
    monkeypatch.setattr(rsignal._common, "_BLOCK_ELEMENTS", 2 * 60)  # 2 columns per block
    for kw, expected in zip(options, whole):
        np.testing.assert_allclose(clean(signals, **kw), expected, rtol=1e-12, atol=1e-12)


def test_interpolation_fills_every_censored_volume(signals):
    """Both ends and mirror pairs censored (where nilearn 0.14.1 mis-indexes)."""
    n = signals.shape[0]
    keep = np.ones(n, dtype=bool)
    keep[[0, 1, 5, n - 6, n - 2, n - 1]] = False
    ours = clean(signals, sample_mask=keep, low_pass=0.1, detrend=False, standardize=None)
    span = slice(2, n - 2)
    times = np.arange(n)[span] * 2.5
    kept = keep[span]
    filled = signals[span].copy()
    filled[~kept] = CubicSpline(times[kept], filled[kept])(times[~kept])
    sos = sp_signal.butter(5, 0.1, "low", output="sos", fs=0.4)
    expected = sp_signal.sosfiltfilt(sos, filled, axis=0)[kept]
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-10)


def test_runs_honour_all_options(signals, confounds):
    runs = np.repeat([3, 7], 30)
    kw = {"standardize_confounds": False, "low_pass": 0.1, "butterworth__order": 3}
    ours = clean(signals, runs=runs, confounds=confounds, **kw)
    expected = np.vstack(
        [
            clean(signals[:30], confounds=confounds[:30], **kw),
            clean(signals[30:], confounds=confounds[30:], **kw),
        ]
    )
    np.testing.assert_allclose(ours, expected)


def test_per_run_confound_list(signals, rng):
    runs = np.repeat([0, 1], 30)
    per_run = [rng.standard_normal((30, 2)), rng.standard_normal((30, 4))]
    ours = clean(signals, runs=runs, confounds=per_run)
    expected = np.vstack(
        [clean(signals[:30], confounds=per_run[0]), clean(signals[30:], confounds=per_run[1])]
    )
    np.testing.assert_allclose(ours, expected)


def test_flat_list_sample_mask_and_label_order(signals):
    np.testing.assert_allclose(
        clean(signals, sample_mask=list(range(10, 50))),
        clean(signals, sample_mask=np.arange(10, 50)),
    )
    runs = np.repeat([2, 1], 30)  # output follows sorted labels: run 1 first
    ours = clean(signals, runs=runs, sample_mask=[np.arange(25), np.arange(5, 30)])
    np.testing.assert_allclose(ours[:25], clean(signals[30:], sample_mask=np.arange(25)))
    np.testing.assert_allclose(ours[25:], clean(signals[:30], sample_mask=np.arange(5, 30)))


def test_single_time_point_warns_and_is_unchanged(signals):
    with pytest.warns(RegionkitWarning, match="single time point"):
        ours = clean(signals[:1])
    np.testing.assert_array_equal(ours, signals[:1])


def test_step_functions(signals, rng):
    t = np.arange(60.0)
    lines = 2.0 + 0.5 * t[:, None] * np.array([1.0, -2.0])
    np.testing.assert_allclose(detrend(lines), 0.0, atol=1e-12)
    inplace = signals.copy()
    assert detrend(inplace, inplace=True) is inplace
    with pytest.warns(RegionkitWarning, match="single time point"):
        detrend(signals[:1])
    z = standardize_signal(signals)
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(0, ddof=1), 1.0)
    in_place = signals.copy()
    filtered = butterworth(in_place, sampling_rate=0.4, low_pass=0.1)
    assert filtered is in_place
    copied = butterworth(signals, sampling_rate=0.4, low_pass=0.1, copy=True)
    np.testing.assert_allclose(copied, filtered)
    with pytest.raises(ValueError, match="'sampling_rate'"):
        butterworth(signals, sampling_rate=0, low_pass=0.1)
    series = rng.standard_normal((40, 300))
    hvc = high_variance_confounds(series, n_confounds=3)
    assert hvc.shape == (40, 3)
    np.testing.assert_allclose(hvc.T @ hvc, np.eye(3), atol=1e-10)
    assert high_variance_confounds(series.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="'percentile'"):
        high_variance_confounds(series, percentile=120)


def test_other_kwargs_ignored_like_nilearn(signals):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(clean(signals, foo=3), clean(signals))


def test_fmriprep_style_tsv_with_na_first_row(signals, confounds, tmp_path, no_heavy_work):
    path = tmp_path / "desc-confounds_timeseries.tsv"
    lines = ["trans_x\ttrans_x_derivative1\tcsf"]
    lines.append(f"{confounds[0, 0]}\tn/a\t{confounds[0, 2]}")
    lines += ["\t".join(str(v) for v in row) for row in confounds[1:]]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"1 NaN/inf.*'trans_x_derivative1'"):
        clean(signals, confounds=path)


def test_whitespace_confounds_file_without_header(signals, confounds, tmp_path):
    path = tmp_path / "confounds.txt"
    np.savetxt(path, confounds)  # space separated, no header
    np.testing.assert_allclose(
        clean(signals, confounds=str(path)), clean(signals, confounds=confounds)
    )


@pytest.mark.parametrize(
    "options",
    [
        {"low_pass": 0.1, "high_pass": 0.01},
        {"standardize": "psc", "high_pass": 0.01, "runs": np.repeat([0, 1], 100)},
    ],
)
def test_voxel_sized_input_needs_one_output_plus_small_blocks(rng, options):
    """(200, 40000) float32: peak allocation = output + a few 8 MiB blocks."""
    import tracemalloc

    signals = rng.standard_normal((200, 40000), dtype=np.float32)
    confounds = rng.standard_normal((200, 24))
    tracemalloc.start()
    try:
        out = clean(signals, confounds=confounds, t_r=2.0, **options)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.dtype == np.float32
    # a full float64 copy of the input alone would be 64 MB
    assert peak < out.nbytes + 56e6, f"peak {peak / 1e6:.0f} MB, output {out.nbytes / 1e6:.0f} MB"
