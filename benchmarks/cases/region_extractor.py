"""RegionExtractor: 20 signed ICA-like maps on the run's grid, fit then transform.

The maps (``ica20_maps.nii.gz`` next to the run, written once, deterministic)
are 20 components on the MNI152 2 mm grid, zero outside the brain mask: each
is 4-7 signed Gaussian "network nodes" (FWHM 20-36 mm) over smooth signed
noise, scaled to unit variance in the brain, like z-scored ICA components.

Cases (default parameters: ratio_n_voxels 1.0, min_region_size 1350 mm3,
smoothing_fwhm 6 mm, which also smooths the run at transform as nilearn does):

- ``regions/<lib>-cc``: ``extractor="connected_components"``, ``fit()`` then
  ``transform(run)``;
- ``regions/<lib>-local``: ``extractor="local_regions"`` (random walker), the same;
- ``regions/<lib>-local-fit``: the local_regions ``fit()`` only (region split);
- ``regions/regionkit-local-fit-mg``: the same split through
  ``split_maps(random_walker_mode="cg_mg")`` (pyamg multigrid
  preconditioner, not RegionExtractor's default as it moves boundary voxels;
  skipped without pyamg);
- ``regions/regionkit-local-fit-cg``: the same with ``random_walker_mode="cg"``
  (nilearn's plain conjugate gradient, RegionExtractor's solver: nilearn's
  regions voxel for voxel).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from . import case

N_MAPS = 20
_SEED = 20261125


def _write_maps(mask_path: Path, out: Path) -> None:
    import nibabel as nib
    import numpy as np
    from scipy.ndimage import gaussian_filter

    mask_img = nib.load(mask_path)
    mask = np.asarray(mask_img.dataobj) != 0
    rng = np.random.default_rng(_SEED)
    inside = np.argwhere(mask)
    maps = np.zeros((*mask.shape, N_MAPS), dtype=np.float32)
    grid = np.indices(mask.shape, dtype=np.float32)
    for k in range(N_MAPS):
        volume = gaussian_filter(rng.standard_normal(mask.shape), 3.0)
        volume *= 0.2 / max(float(volume[mask].std()), 1e-12)
        for _ in range(rng.integers(4, 8)):
            center = inside[rng.integers(len(inside))]
            sigma = rng.uniform(20, 36) / 2.355 / 2.0  # FWHM mm -> sigma voxels (2 mm)
            sign = 1.0 if rng.random() < 0.8 else -1.0
            dist2 = sum((grid[a] - center[a]) ** 2 for a in range(3))
            volume += sign * rng.uniform(1.5, 3.0) * np.exp(-dist2 / (2 * sigma**2))
        volume[~mask] = 0
        maps[..., k] = volume / volume[mask].std()
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".nii.gz")
    os.close(fd)
    nib.save(nib.Nifti1Image(maps, mask_img.affine), tmp)
    os.replace(tmp, out)


def _maps(data) -> str:
    mask = Path(data["mask"])
    out = mask.parent / f"ica{N_MAPS}_maps_v3.nii.gz"
    if not out.is_file():
        _write_maps(mask, out)
    return str(out)


def _fit_transform(extractor_cls, data, extractor):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nilearn deprecation chatter
        model = extractor_cls(_maps(data), extractor=extractor).fit()
        signals = model.transform(data["bold"])
    return {"n_regions": int(model.regions_img_.shape[3]), "shape": list(signals.shape),
            "index": [int(i) for i in model.index_],
            "checksum": float(abs(signals).sum())}


def _fit(extractor_cls, data):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = extractor_cls(_maps(data), extractor="local_regions").fit()
    return {"n_regions": int(model.regions_img_.shape[3]),
            "index": [int(i) for i in model.index_]}


_CC = "RegionExtractor connected_components: fit + transform 300 vols"
_LOCAL = "RegionExtractor local_regions: fit + transform 300 vols"
_LOCAL_FIT = "RegionExtractor local_regions: fit only (20 maps)"


@case("regions/regionkit-cc", task=_CC, library="regionkit", reference="regions/nilearn-cc",
      imports=("regionkit.regions", "regionkit.maskers", "skimage.segmentation"))
def regionkit_cc(data):
    """regionkit RegionExtractor(extractor='connected_components').fit().transform(run)"""
    from regionkit.regions import RegionExtractor

    return _fit_transform(RegionExtractor, data, "connected_components")


@case("regions/nilearn-cc", task=_CC, library="nilearn", requires=("nilearn",),
      imports=("nilearn.regions", "nilearn.maskers"))
def nilearn_cc(data):
    """nilearn RegionExtractor(extractor='connected_components').fit().transform(run)"""
    from nilearn.regions import RegionExtractor

    return _fit_transform(RegionExtractor, data, "connected_components")


@case("regions/regionkit-local", task=_LOCAL, library="regionkit",
      reference="regions/nilearn-local",
      imports=("regionkit.regions", "regionkit.maskers", "skimage.segmentation"))
def regionkit_local(data):
    """regionkit RegionExtractor(extractor='local_regions').fit().transform(run)"""
    from regionkit.regions import RegionExtractor

    return _fit_transform(RegionExtractor, data, "local_regions")


@case("regions/nilearn-local", task=_LOCAL, library="nilearn", requires=("nilearn",),
      imports=("nilearn.regions", "nilearn.maskers"))
def nilearn_local(data):
    """nilearn RegionExtractor(extractor='local_regions').fit().transform(run)"""
    from nilearn.regions import RegionExtractor

    return _fit_transform(RegionExtractor, data, "local_regions")


@case("regions/regionkit-local-fit", task=_LOCAL_FIT, library="regionkit",
      reference="regions/nilearn-fitonly-local",
      imports=("regionkit.regions", "regionkit.maskers", "skimage.segmentation"))
def regionkit_local_fit(data):
    """regionkit RegionExtractor(extractor='local_regions').fit()"""
    from regionkit.regions import RegionExtractor

    return _fit(RegionExtractor, data)


@case("regions/nilearn-fitonly-local", task=_LOCAL_FIT, library="nilearn", requires=("nilearn",),
      imports=("nilearn.regions", "nilearn.maskers"))
def nilearn_local_fit(data):
    """nilearn RegionExtractor(extractor='local_regions').fit()"""
    from nilearn.regions import RegionExtractor

    return _fit(RegionExtractor, data)


@case("regions/regionkit-local-fit-mg", task=_LOCAL_FIT + ", pyamg", library="regionkit",
      reference="regions/regionkit-local-fit", requires=("pyamg",),
      imports=("regionkit.regions", "skimage.segmentation", "pyamg"))
def regionkit_local_fit_mg(data):
    """threshold_maps + split_maps(random_walker_mode='cg_mg')"""
    from regionkit.regions.region_extractor import split_maps, threshold_maps

    regions_img, index = split_maps(
        threshold_maps(_maps(data), 1.0), 1350, "local_regions", 6,
        random_walker_mode="cg_mg",
    )
    return {"n_regions": int(regions_img.shape[3]), "index": [int(i) for i in index]}


@case("regions/regionkit-local-fit-cg", task=_LOCAL_FIT + ", plain CG", library="regionkit",
      reference="regions/nilearn-fitonly-local",
      imports=("regionkit.regions", "skimage.segmentation"))
def regionkit_local_fit_cg(data):
    """threshold_maps + split_maps(random_walker_mode='cg') (nilearn's solver)"""
    from regionkit.regions.region_extractor import split_maps, threshold_maps

    regions_img, index = split_maps(
        threshold_maps(_maps(data), 1.0), 1350, "local_regions", 6,
        random_walker_mode="cg",
    )
    return {"n_regions": int(regions_img.shape[3]), "index": [int(i) for i in index]}
