"""Max abs difference between regionkit and nilearn on the region-masker benchmark cases.

Run once before (or after) ``run.py -k maskers/``: it builds the atlases the cases
use, then computes each case's output with both libraries in this process
(untimed) and prints the largest absolute and relative differences. The
1024-map case is compared on raw (uncleaned) signals against a float64
``scipy.linalg.lstsq`` on the maps' support, which is what nilearn computes,
unless ``--nilearn-1024`` asks for nilearn itself (tens of GB of RAM).

    python benchmarks/compare_region_maskers.py [--quick] [--nilearn-1024]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import generate_data  # noqa: E402
from benchmarks.cases.region_maskers import _PARAMS, atlas_paths  # noqa: E402


def _diff(ours, theirs) -> dict:
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    absolute = float(np.abs(ours - theirs).max())
    return {
        "shape": list(ours.shape),
        "max_abs_diff": absolute,
        "max_abs_value": float(np.abs(theirs).max()),
        "allclose_rtol1e-4": bool(np.allclose(ours, theirs, rtol=1e-4, atol=1e-4 * np.abs(theirs).max())),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--nilearn-1024", action="store_true")
    args = parser.parse_args(argv)
    n_volumes = 20 if args.quick else 300
    data_dir = generate_data.default_dir(n_volumes, args.quick)
    data = dict(generate_data.generate(data_dir, n_volumes=n_volumes, quick=args.quick)["files"])
    atlases = atlas_paths(data)

    from nilearn import maskers as nl
    from scipy import linalg

    from regionkit import maskers as rk

    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results["labels400"] = _diff(
            rk.NiftiLabelsMasker(atlases["labels400"], **_PARAMS).fit_transform(data["bold"]),
            nl.NiftiLabelsMasker(atlases["labels400"], **_PARAMS).fit_transform(data["bold"]),
        )
        print(json.dumps({"labels400": results["labels400"]}), flush=True)
        results["maps64"] = _diff(
            rk.NiftiMapsMasker(atlases["maps64"], **_PARAMS).fit_transform(data["bold"]),
            nl.NiftiMapsMasker(atlases["maps64"], **_PARAMS).fit_transform(data["bold"]),
        )
        print(json.dumps({"maps64": results["maps64"]}), flush=True)
        results["niftimasker"] = _diff(
            rk.NiftiMasker(mask_img=data["mask"]).fit_transform(data["bold"]),
            nl.NiftiMasker(mask_img=data["mask"]).fit_transform(data["bold"]),
        )
        print(json.dumps({"niftimasker": results["niftimasker"]}), flush=True)
        ours = rk.NiftiMapsMasker(atlases["maps1024"]).fit_transform(data["bold"])
        if args.nilearn_1024:
            theirs = nl.NiftiMapsMasker(atlases["maps1024"]).fit_transform(data["bold"])
        else:
            import nibabel as nib

            maps = np.asarray(nib.load(atlases["maps1024"]).dataobj, dtype=np.float32)
            support = maps.any(axis=-1)
            matrix = maps[support].astype(np.float64)
            del maps
            bold = np.asarray(nib.load(data["bold"]).dataobj, dtype=np.float32)
            voxels = bold[support].astype(np.float64)
            del bold
            theirs = linalg.lstsq(matrix, voxels, lapack_driver="gelsy")[0].T
        results["maps1024_raw"] = _diff(ours, theirs)
        print(json.dumps({"maps1024_raw": results["maps1024_raw"]}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
