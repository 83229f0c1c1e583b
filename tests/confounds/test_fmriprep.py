"""Unit tests of regionkit.confounds (behaviour nilearn does not cover)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fmriprep_fakes import write_fmriprep_run

from regionkit import RegionkitWarning
from regionkit.confounds import (
    MissingConfoundError,
    find_confounds_file,
    load_confounds,
    load_confounds_file,
)


def _write(tmp_path, columns: dict, name="sub-01_task-rest_desc-confounds_timeseries.tsv"):
    path = tmp_path / name
    pd.DataFrame(columns).to_csv(path, sep="\t", index=False, na_rep="n/a")
    return path


def test_find_confounds_file_ignores_other_runs(tmp_path):
    rng = np.random.default_rng(0)
    bold1, tsv1 = write_fmriprep_run(tmp_path, "sub-01_task-rest_run-1", 10, rng)
    _, tsv2 = write_fmriprep_run(tmp_path, "sub-01_task-rest_run-2", 10, rng)
    assert find_confounds_file(bold1) == tsv1
    res = tmp_path / "sub-01_task-rest_run-2_space-MNI_res-2_desc-preproc_bold.nii.gz"
    assert find_confounds_file(res) == tsv2


def test_find_confounds_file_missing_names_run_and_folder(tmp_path):
    bold = tmp_path / "sub-01_task-rest_space-MNI_desc-preproc_bold.nii.gz"
    with pytest.raises(FileNotFoundError, match="sub-01_task-rest_space-MNI") as info:
        find_confounds_file(bold)
    assert str(tmp_path) in str(info.value)


def test_scrubbing_drops_short_segments(tmp_path):
    n = 20
    fd = np.full(n, 0.1)
    fd[[4, 7, 15]] = 1.0  # kept segments: 0-3 (4), 5-6 (2), 8-14 (7), 16-19 (4)
    path = _write(tmp_path, {"framewise_displacement": fd, "std_dvars": np.ones(n), "trans_x": np.arange(n, dtype=float)})
    confounds, sample_mask = load_confounds_file(path, ("scrub",), scrub=5, demean=False)
    assert confounds.shape == (n, 0)
    np.testing.assert_array_equal(sample_mask, np.arange(8, 15))
    _, sample_mask = load_confounds_file(path, ("scrub",), scrub=3)
    np.testing.assert_array_equal(sample_mask, [0, 1, 2, 3, *range(8, 15), 16, 17, 18, 19])
    _, sample_mask = load_confounds_file(path, ("scrub",), scrub=0)
    assert sample_mask.size == n - 3


def test_columns_by_name_and_demean_over_kept_volumes(tmp_path):
    n = 6
    path = _write(
        tmp_path,
        {
            "rmsd": [np.nan, 1.0, 2.0, 3.0, 4.0, 5.0],
            "non_steady_state_outlier00": [1, 0, 0, 0, 0, 0],
            "csf": np.arange(n, dtype=float),
            "white_matter": np.ones(n),
        },
    )
    confounds, sample_mask = load_confounds_file(path, ("wm_csf",), columns=["rmsd"])
    assert list(confounds.columns) == ["csf", "rmsd", "white_matter"]
    np.testing.assert_array_equal(sample_mask, [1, 2, 3, 4, 5])
    # first-row NaN filled from the second row, then the mean over kept rows (3.0) removed
    np.testing.assert_allclose(confounds["rmsd"], [-2, -2, -1, 0, 1, 2])
    np.testing.assert_allclose(confounds["csf"], np.arange(n) - 3.0)


def test_missing_columns_listed_together(tmp_path):
    path = _write(tmp_path, {"csf": np.ones(4), "trans_x": np.ones(4)})
    with pytest.raises(MissingConfoundError) as info:
        load_confounds_file(path, ("motion", "wm_csf"), motion="basic", columns=["nope"])
    message = str(info.value)
    for name in ("trans_y", "rot_z", "white_matter", "nope"):
        assert name in message


def test_headerless_file_rejected(tmp_path):
    path = tmp_path / "sub-01_desc-confounds_timeseries.tsv"
    path.write_text("0.1\t0.2\n0.3\t0.4\n")
    with pytest.raises(ValueError, match="no header"):
        load_confounds_file(path, ("motion",))


def test_all_volumes_scrubbed_warns(tmp_path):
    path = _write(tmp_path, {"framewise_displacement": np.full(5, 2.0), "std_dvars": np.ones(5)})
    with pytest.warns(RegionkitWarning, match="Every volume"):
        _, sample_mask = load_confounds_file(path, ("scrub",))
    assert sample_mask.size == 0


def test_compcor_without_json_is_clear(tmp_path):
    rng = np.random.default_rng(1)
    bold, _ = write_fmriprep_run(tmp_path, "sub-01_task-rest", 10, rng, write_json=False)
    with pytest.raises(FileNotFoundError, match="CompCor needs the confounds JSON"):
        load_confounds(str(bold), strategy=("high_pass", "compcor"))


def test_bad_scrub_parameter_message(tmp_path):
    rng = np.random.default_rng(2)
    bold, _ = write_fmriprep_run(tmp_path, "sub-01_task-rest", 10, rng)
    with pytest.raises(ValueError, match=r"'fd_threshold' parameter of load_confounds must be a float in the range \[0, inf\). Got -1"):
        load_confounds(str(bold), strategy=("scrub",), fd_threshold=-1)
