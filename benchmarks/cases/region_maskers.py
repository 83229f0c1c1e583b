"""Labels, maps and Nifti maskers: regionkit against nilearn 0.14.1 on the benchmark run.

Atlases are built once, deterministically, next to the run (``atlases/`` in the
data folder; see :func:`atlas_paths`) and reused by every repeat and both
libraries:

- ``labels-400``: 400 Voronoi parcels of the brain mask around seeded points,
  int16 labels drawn from 1..1000 (so values above 127 and 255 occur);
- ``maps-64`` / ``maps-1024``: smooth probabilistic maps, Gaussian blobs
  (sigma 12 mm / 5 mm) centred on seeded brain points, zero below 1 % of the
  peak and outside the brain mask; 4D float32.

Cases (each ``fit_transform`` on the 300-volume run, detrend + z-score for the
region maskers):

- ``maskers/{regionkit,nilearn}-labels400``: mean signals of the 400 parcels;
- ``maskers/{regionkit,nilearn}-maps64`` and ``-maps1024``: least-squares
  signals of the maps;
- ``maskers/{regionkit,nilearn}-niftimasker``: every voxel of the brain mask.

``benchmarks/compare_region_maskers.py`` checks the outputs against each other
(max abs difference) outside the timed runs; it also builds the atlases.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from . import case

_SEED = 20251125
_PARAMS = {"detrend": True, "standardize": "zscore_sample"}


def _brain_mask(data):
    import nibabel as nib

    mask_img = nib.load(data["mask"])
    return np.asarray(mask_img.dataobj) > 0, mask_img.affine


def _atomic_save(img, path: Path) -> None:
    import nibabel as nib

    handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".nii.gz")
    os.close(handle)
    nib.save(img, tmp)
    os.replace(tmp, path)


def _seeds(mask, n, rng):
    inside = np.argwhere(mask)
    return inside[rng.choice(len(inside), size=n, replace=False)].astype(np.float64)


def _make_labels(mask, affine, n_regions=400):
    import nibabel as nib
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(_SEED)
    seeds = _seeds(mask, n_regions, rng)
    values = rng.choice(np.arange(1, 1001), size=n_regions, replace=False).astype(np.int16)
    inside = np.argwhere(mask)
    _, nearest = cKDTree(seeds).query(inside)
    labels = np.zeros(mask.shape, dtype=np.int16)
    labels[tuple(inside.T)] = values[nearest]
    img = nib.Nifti1Image(labels, affine)
    img.set_data_dtype(np.int16)
    return img


def _make_maps(mask, affine, n_maps, sigma_mm):
    import nibabel as nib

    rng = np.random.default_rng(_SEED + n_maps)
    seeds = _seeds(mask, n_maps, rng)
    voxel = float(abs(affine[0, 0]))
    sigma = sigma_mm / voxel
    radius = int(np.ceil(3 * sigma))
    maps = np.zeros((*mask.shape, n_maps), dtype=np.float32)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(
        -(offsets[:, None, None] ** 2 + offsets[None, :, None] ** 2 + offsets[None, None, :] ** 2)
        / (2 * sigma**2)
    )
    kernel[kernel < 0.01] = 0
    for index, (i, j, k) in enumerate(seeds.astype(int)):
        box = tuple(
            slice(max(c - radius, 0), min(c + radius + 1, s))
            for c, s in zip((i, j, k), mask.shape)
        )
        kbox = tuple(
            slice(b.start - (c - radius), b.stop - (c - radius))
            for b, c in zip(box, (i, j, k))
        )
        maps[(*box, index)] = kernel[kbox] * mask[box]
    return nib.Nifti1Image(maps, affine)


def atlas_paths(data) -> dict:
    """Paths of the benchmark atlases, built (once) next to the run."""
    root = Path(data["bold"]).resolve().parent / "atlases"
    root.mkdir(exist_ok=True)
    paths = {
        "labels400": root / "labels-400_int16.nii.gz",
        "maps64": root / "maps-64.nii.gz",
        "maps1024": root / "maps-1024.nii.gz",
    }
    if all(p.is_file() for p in paths.values()):
        return paths
    mask, affine = _brain_mask(data)
    if not paths["labels400"].is_file():
        _atomic_save(_make_labels(mask, affine), paths["labels400"])
    if not paths["maps64"].is_file():
        _atomic_save(_make_maps(mask, affine, 64, 12.0), paths["maps64"])
    if not paths["maps1024"].is_file():
        _atomic_save(_make_maps(mask, affine, 1024, 5.0), paths["maps1024"])
    return paths


def _summary(signals):
    signals = np.asarray(signals)
    # np.sum with a float64 accumulator casts in small buffers (nansum would
    # copy the whole, possibly voxel-sized, output and inflate the peak RSS)
    return {"shape": list(signals.shape), "sum": float(np.sum(signals, dtype=np.float64))}


# ------------------------------------------------------------------- labels
_LABELS = "labels masker, 400-region int16 atlas, detrend+zscore, 300 vols"


@case("maskers/regionkit-labels400", task=_LABELS, library="regionkit",
      reference="maskers/nilearn-labels400", imports=("regionkit.maskers",),
      description="regionkit NiftiLabelsMasker(400 int16 parcels, detrend, zscore_sample)")
def regionkit_labels(data):
    from regionkit.maskers import NiftiLabelsMasker

    atlas = atlas_paths(data)["labels400"]
    return _summary(NiftiLabelsMasker(atlas, **_PARAMS).fit_transform(data["bold"]))


@case("maskers/nilearn-labels400", task=_LABELS, library="nilearn",
      requires=("nilearn",), imports=("nilearn.maskers",),
      description="nilearn NiftiLabelsMasker, same parameters")
def nilearn_labels(data):
    from nilearn.maskers import NiftiLabelsMasker

    atlas = atlas_paths(data)["labels400"]
    return _summary(NiftiLabelsMasker(atlas, **_PARAMS).fit_transform(data["bold"]))


# --------------------------------------------------------------------- maps
def _maps_cases(key, n_maps):
    task = f"maps masker, {n_maps} smooth probabilistic maps, detrend+zscore, 300 vols"

    @case(f"maskers/regionkit-{key}", task=task, library="regionkit",
          reference=f"maskers/nilearn-{key}", imports=("regionkit.maskers",),
          description=f"regionkit NiftiMapsMasker({n_maps} maps, detrend, zscore_sample)")
    def regionkit_maps(data):
        from regionkit.maskers import NiftiMapsMasker

        atlas = atlas_paths(data)[key]
        return _summary(NiftiMapsMasker(atlas, **_PARAMS).fit_transform(data["bold"]))

    @case(f"maskers/nilearn-{key}", task=task, library="nilearn",
          requires=("nilearn",), imports=("nilearn.maskers",),
          description="nilearn NiftiMapsMasker, same parameters")
    def nilearn_maps(data):
        from nilearn.maskers import NiftiMapsMasker

        atlas = atlas_paths(data)[key]
        return _summary(NiftiMapsMasker(atlas, **_PARAMS).fit_transform(data["bold"]))

    return regionkit_maps, nilearn_maps


regionkit_maps64, nilearn_maps64 = _maps_cases("maps64", 64)
regionkit_maps1024, nilearn_maps1024 = _maps_cases("maps1024", 1024)


# -------------------------------------------------------------- NiftiMasker
_NIFTI = "NiftiMasker with the brain mask (278k voxels), 300 vols"


@case("maskers/regionkit-niftimasker", task=_NIFTI, library="regionkit",
      reference="maskers/nilearn-niftimasker", imports=("regionkit.maskers",),
      description="regionkit NiftiMasker(mask_img=brain mask).fit_transform(run)")
def regionkit_niftimasker(data):
    from regionkit.maskers import NiftiMasker

    return _summary(NiftiMasker(mask_img=data["mask"]).fit_transform(data["bold"]))


@case("maskers/nilearn-niftimasker", task=_NIFTI, library="nilearn",
      requires=("nilearn",), imports=("nilearn.maskers",),
      description="nilearn NiftiMasker, same mask")
def nilearn_niftimasker(data):
    from nilearn.maskers import NiftiMasker

    return _summary(NiftiMasker(mask_img=data["mask"]).fit_transform(data["bold"]))
