"""Cohort throughput: ``regionkit extract`` against a joblib loop of nilearn's masker.

The cohort is the benchmark run linked under ``N_RUNS`` subjects in fMRIPrep
layout (``benchmarks/data/cohort/``, symlinks, built once at import), each with
its confounds table and a sidecar giving RepetitionTime. Every case extracts
Power 264 spheres (r = 5 mm, overlap allowed for the coarse --quick grid) with detrend, band-pass 0.01-0.1 Hz, z-scoring and
the 24 motion confounds, and writes one TSV per run into a fresh folder (so
nothing is skipped; the regionkit cases also fit and cache their operator).

Cases (runs per minute in the returned dict):

- ``cohort/regionkit-serial``: ``regionkit extract`` in one process;
- ``cohort/regionkit-njobs2``: ``--n-jobs 2`` (joblib processes);
- ``cohort/regionkit-dask2``: ``--dask local --n-jobs 2`` (LocalCluster of 2
  single-threaded worker processes, started inside the timed call);
- ``cohort/nilearn-joblib1`` / ``cohort/nilearn-joblib2``: ``joblib.Parallel``
  over runs of ``nilearn.maskers.NiftiSpheresMasker(...).fit_transform`` with
  ``nilearn.interfaces.fmriprep.load_confounds`` (motion "full"), each result
  written as TSV.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from . import case

N_RUNS = 6
_TASK_1 = "cohort: Power 264 + cleaning + 24 confounds, 1 core"
_TASK_2 = "cohort: Power 264 + cleaning + 24 confounds, 2 cores"


def _cohort(data) -> Path:
    """fMRIPrep-layout folder of N_RUNS links to the benchmark run."""
    bold = Path(data["bold"]).resolve()
    confounds = Path(data["confounds"]).resolve()
    root = bold.parent / f"cohort-{bold.stat().st_size}"
    if (root / "dataset_description.json").is_file():
        return root
    tmp = Path(tempfile.mkdtemp(dir=bold.parent))
    (tmp / "dataset_description.json").write_text(json.dumps(
        {"Name": "benchmark cohort", "BIDSVersion": "1.9.0", "DatasetType": "derivative"}))
    for i in range(1, N_RUNS + 1):
        func = tmp / f"sub-{i:02d}" / "func"
        func.mkdir(parents=True)
        prefix = f"sub-{i:02d}_task-rest"
        (func / f"{prefix}_space-MNI152NLin6Asym_res-2_desc-preproc_bold.nii.gz").symlink_to(bold)
        (func / f"{prefix}_space-MNI152NLin6Asym_res-2_desc-preproc_bold.json").write_text(
            json.dumps({"RepetitionTime": 2.0}))
        (func / f"{prefix}_desc-confounds_timeseries.tsv").symlink_to(confounds)
    try:
        os.replace(tmp, root)
    except OSError:  # another process built it first
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _band_pass(data) -> dict:
    """0.01-0.1 Hz, except on --quick data (20 volumes: too short to filter)."""
    import nibabel as nib

    n_volumes = nib.load(data["bold"]).shape[-1]
    return {"low_pass": 0.1, "high_pass": 0.01} if n_volumes >= 60 else {}


def _runs(root: Path) -> list[Path]:
    return sorted(root.glob("sub-*/func/*_desc-preproc_bold.nii.gz"))


def _regionkit(data, *extra):
    from regionkit.cli import main

    root = _cohort(data)
    filters = [f"--{k.replace('_', '-')}={v}" for k, v in _band_pass(data).items()]
    out = Path(tempfile.mkdtemp(prefix="regionkit-cohort-"))
    try:
        start = time.perf_counter()
        status = main([
            "extract", str(root), str(out / "out"), "--spheres", "power264", "--radius", "5", "--allow-overlap",
            "--detrend", "--standardize", "zscore_sample", "--confounds", "motion24",
            "--no-progress", *filters, *extra,
        ])
        seconds = time.perf_counter() - start
        n_tables = len(list((out / "out").rglob("*_timeseries.tsv")))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if status != 0:
        raise RuntimeError(f"regionkit extract exited with {status}")
    return {"runs": n_tables, "runs_per_minute": round(n_tables / seconds * 60, 2)}


def _nilearn_one(bold: str, out: str, filters: dict) -> int:
    import numpy as np
    import pandas as pd
    from nilearn.datasets import fetch_coords_power_2011
    from nilearn.interfaces.fmriprep import load_confounds
    from nilearn.maskers import NiftiSpheresMasker

    rois = fetch_coords_power_2011().rois
    seeds = np.vstack((rois["x"], rois["y"], rois["z"])).T
    confounds, sample_mask = load_confounds(bold, strategy=("motion",), motion="full")
    masker = NiftiSpheresMasker(seeds, radius=5, allow_overlap=True, detrend=True, standardize="zscore_sample",
                                t_r=2.0, **filters)
    signals = masker.fit_transform(bold, confounds=confounds, sample_mask=sample_mask)
    pd.DataFrame(signals).to_csv(out, sep="\t", index=False, na_rep="n/a")
    return int(signals.shape[0])


def _nilearn(data, n_jobs):
    from joblib import Parallel, delayed

    root = _cohort(data)
    out = Path(tempfile.mkdtemp(prefix="nilearn-cohort-"))
    try:
        start = time.perf_counter()
        rows = Parallel(n_jobs=n_jobs)(
            delayed(_nilearn_one)(str(bold), str(out / f"{i}.tsv"), _band_pass(data))
            for i, bold in enumerate(_runs(root))
        )
        seconds = time.perf_counter() - start
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"runs": len(rows), "runs_per_minute": round(len(rows) / seconds * 60, 2)}


@case("cohort/regionkit-serial", task=_TASK_1, library="regionkit",
      reference="cohort/nilearn-joblib1", imports=("regionkit.cli", "regionkit.maskers"),
      description=f"regionkit extract, {N_RUNS} runs, 1 process")
def regionkit_serial(data):
    return _regionkit(data)


@case("cohort/regionkit-njobs2", task=_TASK_2, library="regionkit",
      reference="cohort/nilearn-joblib2", imports=("regionkit.cli", "regionkit.maskers", "joblib"),
      description=f"regionkit extract --n-jobs 2, {N_RUNS} runs")
def regionkit_njobs2(data):
    return _regionkit(data, "--n-jobs", "2")


@case("cohort/regionkit-dask2", task=_TASK_2 + " (dask)", library="regionkit",
      reference="cohort/nilearn-joblib2", requires=("distributed",),
      imports=("regionkit.cli", "regionkit.maskers", "distributed"),
      description=f"regionkit extract --dask local --n-jobs 2, {N_RUNS} runs (cluster start included)")
def regionkit_dask2(data):
    return _regionkit(data, "--dask", "local", "--n-jobs", "2")


@case("cohort/nilearn-joblib1", task=_TASK_1, library="nilearn", requires=("nilearn",),
      imports=("nilearn.maskers", "nilearn.interfaces.fmriprep", "joblib"),
      description=f"joblib loop (n_jobs=1) of nilearn NiftiSpheresMasker, {N_RUNS} runs")
def nilearn_joblib1(data):
    return _nilearn(data, 1)


@case("cohort/nilearn-joblib2", task=_TASK_2, library="nilearn", requires=("nilearn",),
      imports=("nilearn.maskers", "nilearn.interfaces.fmriprep", "joblib"),
      description=f"joblib loop (n_jobs=2) of nilearn NiftiSpheresMasker, {N_RUNS} runs")
def nilearn_joblib2(data):
    return _nilearn(data, 2)
