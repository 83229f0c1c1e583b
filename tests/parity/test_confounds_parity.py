"""regionkit.confounds against nilearn.interfaces.fmriprep (0.14.1) on generated files."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "confounds"))
from fmriprep_fakes import write_fmriprep_run

from regionkit.confounds import load_confounds, load_confounds_strategy

nilearn_fmriprep = pytest.importorskip("nilearn.interfaces.fmriprep")


def _nilearn(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(nilearn_fmriprep, function)(*args, **kwargs)


def _ours(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def _assert_same(ours, theirs):
    ours_confounds, ours_mask = ours
    their_confounds, their_mask = theirs
    if their_confounds is None:
        assert ours_confounds is None
    else:
        assert list(ours_confounds.columns) == list(their_confounds.columns)
        np.testing.assert_allclose(
            ours_confounds.to_numpy(dtype=float),
            their_confounds.to_numpy(dtype=float),
            rtol=1e-10,
            atol=1e-10,
        )
    if their_mask is None:
        assert ours_mask is None
    else:
        np.testing.assert_array_equal(ours_mask, their_mask)


@pytest.fixture(params=["timeseries", "regressors-old", "no-nonsteady"])
def run_file(request, tmp_path):
    rng = np.random.default_rng(abs(hash(request.param)) % 2**32)
    bold, _ = write_fmriprep_run(
        tmp_path / "sub-01" / "func",
        "sub-01_task-rest_run-1",
        60,
        rng,
        old_naming=request.param == "regressors-old",
        n_non_steady=0 if request.param == "no-nonsteady" else 2,
    )
    return str(bold)


STRATEGY_GRID = [
    {},
    {"strategy": ("motion",), "motion": "basic"},
    {"strategy": ("motion",), "motion": "power2"},
    {"strategy": ("motion",), "motion": "derivatives"},
    {"strategy": ("motion", "wm_csf"), "wm_csf": "full", "demean": False},
    {"strategy": ("global_signal",), "global_signal": "full"},
    {"strategy": ("global_signal", "high_pass"), "global_signal": "power2"},
    {"strategy": ("high_pass", "compcor"), "compcor": "anat_combined", "n_compcor": 2},
    {"strategy": ("high_pass", "compcor"), "compcor": "anat_separated", "n_compcor": "all"},
    {"strategy": ("high_pass", "compcor"), "compcor": "anat_separated", "n_compcor": 1},
    {"strategy": ("high_pass", "compcor"), "compcor": "temporal", "n_compcor": 2},
    {"strategy": ("high_pass", "compcor"), "compcor": "temporal_anat_combined"},
    {"strategy": ("high_pass", "compcor"), "compcor": "temporal_anat_separated", "n_compcor": 2},
    {"strategy": ("motion", "scrub"), "scrub": 5, "fd_threshold": 0.5, "std_dvars_threshold": 1.5},
    {"strategy": ("motion", "scrub"), "scrub": 0, "fd_threshold": 0.3, "std_dvars_threshold": 1.2},
    {"strategy": ("motion", "scrub"), "scrub": 12, "fd_threshold": 0.5, "demean": False},
    {"strategy": ("wm_csf", "ica_aroma"), "ica_aroma": "basic"},
]


@pytest.mark.parametrize("params", STRATEGY_GRID, ids=lambda p: "-".join(map(str, p.values())) or "default")
def test_load_confounds_matches_nilearn(run_file, params):
    _assert_same(_ours(load_confounds, run_file, **params), _nilearn("load_confounds", run_file, **params))


@pytest.mark.parametrize(
    ("strategy", "kwargs"),
    [
        ("simple", {}),
        ("simple", {"global_signal": "basic", "motion": "basic"}),
        ("scrubbing", {}),
        ("scrubbing", {"fd_threshold": 0.2, "std_dvars_threshold": 3, "scrub": 2}),
        ("compcor", {}),
        ("compcor", {"n_compcor": 3, "compcor": "temporal_anat_separated"}),
    ],
)
def test_load_confounds_strategy_matches_nilearn(run_file, strategy, kwargs):
    _assert_same(
        _ours(load_confounds_strategy, run_file, strategy, **kwargs),
        _nilearn("load_confounds_strategy", run_file, strategy, **kwargs),
    )


def test_ica_aroma_full_matches_nilearn(tmp_path):
    rng = np.random.default_rng(3)
    folder = tmp_path / "sub-02" / "func"
    write_fmriprep_run(folder, "sub-02_task-rest", 40, rng)
    aroma = str(folder / "sub-02_task-rest_space-MNI152NLin6Asym_desc-smoothAROMAnonaggr_bold.nii.gz")
    _assert_same(
        _ours(load_confounds_strategy, aroma, "ica_aroma"),
        _nilearn("load_confounds_strategy", aroma, "ica_aroma"),
    )


def test_list_input_and_empty_strategy_match_nilearn(tmp_path):
    rng = np.random.default_rng(4)
    files = [
        str(write_fmriprep_run(tmp_path / "func", f"sub-0{i}_task-rest", 30, rng)[0])
        for i in (1, 2)
    ]
    ours = _ours(load_confounds, files, strategy=("motion",), motion="basic")
    theirs = _nilearn("load_confounds", files, strategy=("motion",), motion="basic")
    assert len(ours[0]) == len(theirs[0]) == 2
    for i in range(2):
        _assert_same((ours[0][i], ours[1][i]), (theirs[0][i], theirs[1][i]))
    ours = _ours(load_confounds, files[0], strategy=())
    theirs = _nilearn("load_confounds", files[0], strategy=())
    _assert_same(ours, theirs)


@pytest.mark.parametrize(
    "params",
    [
        {"strategy": ("compcor",)},
        {"strategy": ("motion",), "motion": "cubic"},
        {"strategy": ("wiggle",)},
        {"strategy": "motion"},
    ],
)
def test_bad_parameters_raise_like_nilearn(run_file, params):
    with pytest.raises(ValueError) as theirs:  # noqa: PT011 - any of nilearn's messages
        _nilearn("load_confounds", run_file, **params)
    with pytest.raises(type(theirs.value)):
        _ours(load_confounds, run_file, **params)


def test_missing_columns_raise_like_nilearn(tmp_path):
    rng = np.random.default_rng(5)
    bold, tsv = write_fmriprep_run(tmp_path / "func", "sub-01_task-rest", 30, rng)
    table = pd.read_csv(tsv, sep="\t")
    table.drop(columns=[c for c in table.columns if c.startswith("trans_")]).to_csv(
        tsv, sep="\t", index=False, na_rep="n/a"
    )
    with pytest.raises(ValueError, match="missing"):
        _nilearn("load_confounds", str(bold), strategy=("motion",))
    with pytest.raises(ValueError, match="trans_x"):
        _ours(load_confounds, str(bold), strategy=("motion",))
