"""Parcellations: fit + transform on four subjects, regionkit next to nilearn.

Issue 5's benchmark: four subjects x 100 volumes on the MNI 2 mm grid
(``python benchmarks/run.py -k parcellations --n-volumes 100``). Subject 1 is
the runner's run; subjects 2-4 are the same generator with seeds
``SEED + 1 .. SEED + 3`` (different network maps, noise and motion), written
once under ``<data dir>/parcellations-subjects/`` — prepare them before timing
with ``python -m benchmarks.cases.parcellations --n-volumes 100``.

Cases (``parcellations/<library>-<method>``): kmeans 100, ward 1000, rena 1000,
hierarchical_kmeans 100 parcels on the 2 mm grid; average 200 and complete 200
with ``target_affine`` at 4 mm (scikit-learn's constrained average linkage does
not finish in useful time at 2 mm). Each case writes its labels image to
``<data dir>/parcellations-labels/<library>-<method>.nii.gz`` so the agreement
(adjusted Rand index) can be computed afterwards
(``python -m benchmarks.cases.parcellations --ari``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import case

N_SUBJECTS = 4
_PLANS = {
    "kmeans": (100, False),
    "ward": (1000, False),
    "rena": (1000, False),
    "hierarchical_kmeans": (100, False),
    "average": (200, True),
    "complete": (200, True),
}


def _target_affine():
    import numpy as np

    affine = np.diag([-4.0, 4.0, 4.0, 1.0])
    affine[:3, 3] = [90.0, -126.0, -72.0]
    return affine, (46, 55, 46)


def subject_paths(data, create: bool = True) -> list[str]:
    """The four runs: the runner's run, then three more seeds of the generator."""
    from benchmarks import generate_data

    bold = Path(data["bold"])
    root = bold.parent / "parcellations-subjects"
    paths = [str(bold)]
    n_volumes = int(__import__("nibabel").load(str(bold)).shape[3])
    quick = "quick" in bold.parent.name
    for index in range(1, N_SUBJECTS):
        out_dir = root / f"sub-{index + 1:02d}"
        manifest = out_dir / generate_data.MANIFEST_NAME
        if not manifest.exists():
            if not create:
                raise FileNotFoundError(f"{out_dir} missing: run python -m benchmarks.cases.parcellations first")
            seed = generate_data.SEED
            generate_data.SEED = seed + index
            try:
                generate_data.generate(out_dir, n_volumes=n_volumes, quick=quick)
            finally:
                generate_data.SEED = seed
        paths.append(str(out_dir / generate_data.BOLD_NAME))
    return paths


def _labels_path(data, name: str) -> Path:
    folder = Path(data["bold"]).parent / "parcellations-labels"
    folder.mkdir(exist_ok=True)
    return folder / f"{name}.nii.gz"


def _kwargs(method: str) -> dict:
    n_parcels, coarse = _PLANS[method]
    kwargs = {"method": method, "n_parcels": n_parcels}
    if coarse:
        kwargs["target_affine"], kwargs["target_shape"] = _target_affine()
    return kwargs


def _run(cls, data, method: str, library: str) -> dict:
    import warnings

    import nibabel as nib

    imgs = subject_paths(data, create=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parcellations = cls(**_kwargs(method))
        signals = parcellations.fit_transform(imgs)
    nib.save(parcellations.labels_img_, _labels_path(data, f"{library}-{method}"))
    return {"n_signals": len(signals), "shape": list(signals[0].shape),
            "n_parcels": int(parcellations.n_elements_)}


def _register(method: str) -> None:
    task = f"parcellations {method} {_PLANS[method][0]}, 4 x 100 vols" + (" (4 mm)" if _PLANS[method][1] else "")

    @case(f"parcellations/regionkit-{method}", task=task, library="regionkit",
          reference=f"parcellations/nilearn-{method}", imports=("regionkit.regions",))
    def regionkit_case(data):
        from regionkit.regions import Parcellations

        return _run(Parcellations, data, method, "regionkit")

    @case(f"parcellations/nilearn-{method}", task=task, library="nilearn",
          requires=("nilearn",), imports=("nilearn.regions",))
    def nilearn_case(data):
        from nilearn.regions import Parcellations

        return _run(Parcellations, data, method, "nilearn")


for _method in _PLANS:
    _register(_method)


def agreement(data) -> dict:
    """Adjusted Rand index between the two libraries' labels, per method."""
    import nibabel as nib
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    scores = {}
    for method in _PLANS:
        ours, theirs = _labels_path(data, f"regionkit-{method}"), _labels_path(data, f"nilearn-{method}")
        if not (ours.exists() and theirs.exists()):
            continue
        a = np.asarray(nib.load(str(ours)).dataobj)
        b = np.asarray(nib.load(str(theirs)).dataobj)
        inside = (a > 0) | (b > 0)
        scores[method] = float(adjusted_rand_score(a[inside], b[inside]))
    return scores


def main(argv=None) -> int:
    """Prepare the subjects (default) or print the agreement (``--ari``)."""
    from benchmarks import generate_data

    parser = argparse.ArgumentParser(description="prepare parcellation benchmark subjects")
    parser.add_argument("--n-volumes", type=int, default=100)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--ari", action="store_true")
    args = parser.parse_args(argv)
    n_volumes = 20 if args.quick else args.n_volumes
    manifest = generate_data.generate(generate_data.default_dir(n_volumes, args.quick), n_volumes=n_volumes,
                                      quick=args.quick)
    data = manifest["files"]
    if args.ari:
        for method, score in agreement(data).items():
            sys.stdout.write(f"{method:20s} ARI {score:.4f}\n")
        return 0
    sys.stdout.write("\n".join(subject_paths(data)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
