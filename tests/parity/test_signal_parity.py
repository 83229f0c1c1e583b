"""regionkit.signal against nilearn.signal (0.14.1) on generated inputs.

Tolerances: float64 input rtol=1e-7; float32 input rtol=1e-4 and
atol=1e-5 times the output's scale (psc outputs are in percent, so their
absolute float32 rounding is ~100x that of z-scores). nilearn computes float32
inputs in float32, regionkit in float64, so the float32 differences are
nilearn's rounding.

Sample masks are chosen where nilearn 0.14.1's interpolation is right: every
censored volume ``t`` has its mirror ``n - 1 - t`` kept (nilearn applies ``~``
to integer indices); see tests/test_signal.py for the other cases.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

nilearn_signal = pytest.importorskip("nilearn.signal")

from regionkit import signal as rk_signal  # noqa: E402

N_TIME = 60


def _data(dtype, seed=0, n_time=N_TIME, n_features=5):
    rng = np.random.default_rng(seed)
    trend = np.linspace(0.0, 3.0, n_time)[:, None]
    wave = np.sin(np.arange(n_time) * 2.5 * 0.15)[:, None]
    signals = rng.standard_normal((n_time, n_features)) + trend + wave + 5.0
    confounds = rng.standard_normal((n_time, 3)) + 0.3 * trend
    return signals.astype(dtype), confounds


def _nilearn(signals, **kwargs):
    """nilearn.signal.clean on copies (it shifts int sample masks in place)."""
    kwargs = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    if isinstance(kwargs.get("sample_mask"), list):
        kwargs["sample_mask"] = [m.copy() for m in kwargs["sample_mask"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nilearn_signal.clean(signals.copy(), **kwargs)


def _ours(signals, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rk_signal.clean(signals, **kwargs)


def assert_parity(ours, theirs):
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype
    scale = max(1.0, float(np.nanmax(np.abs(theirs)))) if theirs.size else 1.0
    if theirs.dtype == np.float32:
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5 * scale)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9 * scale)


FILTERS = {
    "none": {},
    "low": {"low_pass": 0.1},
    "high": {"high_pass": 0.01},
    "band": {"low_pass": 0.12, "high_pass": 0.02},
    "cosine": {"filter": "cosine", "high_pass": 0.01},
    "off": {"filter": False},
}
MASKS = {
    "none": {},
    "scattered": {"sample_mask": np.r_[0:10, 12:45, 46:60]},
    "bool": {"sample_mask": np.isin(np.arange(60), [4, 20, 33], invert=True)},
    "head": {"sample_mask": np.r_[3:10, 12:60]},
    "head_extrapolate": {"sample_mask": np.r_[3:10, 12:60], "extrapolate": True},
    "tail_extrapolate": {"sample_mask": np.r_[0:50, 52:57], "extrapolate": True},
}
STANDARDIZE = ["zscore_sample", "psc", None]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("filt", list(FILTERS))
@pytest.mark.parametrize("standardize", STANDARDIZE)
@pytest.mark.parametrize("detrend", [True, False])
def test_clean_grid(detrend, standardize, filt, mask, dtype):
    signals, confounds = _data(dtype)
    kwargs = {
        "detrend": detrend,
        "standardize": standardize,
        "confounds": confounds,
        **FILTERS[filt],
        **MASKS[mask],
    }
    assert_parity(_ours(signals, **kwargs), _nilearn(signals, **kwargs))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("filt", ["none", "band", "cosine"])
@pytest.mark.parametrize("standardize", STANDARDIZE)
@pytest.mark.parametrize("detrend", [True, False])
def test_clean_without_confounds(detrend, standardize, filt, dtype):
    signals, _ = _data(dtype, seed=1)
    kwargs = {"detrend": detrend, "standardize": standardize, **FILTERS[filt]}
    assert_parity(_ours(signals, **kwargs), _nilearn(signals, **kwargs))


@pytest.mark.parametrize("standardize", [True, False])
def test_boolean_standardize(standardize):
    signals, confounds = _data(np.float64, seed=2)
    kwargs = {"standardize": standardize, "confounds": confounds, "low_pass": 0.1}
    assert_parity(_ours(signals, **kwargs), _nilearn(signals, **kwargs))


def _confound_forms(confounds, tmp_path):
    frame = pd.DataFrame(confounds, columns=["trans_x", "rot_y", "csf"])
    tsv = tmp_path / "confounds.tsv"
    frame.to_csv(tsv, sep="\t", index=False)
    csv = tmp_path / "confounds_noheader.csv"
    np.savetxt(csv, confounds, delimiter=",")
    return {
        "array": confounds,
        "vector": confounds[:, 0],
        "float32": confounds.astype(np.float32),
        "dataframe": frame,
        "tsv_path": tsv,
        "tsv_str": str(tsv),
        "csv_no_header": csv,
        "list": [confounds[:, :2], frame[["csf"]]],
    }


@pytest.mark.parametrize("standardize_confounds", [True, False])
@pytest.mark.parametrize(
    "form",
    ["array", "vector", "float32", "dataframe", "tsv_path", "tsv_str", "csv_no_header", "list"],
)
def test_confound_forms(form, standardize_confounds, tmp_path):
    signals, confounds = _data(np.float32, seed=3)
    value = _confound_forms(confounds, tmp_path)[form]
    kwargs = {"standardize_confounds": standardize_confounds, "high_pass": 0.01}
    ours = _ours(signals, confounds=value, **kwargs)
    theirs = _nilearn(signals, confounds=value, **kwargs)
    assert_parity(ours, theirs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("filt", ["none", "band", "cosine"])
@pytest.mark.parametrize("with_mask", [False, True])
def test_runs(filt, with_mask, dtype):
    signals, confounds = _data(dtype, seed=4, n_time=80)
    runs = np.repeat([0, 1], 40)
    kwargs = {"runs": runs, "confounds": confounds, **FILTERS[filt]}
    if with_mask:
        kwargs["sample_mask"] = [np.r_[0:5, 6:40], np.r_[0:30, 31:40]]
    assert_parity(_ours(signals, **kwargs), _nilearn(signals, **kwargs))


def test_runs_interleaved_labels():
    signals, confounds = _data(np.float64, seed=5, n_time=80)
    runs = np.tile([1, 0], 40)
    kwargs = {"runs": runs, "confounds": confounds}
    assert_parity(_ours(signals, **kwargs), _nilearn(signals, **kwargs))


@pytest.mark.parametrize(
    "options",
    [
        {"butterworth__order": 3},
        {"butterworth__padtype": "even"},
        {"butterworth__padtype": "constant", "butterworth__padlen": 10},
        {"butterworth__padtype": None},
    ],
)
def test_butterworth_kwargs(options):
    signals, confounds = _data(np.float64, seed=6)
    kwargs = {"low_pass": 0.1, "high_pass": 0.02, "confounds": confounds, **options}
    assert_parity(_ours(signals, **kwargs), _nilearn(signals, **kwargs))


@pytest.mark.parametrize(
    "cutoffs",
    [{"low_pass": 0.2}, {"low_pass": 0.5}, {"high_pass": -0.05}, {"low_pass": 0.3, "high_pass": 0.01}],
)
def test_out_of_range_cutoffs_warn_like_nilearn(cutoffs):
    signals, _ = _data(np.float64, seed=7)
    with pytest.warns(UserWarning):
        nilearn_signal.clean(signals.copy(), **cutoffs)
    with pytest.warns(UserWarning):
        ours = rk_signal.clean(signals, **cutoffs)
    assert_parity(ours, _nilearn(signals, **cutoffs))


def test_cosine_with_user_cosines_in_confounds():
    signals, confounds = _data(np.float64, seed=8)
    n = signals.shape[0]
    drift = np.sqrt(2.0 / n) * np.cos(np.pi / n * (np.arange(n) + 0.5))
    user = np.column_stack([confounds, drift])
    kwargs = {"filter": "cosine", "high_pass": 0.01, "confounds": user}
    with pytest.warns(UserWarning, match="already present"):
        ours = rk_signal.clean(signals, **kwargs)
    assert_parity(ours, _nilearn(signals, **kwargs))


def test_ensure_finite_parity():
    signals, confounds = _data(np.float32, seed=9)
    signals[4, 2] = np.nan
    signals[10, 0] = np.inf
    kwargs = {"ensure_finite": True, "confounds": confounds, "low_pass": 0.1}
    with pytest.warns(UserWarning, match=r"2 of 5 feature"):
        ours = rk_signal.clean(signals, **kwargs)
    assert_parity(ours, _nilearn(signals, **kwargs))


def test_non_finite_propagation_parity():
    signals, confounds = _data(np.float64, seed=10)
    signals[4, 2] = np.nan
    kwargs = {"confounds": confounds, "high_pass": 0.01}
    with pytest.warns(UserWarning, match="hold NaN"):
        ours = rk_signal.clean(signals, **kwargs)
    theirs = _nilearn(signals, **kwargs)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    assert_parity(ours, theirs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_functions(dtype):
    signals, _ = _data(dtype, seed=11, n_features=40)
    assert_parity(rk_signal.detrend(signals), nilearn_signal._detrend(signals))
    for standardize in ["zscore_sample", "psc", None]:
        for detrend in [False, True]:
            if standardize == "psc" and detrend:
                continue  # psc of a zero-mean signal divides by rounding noise
            assert_parity(
                rk_signal.standardize_signal(signals, detrend=detrend, standardize=standardize),
                nilearn_signal.standardize_signal(signals, detrend=detrend, standardize=standardize),
            )
    for cutoffs in [{"low_pass": 0.1}, {"high_pass": 0.02}, {"low_pass": 0.1, "high_pass": 0.02}]:
        ours = rk_signal.butterworth(signals, 0.4, copy=True, **cutoffs)
        theirs = nilearn_signal.butterworth(signals.copy(), 0.4, copy=False, **cutoffs)
        assert_parity(ours, theirs)


@pytest.mark.parametrize("detrend", [True, False])
@pytest.mark.parametrize("percentile", [2.0, 10.0])
def test_high_variance_confounds(detrend, percentile):
    rng = np.random.default_rng(12)
    series = rng.standard_normal((50, 800)) * rng.uniform(0.5, 3.0, 800)
    ours = rk_signal.high_variance_confounds(series, 4, percentile, detrend)
    theirs = nilearn_signal.high_variance_confounds(series, 4, percentile, detrend)
    signs = np.sign((ours * theirs).sum(axis=0))  # eigenvector signs are arbitrary
    np.testing.assert_allclose(ours * signs, theirs, rtol=1e-6, atol=1e-8)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("confounds_form", "runs", "standardize_confounds", "seed"),
    list(itertools.product(["none", "array", "list"], [False, True], [True, False], [21, 22])),
)
def test_clean_full_grid(confounds_form, runs, standardize_confounds, seed):
    """Wider product: every filter, mask and standardize option per case."""
    signals64, confounds = _data(np.float64, seed=seed, n_time=80)
    forms = {
        "none": None,
        "array": confounds,
        "list": [confounds[:, :1], confounds[:, 1:]],
    }
    for dtype, filt, standardize, detrend in itertools.product(
        [np.float32, np.float64], FILTERS, STANDARDIZE, [True, False]
    ):
        kwargs = {
            "detrend": detrend,
            "standardize": standardize,
            "confounds": forms[confounds_form],
            **FILTERS[filt],
        }
        if runs:
            # nilearn drops standardize_confounds inside runs; only compare
            # where the option has its default.
            if not standardize_confounds:
                continue
            kwargs["runs"] = np.repeat([0, 1], 40)
            kwargs["sample_mask"] = [np.r_[0:3, 4:40], np.r_[0:36, 37:40]]
        else:
            kwargs["standardize_confounds"] = standardize_confounds
            kwargs["sample_mask"] = np.r_[0:7, 9:80]
        signals = signals64.astype(dtype)
        assert_parity(_ours(signals, **kwargs), _nilearn(signals, **kwargs))
