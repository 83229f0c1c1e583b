"""regionkit extract on a generated 20-run fMRIPrep cohort."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from cohort_fixtures import SEEDS

from regionkit.cli import main
from regionkit.confounds import find_confounds_file, load_confounds_file
from regionkit.maskers import NiftiSpheresMasker

N_RUNS = 20
# one xdist worker builds the cohort and the serial reference for every test here
pytestmark = pytest.mark.xdist_group("cli-cohort")


def _args(cohort, output, *extra):
    return [
        "extract", str(cohort["bids"]), str(output),
        "--spheres", str(cohort["seeds"]), "--radius", "6", "--agg", "mean,median",
        "--confounds", "motion24,wm_csf,scrub", "--detrend", "--standardize", "zscore_sample",
        "--high-pass", "0.01", "--no-progress", *extra,
    ]


def _snapshot(folder: Path) -> dict:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".regionkit-cache" not in p.parts
    }


def _outputs(folder: Path, pattern="*_timeseries.tsv") -> list[Path]:
    return sorted(folder.rglob(pattern))


@pytest.fixture(scope="module")
def serial_output(cohort, tmp_path_factory):
    """The reference: the cohort extracted serially once."""
    output = tmp_path_factory.mktemp("serial") / "out"
    assert main(_args(cohort, output)) == 0
    return output


def test_outputs_equal_masker_called_directly(cohort, serial_output):
    tables = _outputs(serial_output, "*stat-mean_timeseries.tsv")
    assert len(tables) == N_RUNS
    assert len(_outputs(serial_output, "*stat-median_timeseries.tsv")) == N_RUNS
    for bold in cohort["bolds"][:4]:
        confounds, sample_mask = load_confounds_file(
            find_confounds_file(bold), ["motion", "wm_csf", "scrub"], motion="full", wm_csf="basic"
        )
        for agg, agg_func in (("mean", np.mean), ("median", np.median)):
            masker = NiftiSpheresMasker(
                SEEDS[["x", "y", "z"]].to_numpy(), radius=6, detrend=True,
                standardize="zscore_sample", high_pass=0.01, t_r=2.0, agg_func=agg_func,
            )
            expected = masker.fit_transform(str(bold), confounds=confounds.to_numpy(np.float32),
                                            sample_mask=sample_mask)
            prefix = bold.name.replace("_desc-preproc_bold.nii.gz", "")
            path = bold.parent.relative_to(cohort["bids"])
            table = serial_output / path / (
                f"{prefix}_atlas-seeds_desc-motion24WmCsfScrub_stat-{agg}_timeseries.tsv")
            got = pd.read_csv(table, sep="\t", na_values="n/a")
            assert list(got.columns) == list(SEEDS["name"])
            assert got.shape == (len(sample_mask), len(SEEDS))
            np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-6, atol=1e-7)
            sidecar = json.loads(table.with_suffix(".json").read_text())
            assert sidecar["SamplingFrequency"] == 0.5
            assert sidecar["VolumesKept"] == sample_mask.tolist()
            assert sidecar["ConfoundsColumns"] == list(confounds.columns)
            assert sidecar["Software"]["Name"] == "regionkit"
            bold_record = sidecar["Inputs"][bold.relative_to(cohort["bids"]).as_posix()]
            assert bold_record["Size"] == bold.stat().st_size
            assert len(bold_record["SHA256"]) == 64
            np.testing.assert_allclose(sidecar["RegionCoverage"]["edgeF"],
                                       masker.region_coverage_[-1], rtol=1e-5)
    description = json.loads((serial_output / "dataset_description.json").read_text())
    assert description["DatasetType"] == "derivative"
    assert description["GeneratedBy"][0]["Name"] == "regionkit"
    assert not (serial_output / "failures.tsv").exists()


def test_rerun_skips_and_parameter_change_reruns(cohort, serial_output, tmp_path, capsys):
    output = tmp_path / "out"
    shutil.copytree(serial_output, output)
    before = {p: p.stat().st_mtime_ns for p in output.rglob("*_timeseries.*")}
    capsys.readouterr()
    assert main(_args(cohort, output)) == 0
    assert "0 extracted, 20 skipped" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in output.rglob("*_timeseries.*")} == before
    # another radius: every run again, files rewritten with new values
    assert main([*_args(cohort, output), "--radius", "4"]) == 0
    assert "20 extracted, 0 skipped" in capsys.readouterr().out
    table = _outputs(output, "*stat-mean_timeseries.tsv")[0]
    reference = serial_output / table.relative_to(output)
    assert table.read_bytes() != reference.read_bytes()
    assert json.loads(table.with_suffix(".json").read_text())["Atlas"]["radius"] == 4.0


def test_killed_run_resumes_to_identical_outputs(cohort, serial_output, tmp_path):
    output = tmp_path / "out"
    command = [sys.executable, "-m", "regionkit.cli", *_args(cohort, output)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    n_done = 0
    while time.monotonic() < deadline:
        n_done = len(list(output.rglob("*_timeseries.json"))) if output.exists() else 0
        if n_done >= 4 or process.poll() is not None:
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert n_done < 2 * N_RUNS, "the command finished before it could be killed"
    assert main(_args(cohort, output)) == 0
    assert _snapshot(output) == _snapshot(serial_output)
    assert not [p for p in output.rglob("*") if "tmp" in p.name]


@pytest.fixture
def faulty_cohort(cohort, tmp_path):
    bids = tmp_path / "fmriprep"
    shutil.copytree(cohort["bids"], bids)
    bolds = sorted(bids.rglob("*_desc-preproc_bold.nii.gz"))
    corrupt, no_confounds, wrong_rows = bolds[1], bolds[5], bolds[9]
    raw = corrupt.read_bytes()
    corrupt.write_bytes(raw[: len(raw) // 2])
    find_confounds_file(no_confounds).unlink()
    table_path = find_confounds_file(wrong_rows)
    table = pd.read_csv(table_path, sep="\t")
    table.iloc[:-3].to_csv(table_path, sep="\t", index=False, na_rep="n/a")
    return {**cohort, "bids": bids, "bad": [corrupt, no_confounds, wrong_rows]}


def test_failures_are_recorded_and_others_succeed(faulty_cohort, tmp_path, capsys):
    output = tmp_path / "out"
    assert main(_args(faulty_cohort, output)) == 1
    failures = pd.read_csv(output / "failures.tsv", sep="\t")
    bids = faulty_cohort["bids"]
    assert sorted(failures["run"]) == sorted(p.relative_to(bids).as_posix() for p in faulty_cohort["bad"])
    messages = dict(zip(failures["run"], failures["message"], strict=True))
    corrupt, no_confounds, wrong_rows = (p.relative_to(bids).as_posix() for p in faulty_cohort["bad"])
    assert "No fMRIPrep confounds file" in messages[no_confounds]
    assert "has 27 rows but run" in messages[wrong_rows]
    assert "30 volumes" in messages[wrong_rows]
    assert failures.set_index("run").loc[corrupt, "error"] in ("CorruptImageError", "EOFError", "ValueError", "OSError")
    for tb in failures["traceback"]:
        assert "Traceback" in (output / tb).read_text()
    assert len(_outputs(output, "*stat-mean_timeseries.json")) == N_RUNS - 3
    assert "17 extracted" in capsys.readouterr().out
    # --stop-on-first-crash stops at the first failure
    output2 = tmp_path / "out2"
    assert main([*_args(faulty_cohort, output2), "--stop-on-first-crash"]) == 1
    assert len(pd.read_csv(output2 / "failures.tsv", sep="\t")) == 1
    assert len(_outputs(output2, "*stat-mean_timeseries.json")) < N_RUNS - 3


def test_dry_run_lists_work_without_writing(cohort, tmp_path, capsys):
    output = tmp_path / "out"
    assert main([*_args(cohort, output), "--dry-run", "--participant-label", "01", "02"]) == 0
    printed = capsys.readouterr().out
    assert "4 run(s): 4 to extract, 0 up to date" in printed
    assert printed.count("-> sub-0") == 8
    assert not output.exists() or not list(output.rglob("*_timeseries.*"))


def test_joblib_processes_give_serial_files(cohort, serial_output, tmp_path):
    output = tmp_path / "out"
    assert main([*_args(cohort, output), "--n-jobs", "2"]) == 0
    assert _snapshot(output) == _snapshot(serial_output)


def test_dask_in_process_gives_serial_files(cohort, serial_output, tmp_path):
    pytest.importorskip("distributed")
    output = tmp_path / "out"
    assert main([*_args(cohort, output), "--dask", "local-threads", "--n-jobs", "2"]) == 0
    assert _snapshot(output) == _snapshot(serial_output)


@pytest.mark.slow
def test_dask_worker_processes_give_serial_files(cohort, serial_output, tmp_path):
    distributed = pytest.importorskip("distributed")
    output = tmp_path / "out"
    # an existing scheduler on 127.0.0.1 with two worker processes (the ADDRESS form)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        assert main([*_args(cohort, output), "--dask", cluster.scheduler_address]) == 0
    assert _snapshot(output) == _snapshot(serial_output)


def test_parquet_and_min_coverage(cohort, serial_output, tmp_path):
    pl = pytest.importorskip("polars")
    output = tmp_path / "out"
    assert main([*_args(cohort, output), "--format", "parquet", "--min-coverage", "0.8",
                 "--participant-label", "sub-03", "--task", "rest"]) == 0
    (parquet,) = _outputs(output, "*stat-mean_timeseries.parquet")
    parquet_frame = pl.read_parquet(parquet)
    frame = pd.DataFrame({c: parquet_frame[c].to_numpy() for c in parquet_frame.columns})
    reference = pd.read_csv(serial_output / parquet.relative_to(output).with_suffix(".tsv"),
                            sep="\t", na_values="n/a")
    assert list(frame.columns) == list(reference.columns)
    assert frame["edgeF"].isna().all()
    np.testing.assert_allclose(frame.drop(columns="edgeF"), reference.drop(columns="edgeF"), rtol=1e-6)
    sidecar = json.loads(parquet.with_suffix(".json").read_text())
    assert sidecar["RegionsBelowMinCoverage"] == ["edgeF"]
    assert 0.5 < sidecar["RegionCoverage"]["edgeF"] < 0.8


def test_explicit_files_and_operator_cache(cohort, tmp_path, capsys):
    cache = tmp_path / "cache"
    bolds = [str(b) for b in cohort["bolds"][:2]]
    common = ["--spheres", str(cohort["seeds"]), "--radius", "6", "--cache-dir", str(cache), "--no-progress", "-v"]
    assert main(["extract", *bolds, str(tmp_path / "a"), *common]) == 0
    cached = sorted(cache.glob("*.pkl"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    capsys.readouterr()
    assert main(["extract", str(cohort["bids"] / "sub-0*" / "func" / "*task-rest*bold.nii.gz"),
                 str(tmp_path / "b"), *common]) == 0
    assert "operator cache hit" in capsys.readouterr().err
    assert cached[0].stat().st_mtime_ns == stamp
    assert len(_outputs(tmp_path / "b")) == 9  # sub-01..09 (glob), task rest
    first = next(p for p in _outputs(tmp_path / "a") if "task-rest" in p.name)
    assert first.read_bytes() == (tmp_path / "b" / first.relative_to(tmp_path / "a")).read_bytes()


def test_labels_and_maps_atlases_in_one_command(cohort, tmp_path):
    from regionkit import maskers

    if not hasattr(maskers, "NiftiLabelsMasker") or not hasattr(maskers, "NiftiMapsMasker"):
        pytest.skip("labels/maps maskers not in this regionkit yet")
    from cohort_fixtures import AFFINE, SHAPE

    labels = np.zeros(SHAPE, dtype=np.int16)
    labels[:5, :6] = 1
    labels[5:, 6:] = 300
    labels_path = tmp_path / "atlas-two_dseg.nii.gz"
    nib.save(nib.Nifti1Image(labels, AFFINE), labels_path)
    lut = tmp_path / "lut.tsv"
    pd.DataFrame({"index": [0, 1, 300], "name": ["Background", "left", "right"]}).to_csv(lut, sep="\t", index=False)
    maps = np.stack([(labels == 1), (labels == 300)], axis=-1).astype(np.float32)
    maps_path = tmp_path / "atlas-soft_probseg.nii.gz"
    nib.save(nib.Nifti1Image(maps, AFFINE), maps_path)
    output = tmp_path / "out"
    bold = str(cohort["bolds"][0])
    assert main(["extract", bold, str(output), "--labels", str(labels_path), "--lut", str(lut),
                 "--maps", str(maps_path), "--spheres", str(cohort["seeds"]), "--no-progress"]) == 0
    names = sorted(p.name for p in _outputs(output))
    assert any("atlas-two_stat-mean" in n for n in names)
    assert any("atlas-soft_stat-coef" in n for n in names)
    assert any("atlas-seeds_stat-mean" in n for n in names)
    table = pd.read_csv(next(p for p in _outputs(output) if "atlas-two" in p.name), sep="\t")
    data = np.asarray(nib.load(bold).dataobj, dtype=np.float32)
    np.testing.assert_allclose(table["left"], data[labels == 1].mean(axis=0), rtol=1e-5)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--spheres", "power999"], "--spheres 'power999' is not an existing file or one of power264"),
        (["--spheres", "power264", "--radius", "-1"], "--radius must be >= 0 mm, got -1"),
        (["--spheres", "power264", "--task", "nothing"], "no run matches"),
        (["--spheres", "power264", "--agg", "mode"], "--agg 'mode' is not one of"),
        (["--spheres", "power264", "--n-jobs", "zero"], "argument --n-jobs: invalid int value"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(cohort, tmp_path, capsys, extra, message):
    assert main(["extract", str(cohort["bids"]), str(tmp_path / "out"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_output_equal_to_input_exits_2(cohort, capsys):
    assert main(["extract", str(cohort["bids"]), str(cohort["bids"]), "--spheres", "power264"]) == 2
    err = capsys.readouterr().err.strip()
    assert "must differ from the input folder" in err
    assert len(err.splitlines()) == 1


def test_slurm_job_script_offline(tmp_path, capsys):
    pytest.importorskip("dask_jobqueue")
    assert main(["extract", str(tmp_path), str(tmp_path / "out"), "--spheres", "power264",
                 "--dask", "slurm", "--slurm-queue", "short", "--slurm-account", "lab42",
                 "--slurm-cores", "2", "--slurm-memory", "6GB", "--slurm-walltime", "00:30:00",
                 "--slurm-extra=--qos=low", "--slurm-scheduler-host", "127.0.0.1",
                 "--slurm-print-job-script"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("#!/usr/bin/env bash")
    for line in ("#SBATCH -p short", "#SBATCH -A lab42", "#SBATCH -t 00:30:00", "#SBATCH --qos=low",
                 "#SBATCH --cpus-per-task=2"):
        assert line in script
    assert sys.executable in script
    assert "distributed.cli.dask_worker" in script
    assert "--nthreads 2" in script
    assert "tcp://127.0.0.1:" in script  # the workers' scheduler address


def test_folder_without_dataset_description_is_indexed(cohort, tmp_path, capsys):
    bids = tmp_path / "fmriprep"
    shutil.copytree(cohort["bids"] / "sub-01", bids / "sub-01")
    assert not (bids / "dataset_description.json").exists()
    assert main(["extract", str(bids), str(tmp_path / "out"), "--spheres", str(cohort["seeds"]),
                 "--dry-run"]) == 0
    assert "2 run(s): 2 to extract" in capsys.readouterr().out
