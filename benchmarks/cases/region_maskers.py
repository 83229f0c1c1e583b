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

Each timed case returns its signals as arrays; the runner compares them with
nilearn's (``compare_to``) outside the timing and, when they differ by more than
rtol 1e-4, compares both with the float64 reference (``maskers/float64-*``,
untimed): float64 label means / float64 ``scipy.linalg.lstsq`` on the maps'
support, then ``nilearn.signal.clean`` in float64.
``benchmarks/compare_region_maskers.py`` does the same comparison in one process
(and builds the atlases).
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


_FLOOR = "floor/isal"


def _summary(signals):
    """The signals as an array output (stored and compared by the runner, untimed)."""
    return {"signals": np.asarray(signals)}


def _float64_clean(signals):
    from nilearn.signal import clean

    return clean(signals.astype(np.float64), **_PARAMS)


def _float64_bold(data, voxels):
    """(n_volumes, n_voxels) float64 time series of the boolean-mask voxels."""
    import nibabel as nib

    bold = nib.load(data["bold"])
    columns = []
    for start in range(0, bold.shape[3], 50):
        chunk = np.asarray(bold.dataobj[..., start : start + 50], dtype=np.float64)
        columns.append(chunk[voxels].T)
    return np.vstack(columns)


# ------------------------------------------------------------------- labels
_LABELS = "labels masker, 400-region int16 atlas, detrend+zscore, 300 vols"


@case("maskers/regionkit-labels400", task=_LABELS, library="regionkit",
      reference="maskers/nilearn-labels400", imports=("regionkit.maskers",),
      description="regionkit NiftiLabelsMasker(400 int16 parcels, detrend, zscore_sample)",
      compare_to="maskers/nilearn-labels400", floor=_FLOOR,
      exact="maskers/float64-labels400")
def regionkit_labels(data):
    from regionkit.maskers import NiftiLabelsMasker

    atlas = atlas_paths(data)["labels400"]
    return _summary(NiftiLabelsMasker(atlas, **_PARAMS).fit_transform(data["bold"]))


@case("maskers/nilearn-labels400", task=_LABELS, library="nilearn",
      requires=("nilearn",), imports=("nilearn.maskers",),
      description="nilearn NiftiLabelsMasker, same parameters", floor=_FLOOR)
def nilearn_labels(data):
    from nilearn.maskers import NiftiLabelsMasker

    atlas = atlas_paths(data)["labels400"]
    return _summary(NiftiLabelsMasker(atlas, **_PARAMS).fit_transform(data["bold"]))


@case("maskers/float64-labels400", task=_LABELS, library="float64", accuracy_only=True,
      requires=("nilearn",), description="float64 label means + float64 clean")
def float64_labels(data):
    import nibabel as nib

    labels = np.asarray(nib.load(atlas_paths(data)["labels400"]).dataobj)
    ids = np.unique(labels[labels != 0])
    voxels = labels != 0
    series = _float64_bold(data, voxels)
    owner = np.searchsorted(ids, labels[voxels])
    sums = np.zeros((series.shape[0], ids.size))
    np.add.at(sums.T, owner, series.T)
    means = sums / np.bincount(owner, minlength=ids.size)
    return {"signals": _float64_clean(means)}


# --------------------------------------------------------------------- maps
def _maps_cases(key, n_maps):
    task = f"maps masker, {n_maps} smooth probabilistic maps, detrend+zscore, 300 vols"

    @case(f"maskers/regionkit-{key}", task=task, library="regionkit",
          reference=f"maskers/nilearn-{key}", imports=("regionkit.maskers",),
          description=f"regionkit NiftiMapsMasker({n_maps} maps, detrend, zscore_sample)",
          compare_to=f"maskers/nilearn-{key}", floor=_FLOOR,
          exact=f"maskers/float64-{key}")
    def regionkit_maps(data):
        from regionkit.maskers import NiftiMapsMasker

        atlas = atlas_paths(data)[key]
        return _summary(NiftiMapsMasker(atlas, **_PARAMS).fit_transform(data["bold"]))

    @case(f"maskers/nilearn-{key}", task=task, library="nilearn",
          requires=("nilearn",), imports=("nilearn.maskers",),
          description="nilearn NiftiMapsMasker, same parameters", floor=_FLOOR)
    def nilearn_maps(data):
        from nilearn.maskers import NiftiMapsMasker

        atlas = atlas_paths(data)[key]
        return _summary(NiftiMapsMasker(atlas, **_PARAMS).fit_transform(data["bold"]))

    @case(f"maskers/float64-{key}", task=task, library="float64", accuracy_only=True,
          requires=("nilearn",),
          description="float64 scipy.linalg.lstsq on the maps' support + float64 clean")
    def float64_maps(data):
        import nibabel as nib
        from scipy import linalg

        maps = np.asarray(nib.load(atlas_paths(data)[key]).dataobj, dtype=np.float32)
        support = maps.any(axis=-1)
        matrix = maps[support].astype(np.float64)
        del maps
        series = _float64_bold(data, support)
        signals = linalg.lstsq(matrix, series.T, lapack_driver="gelsy")[0].T
        return {"signals": _float64_clean(signals)}

    return regionkit_maps, nilearn_maps, float64_maps


regionkit_maps64, nilearn_maps64, float64_maps64 = _maps_cases("maps64", 64)
regionkit_maps1024, nilearn_maps1024, float64_maps1024 = _maps_cases("maps1024", 1024)


# -------------------------------------------------------------- NiftiMasker
_NIFTI = "NiftiMasker with the brain mask (278k voxels), 300 vols"


@case("maskers/regionkit-niftimasker", task=_NIFTI, library="regionkit",
      reference="maskers/nilearn-niftimasker", imports=("regionkit.maskers",),
      description="regionkit NiftiMasker(mask_img=brain mask).fit_transform(run)",
      compare_to="maskers/nilearn-niftimasker", floor=_FLOOR)
def regionkit_niftimasker(data):
    from regionkit.maskers import NiftiMasker

    return _summary(NiftiMasker(mask_img=data["mask"]).fit_transform(data["bold"]))


@case("maskers/nilearn-niftimasker", task=_NIFTI, library="nilearn",
      requires=("nilearn",), imports=("nilearn.maskers",),
      description="nilearn NiftiMasker, same mask", floor=_FLOOR)
def nilearn_niftimasker(data):
    from nilearn.maskers import NiftiMasker

    return _summary(NiftiMasker(mask_img=data["mask"]).fit_transform(data["bold"]))
