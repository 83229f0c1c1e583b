"""Write fMRIPrep-like confounds tables and JSON sidecars for tests.

Shared by tests/confounds, tests/parity and tests/cli (they put this folder on
``sys.path``). Values are random but realistic in layout: derivative columns
start with ``n/a``, scrubbing columns (FD, std DVARS) have spikes, CompCor
components are described in the JSON sidecar with their masks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

MOTION = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]


def _expansions(table: dict, name: str, values: np.ndarray) -> None:
    derivative = np.concatenate(([np.nan], np.diff(values)))
    table[name] = values
    table[f"{name}_derivative1"] = derivative
    table[f"{name}_power2"] = values**2
    table[f"{name}_derivative1_power2"] = derivative**2


def make_confounds_table(
    n_volumes: int,
    rng: np.random.Generator,
    *,
    n_non_steady: int = 2,
    n_spikes: int = 4,
    n_cosine: int = 3,
    n_acompcor_combined: int = 5,
    n_acompcor_wm: int = 4,
    n_acompcor_csf: int = 3,
    n_tcompcor: int = 3,
    old_compcor_names: bool = True,
    n_aroma: int = 4,
    shuffle: bool = True,
) -> tuple[pd.DataFrame, dict]:
    """Return (confounds table, JSON metadata) shaped like fMRIPrep's."""
    table: dict[str, np.ndarray] = {}
    for name in ("global_signal", "csf", "white_matter"):
        _expansions(table, name, 1000 + 50 * rng.standard_normal(n_volumes).cumsum() / 10)
    table["csf_wm"] = rng.standard_normal(n_volumes)
    table["tcompcor"] = rng.standard_normal(n_volumes)
    fd = np.abs(rng.normal(0.15, 0.1, n_volumes))
    dvars = np.abs(rng.normal(1.0, 0.2, n_volumes))
    spikes = rng.choice(np.arange(3, n_volumes), size=min(n_spikes, n_volumes - 3), replace=False)
    fd[spikes[: len(spikes) // 2]] += 1.0
    dvars[spikes[len(spikes) // 2 :]] += 2.0
    fd[0] = np.nan
    dvars[0] = np.nan
    table["framewise_displacement"] = fd
    table["std_dvars"] = dvars
    table["dvars"] = dvars * 30
    table["rmsd"] = np.concatenate(([np.nan], np.abs(rng.normal(0.1, 0.05, n_volumes - 1))))
    meta: dict[str, dict] = {}
    index = 0
    for mask, count in (("combined", n_acompcor_combined), ("CSF", n_acompcor_csf), ("WM", n_acompcor_wm)):
        for _ in range(count):
            name = f"a_comp_cor_{index:02d}"
            table[name] = rng.standard_normal(n_volumes)
            meta[name] = {"Mask": mask, "Method": "aCompCor", "Retained": True}
            index += 1
    for i in range(n_tcompcor):
        name = f"t_comp_cor_{i:02d}"
        table[name] = rng.standard_normal(n_volumes)
        meta[name] = {"Method": "tCompCor", "Retained": True}
    if old_compcor_names:
        for prefix, count in (("w", 2), ("c", 2)):
            for i in range(count):
                name = f"{prefix}_comp_cor_{i:02d}"
                table[name] = rng.standard_normal(n_volumes)
                meta[name] = {"Method": "aCompCor", "Retained": True}
    times = np.arange(n_volumes)
    for i in range(n_cosine):
        table[f"cosine{i:02d}"] = np.cos(np.pi * (i + 1) * (times + 0.5) / n_volumes)
    for i in range(n_non_steady):
        column = np.zeros(n_volumes)
        column[i] = 1.0
        table[f"non_steady_state_outlier{i:02d}"] = column
    for name in MOTION:
        _expansions(table, name, 0.1 * rng.standard_normal(n_volumes).cumsum())
    for i, volume in enumerate(np.sort(spikes)):
        column = np.zeros(n_volumes)
        column[volume] = 1.0
        table[f"motion_outlier{i:02d}"] = column
    for i in range(n_aroma):
        table[f"aroma_motion_{i:02d}"] = rng.standard_normal(n_volumes)
    frame = pd.DataFrame(table)
    if shuffle:
        frame = frame[list(rng.permutation(frame.columns))]
    return frame, meta


def write_fmriprep_run(
    folder: Path,
    prefix: str,
    n_volumes: int,
    rng: np.random.Generator,
    *,
    space: str = "MNI152NLin2009cAsym",
    old_naming: bool = False,
    write_json: bool = True,
    **table_kwargs,
) -> tuple[Path, Path]:
    """Write ``<prefix>_desc-confounds_timeseries.tsv`` (+ .json).

    Returns the (would-be) preprocessed run path and the confounds path; the
    run image itself is not written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    table, meta = make_confounds_table(n_volumes, rng, **table_kwargs)
    suffix = "regressors" if old_naming else "timeseries"
    tsv = folder / f"{prefix}_desc-confounds_{suffix}.tsv"
    table.to_csv(tsv, sep="\t", index=False, na_rep="n/a")
    if write_json:
        tsv.with_suffix(".json").write_text(json.dumps(meta, indent=1))
    bold = folder / f"{prefix}_space-{space}_desc-preproc_bold.nii.gz"
    return bold, tsv
