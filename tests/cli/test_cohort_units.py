"""Small pieces of regionkit extract: names, confounds specs, atomic writes, skip test."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from regionkit.cli._extract import UsageError, _confounds_spec
from regionkit.cli.cohort._index import Run, output_prefix
from regionkit.cli.cohort._outputs import (
    file_record,
    inputs_unchanged,
    remove_temporaries,
    write_json,
    write_table,
)


@pytest.mark.parametrize(
    ("name", "folder", "prefix"),
    [
        ("sub-01_ses-2_task-rest_run-03_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.nii.gz",
         "sub-01/ses-2/func", "sub-01_ses-2_task-rest_run-03_space-MNI152NLin2009cAsym_res-2"),
        ("sub-x_task-a_desc-preproc_bold.nii", "sub-x/func", "sub-x_task-a"),
        ("my_run_bold.nii.gz", "", "my_run"),
    ],
)
def test_output_prefix_keeps_source_entities(name, folder, prefix):
    assert output_prefix(Run(Path("/data") / name, Path("/data"))) == (folder, prefix)


def _args(**kwargs):
    defaults = {"confounds": None, "fd_threshold": None, "std_dvars_threshold": None,
                "min_segment": None, "n_compcor": None}
    return argparse.Namespace(**{**defaults, **kwargs})


def test_confounds_spec_presets_components_and_columns():
    spec, desc = _confounds_spec(_args(confounds="scrubbing", fd_threshold=0.3))
    assert spec["strategy"] == ["high_pass", "motion", "wm_csf", "scrub"]
    assert spec["fd_threshold"] == 0.3
    assert spec["wm_csf"] == "full"
    assert "global_signal" not in spec
    assert desc == "scrubbing"
    spec, desc = _confounds_spec(_args(confounds="motion6,gsr,acompcor,rmsd", n_compcor="3"))
    assert spec["strategy"] == ["motion", "global_signal", "compcor", "high_pass"]
    assert (spec["motion"], spec["global_signal"], spec["compcor"], spec["n_compcor"]) == (
        "basic", "basic", "anat_combined", 3)
    assert spec["columns"] == ["rmsd"]
    assert desc == "motion6GsrAcompcorRmsd"
    assert _confounds_spec(_args(confounds="none")) == (None, None)
    with pytest.raises(UsageError, match="cannot be combined"):
        _confounds_spec(_args(confounds="simple,gsr"))
    with pytest.raises(UsageError, match="neither a component nor a column"):
        _confounds_spec(_args(confounds="motion24,bad-name"))


def test_write_table_tsv_uses_na_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub-01" / "x_timeseries.tsv"
    write_table(path, np.array([[1.0, np.nan], [0.5, 2.0]]), ["a", "b"], "tsv")
    assert path.read_text() == "a\tb\n1\tn/a\n0.5\t2\n"
    assert [p.name for p in path.parent.iterdir()] == ["x_timeseries.tsv"]
    write_json(tmp_path / "s.json", {"b": 1, "a": [1, 2]})
    assert json.loads((tmp_path / "s.json").read_text()) == {"a": [1, 2], "b": 1}
    (tmp_path / "sub-01" / ".y.tsv.1234abcd.regionkit-tmp").write_text("half")
    assert remove_temporaries(tmp_path) == 1
    assert not list(tmp_path.rglob("*regionkit-tmp"))


def test_inputs_unchanged_uses_time_then_content(tmp_path):
    path = tmp_path / "bold.nii.gz"
    path.write_bytes(b"abc")
    record = {"bold": file_record(path)}
    assert record["bold"]["SHA256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert inputs_unchanged(record, {"bold": path})
    path.write_bytes(b"abc")  # same bytes, new time: content decides
    assert inputs_unchanged(record, {"bold": path})
    path.write_bytes(b"abd")
    assert not inputs_unchanged(record, {"bold": path})
    assert not inputs_unchanged(record, {"bold": path, "other": path})
