"""Spheres maskers: regionkit against nilearn 0.14.1 and junifer 0.0.8.

Every case reads the generated 300-volume run (``data["bold"]``) and, where it
cleans, the fMRIPrep-style confounds TSV (``data["confounds"]``), loaded as users
do: ``pd.read_csv(sep="\\t")`` then ``fillna(0)`` (the first row of the
derivative columns is ``n/a``). Seeds come from each library's bundled
coordinates (identical arrays: Power 2011, Seitzman 2018, Dosenbach 2010).

Cases (regionkit / oracle, same task, same parameters):

- ``spheres/*-power264-clean``: Power 264, r=5 mm, detrend + band-pass
  0.01-0.1 Hz (t_r 2 s) + ``zscore_sample`` + the 24 confounds;
- ``spheres/*-seitzman300-r10``: Seitzman 300, r=10 mm, ``allow_overlap=True``,
  detrend + ``zscore_sample``;
- ``spheres/*-power264-median``: Power 264, r=5 mm, ``agg_func=np.median``, no
  cleaning; regionkit's ``JuniferNiftiSpheresMasker`` vs junifer's;
- ``spheres/*-three-atlases``: Power (r=5) + Seitzman (r=10, overlap) +
  Dosenbach (r=5), all cleaned as in the first case. regionkit:
  ``transform_many`` (one decode); nilearn: the run loaded once
  (``load_img`` + ``get_data``, its cheapest use) and three ``fit_transform``.

Each timed case returns its signals as arrays; the runner stores them outside
the timing and compares them with the oracle's (``compare_to``). When they
differ by more than rtol 1e-4, both are also compared with the float64
reference case named by ``exact`` (``spheres/float64-*``, run once, untimed):
nilearn's own sphere voxels (``apply_mask_and_get_affinity``), averaged (or
median) in float64, then ``nilearn.signal.clean`` on float64 signals.
"""

from __future__ import annotations

import numpy as np

from . import case

_T_R = 2.0
_CLEAN = {"detrend": True, "standardize": "zscore_sample", "low_pass": 0.1,
          "high_pass": 0.01, "t_r": _T_R}
_DETREND_Z = {"detrend": True, "standardize": "zscore_sample"}
_FLOOR = "floor/isal"

_TASK_CLEAN = "spheres: Power 264 r=5, detrend + band-pass + zscore + 24 confounds"
_TASK_SEITZMAN = "spheres: Seitzman 300 r=10 with overlap, detrend + zscore"
_TASK_MEDIAN = "spheres: Power 264 r=5, agg_func=np.median (junifer)"
_TASK_MANY = "spheres: Power + Seitzman + Dosenbach on one run, cleaned + confounds"


def _confounds(data):
    import pandas as pd

    return pd.read_csv(data["confounds"], sep="\t").fillna(0)


def _coarse(data) -> bool:
    """Whether the run is the 8 mm ``--quick`` grid, where a nearest-voxel
    sphere (r=5 < voxel size) of neighbouring seeds can share a voxel: the
    Power/Dosenbach cases then pass ``allow_overlap=True`` (same for both
    libraries). On the 2 mm run the r=5 spheres are disjoint."""
    import nibabel as nib

    return float(nib.load(data["bold"]).header.get_zooms()[0]) > 2.5


def _clean_params(data) -> dict:
    """``_CLEAN``, without the band-pass on runs too short for the Butterworth
    filter's padding (the 20-volume ``--quick`` run)."""
    import nibabel as nib

    if nib.load(data["bold"]).shape[-1] > 40:
        return dict(_CLEAN)
    return {k: v for k, v in _CLEAN.items() if k not in ("low_pass", "high_pass")}


def _regionkit_seeds(atlas):
    from regionkit import datasets

    loader = {"power": datasets.load_power_2011, "seitzman": datasets.load_seitzman_2018,
              "dosenbach": datasets.load_dosenbach_2010}[atlas]
    return np.asarray(loader().seeds, dtype=np.float64)


def _nilearn_seeds(atlas):
    from nilearn import datasets

    fetch = {"power": datasets.fetch_coords_power_2011,
             "seitzman": datasets.fetch_coords_seitzman_2018,
             "dosenbach": datasets.fetch_coords_dosenbach_2010}[atlas]
    rois = fetch().rois
    return np.column_stack([rois["x"], rois["y"], rois["z"]]).astype(np.float64)


# The three-atlas set: (atlas, radius, allow_overlap, array key).
_ATLASES = (("power", 5.0, False, "power"), ("seitzman", 10.0, True, "seitzman"),
            ("dosenbach", 5.0, False, "dosenbach"))


# ------------------------------------------------------------------ cleaned Power
@case("spheres/regionkit-power264-clean", task=_TASK_CLEAN, library="regionkit",
      reference="spheres/nilearn-power264-clean", imports=("regionkit.maskers", "pandas"),
      description="NiftiSpheresMasker(power, r=5, detrend, 0.01-0.1 Hz, zscore_sample)"
                  " + 24 confounds",
      compare_to="spheres/nilearn-power264-clean", floor=_FLOOR,
      exact="spheres/float64-power264-clean")
def regionkit_power_clean(data):
    from regionkit.maskers import NiftiSpheresMasker

    masker = NiftiSpheresMasker(_regionkit_seeds("power"), radius=5.0,
                                allow_overlap=_coarse(data), **_clean_params(data))
    return {"signals": masker.fit_transform(data["bold"], confounds=_confounds(data))}


@case("spheres/nilearn-power264-clean", task=_TASK_CLEAN, library="nilearn",
      requires=("nilearn",), imports=("nilearn.maskers", "pandas"),
      description="nilearn NiftiSpheresMasker, same parameters", floor=_FLOOR)
def nilearn_power_clean(data):
    from nilearn.maskers import NiftiSpheresMasker

    masker = NiftiSpheresMasker(_nilearn_seeds("power"), radius=5.0,
                                allow_overlap=_coarse(data), **_clean_params(data))
    return {"signals": masker.fit_transform(data["bold"], confounds=_confounds(data))}


# ------------------------------------------------------------- Seitzman, overlap
@case("spheres/regionkit-seitzman300-r10", task=_TASK_SEITZMAN, library="regionkit",
      reference="spheres/nilearn-seitzman300-r10", imports=("regionkit.maskers",),
      description="NiftiSpheresMasker(seitzman, r=10, allow_overlap=True, detrend,"
                  " zscore_sample)",
      compare_to="spheres/nilearn-seitzman300-r10", floor=_FLOOR,
      exact="spheres/float64-seitzman300-r10")
def regionkit_seitzman(data):
    from regionkit.maskers import NiftiSpheresMasker

    masker = NiftiSpheresMasker(_regionkit_seeds("seitzman"), radius=10.0,
                                allow_overlap=True, **_DETREND_Z)
    return {"signals": masker.fit_transform(data["bold"])}


@case("spheres/nilearn-seitzman300-r10", task=_TASK_SEITZMAN, library="nilearn",
      requires=("nilearn",), imports=("nilearn.maskers",),
      description="nilearn NiftiSpheresMasker, same parameters", floor=_FLOOR)
def nilearn_seitzman(data):
    from nilearn.maskers import NiftiSpheresMasker

    masker = NiftiSpheresMasker(_nilearn_seeds("seitzman"), radius=10.0,
                                allow_overlap=True, **_DETREND_Z)
    return {"signals": masker.fit_transform(data["bold"])}


# ------------------------------------------------------------- median (junifer)
@case("spheres/regionkit-power264-median", task=_TASK_MEDIAN, library="regionkit",
      reference="spheres/junifer-power264-median", imports=("regionkit.maskers",),
      description="regionkit JuniferNiftiSpheresMasker(power, r=5, agg_func=np.median)",
      compare_to="spheres/junifer-power264-median", floor=_FLOOR,
      exact="spheres/float64-power264-median")
def regionkit_median(data):
    from regionkit.maskers import JuniferNiftiSpheresMasker

    masker = JuniferNiftiSpheresMasker(_regionkit_seeds("power"), radius=5.0,
                                       agg_func=np.median, allow_overlap=_coarse(data))
    return {"signals": masker.fit_transform(data["bold"])}


@case("spheres/junifer-power264-median", task=_TASK_MEDIAN, library="junifer",
      requires=("junifer", "nilearn"), imports=("junifer.external.nilearn",),
      description="junifer 0.0.8 JuniferNiftiSpheresMasker, same parameters",
      floor=_FLOOR)
def junifer_median(data):
    from junifer.external.nilearn import JuniferNiftiSpheresMasker

    masker = JuniferNiftiSpheresMasker(_nilearn_seeds("power"), radius=5.0,
                                       agg_func=np.median, allow_overlap=_coarse(data))
    return {"signals": masker.fit_transform(data["bold"])}


# ---------------------------------------------------------- three atlases, one run
@case("spheres/regionkit-three-atlases", task=_TASK_MANY, library="regionkit",
      reference="spheres/nilearn-three-atlases", imports=("regionkit.maskers", "pandas"),
      description="transform_many([power r5, seitzman r10 overlap, dosenbach r5]):"
                  " one decode",
      compare_to="spheres/nilearn-three-atlases", floor=_FLOOR,
      exact="spheres/float64-three-atlases")
def regionkit_three(data):
    from regionkit.maskers import NiftiSpheresMasker, transform_many

    maskers = [
        NiftiSpheresMasker(_regionkit_seeds(atlas), radius=radius,
                           allow_overlap=overlap or _coarse(data), **_clean_params(data)).fit()
        for atlas, radius, overlap, _ in _ATLASES
    ]
    outputs = transform_many(maskers, data["bold"], confounds=_confounds(data))
    return {key: signals for (*_, key), signals in zip(_ATLASES, outputs)}


@case("spheres/nilearn-three-atlases", task=_TASK_MANY, library="nilearn",
      requires=("nilearn",), imports=("nilearn.maskers", "nilearn.image", "pandas"),
      description="run loaded once (load_img + get_data), three nilearn"
                  " NiftiSpheresMasker.fit_transform", floor=_FLOOR)
def nilearn_three(data):
    import nibabel as nib
    from nilearn.image import get_data, load_img
    from nilearn.maskers import NiftiSpheresMasker

    img = load_img(data["bold"])
    img = nib.Nifti1Image(get_data(img), img.affine, img.header)
    confounds = _confounds(data)
    return {
        key: NiftiSpheresMasker(_nilearn_seeds(atlas), radius=radius,
                                allow_overlap=overlap or _coarse(data), **_clean_params(data))
        .fit_transform(img, confounds=confounds)
        for atlas, radius, overlap, key in _ATLASES
    }


# --------------------------------------------------- float64 references (untimed)
def _float64_spheres(img, seeds, radius, overlap, aggregate):
    """nilearn's sphere voxels, aggregated in float64: (n_volumes, n_seeds)."""
    from nilearn.maskers.nifti_spheres_masker import apply_mask_and_get_affinity

    voxels, adjacency = apply_mask_and_get_affinity(seeds, img, radius, overlap)
    return np.column_stack([aggregate(voxels[:, row].astype(np.float64), axis=1)
                            for row in adjacency.rows])


def _float64_clean(signals, data, params):
    from nilearn.signal import clean

    confounds = None
    if data is not None:
        confounds = _confounds(data).to_numpy(dtype=np.float64)
    return clean(signals, confounds=confounds, standardize_confounds=True, **params)


def _load_once(data):
    import nibabel as nib
    from nilearn.image import get_data, load_img

    img = load_img(data["bold"])
    return nib.Nifti1Image(get_data(img), img.affine, img.header)


@case("spheres/float64-power264-clean", task=_TASK_CLEAN, library="float64",
      requires=("nilearn",), accuracy_only=True,
      description="nilearn's sphere voxels, float64 means + float64 clean")
def float64_power_clean(data):
    signals = _float64_spheres(_load_once(data), _nilearn_seeds("power"), 5.0,
                               _coarse(data), np.mean)
    return {"signals": _float64_clean(signals, data, _clean_params(data))}


@case("spheres/float64-seitzman300-r10", task=_TASK_SEITZMAN, library="float64",
      requires=("nilearn",), accuracy_only=True,
      description="nilearn's sphere voxels, float64 means + float64 clean")
def float64_seitzman(data):
    signals = _float64_spheres(_load_once(data), _nilearn_seeds("seitzman"), 10.0, True,
                               np.mean)
    return {"signals": _float64_clean(signals, None, _DETREND_Z)}


@case("spheres/float64-power264-median", task=_TASK_MEDIAN, library="float64",
      requires=("nilearn",), accuracy_only=True,
      description="nilearn's sphere voxels, float64 medians")
def float64_median(data):
    return {"signals": _float64_spheres(_load_once(data), _nilearn_seeds("power"), 5.0,
                                        _coarse(data), np.median)}


@case("spheres/float64-three-atlases", task=_TASK_MANY, library="float64",
      requires=("nilearn",), accuracy_only=True,
      description="nilearn's sphere voxels, float64 means + float64 clean, per atlas")
def float64_three(data):
    img = _load_once(data)
    return {
        key: _float64_clean(
            _float64_spheres(img, _nilearn_seeds(atlas), radius, overlap or _coarse(data),
                             np.mean),
            data, _clean_params(data))
        for atlas, radius, overlap, key in _ATLASES
    }
