"""A generated fMRIPrep-like cohort (tiny images) for the CLI tests (imported by conftest and tests)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "confounds"))
from fmriprep_fakes import write_fmriprep_run

SHAPE = (10, 12, 10)
N_VOLUMES = 30
AFFINE = np.array([[4.0, 0, 0, -20], [0, 4.0, 0, -24], [0, 0, 4.0, -20], [0, 0, 0, 1]])
SPACE = "MNI152NLin2009cAsym"
# Seeds (mm) inside the tiny grid; the last one is half outside the field of view.
SEEDS = pd.DataFrame(
    {
        "x": [-8.0, 8.0, 0.0, -12.0, 12.0, 15.5],
        "y": [-8.0, 4.0, 12.0, -16.0, 16.0, 20.0],
        "z": [0.0, 4.0, -8.0, 8.0, -4.0, 14.0],
        "name": ["lA", "rB", "mC", "lD", "rE", "edgeF"],
    }
)


def write_bold(path: Path, rng: np.random.Generator, n_volumes: int = N_VOLUMES) -> None:
    data = 100 + rng.standard_normal(SHAPE + (n_volumes,)).astype(np.float32)
    shared = rng.standard_normal(n_volumes).astype(np.float32)
    data[:5] += shared  # a left-side signal
    img = nib.Nifti1Image(data, AFFINE)
    img.header.set_zooms((4.0, 4.0, 4.0, 2.0))
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(img, path)


def make_cohort(root: Path, n_subjects: int = 10, tasks=("rest", "nback"), seed: int = 0) -> list[Path]:
    """fMRIPrep derivatives with n_subjects x len(tasks) runs; returns the bold paths."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset_description.json").write_text(json.dumps({
        "Name": "fake fMRIPrep", "BIDSVersion": "1.9.0", "DatasetType": "derivative",
        "GeneratedBy": [{"Name": "fMRIPrep", "Version": "24.1.1"}],
    }))
    bolds = []
    for s in range(1, n_subjects + 1):
        sub = f"sub-{s:02d}"
        for task in tasks:
            folder = root / sub / "func"
            bold, _ = write_fmriprep_run(folder, f"{sub}_task-{task}", N_VOLUMES, rng, space=SPACE,
                                         n_non_steady=1, n_spikes=2)
            write_bold(bold, rng)
            bold.with_name(bold.name.replace(".nii.gz", ".json")).write_text(
                json.dumps({"RepetitionTime": 2.0, "TaskName": task}))
            # files an fMRIPrep folder also holds, to be ignored
            (folder / f"{sub}_task-{task}_space-{SPACE}_desc-brain_mask.nii.gz").write_bytes(b"")
            bolds.append(bold)
    return bolds
