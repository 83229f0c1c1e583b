"""Split brain maps into separate regions, then extract one signal per region.

Outline (the order ``RegionExtractor.fit`` follows):

* :func:`threshold_maps` - keep the strong voxels of every map, by one of three
  strategies (``"ratio_n_voxels"``, ``"img_value"``, ``"percentile"``);
* :func:`~regionkit.regions.connected_regions` - split each thresholded map
  into connected regions (components, or a random walker seeded at peaks),
  dropping the regions under ``min_region_size`` mm3;
* :class:`~regionkit.maskers.NiftiMapsMasker` fitted on the regions - it does
  all the signal work (``transform``, ``inverse_transform``), with the
  cleaning parameters given here.

Behaviour follows ``nilearn.regions.RegionExtractor`` 0.14.1, except where
nilearn crashes or mutates itself: a fit where no region survives raises a
``ValueError`` that says why, and ``fit`` never changes ``threshold``.
"""

from __future__ import annotations

import logging
from typing import Any

import nibabel as nib
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._fit_record import records_fit
from .._validation import Interval, Options, check_parameter, validate_params
from ..image import check_niimg, get_data, new_img_like, threshold_img
from ..maskers import NiftiMapsMasker
from ._connected import (
    EXTRACT_TYPES,
    _keep_large_regions,
    _load_mask_for,
    split_map,
)

__all__ = ["RegionExtractor", "SparseRegions", "split_maps", "threshold_maps"]

logger = logging.getLogger(__name__)

THRESHOLDING_STRATEGIES = ("ratio_n_voxels", "img_value", "percentile")

# Parameters handed unchanged to the NiftiMapsMasker fitted on the regions.
_MASKER_PARAMETERS = (
    "mask_img",
    "allow_overlap",
    "smoothing_fwhm",
    "standardize",
    "standardize_confounds",
    "high_variance_confounds",
    "detrend",
    "low_pass",
    "high_pass",
    "t_r",
    "dtype",
    "resampling_target",
    "keep_masked_maps",
    "memory",
    "memory_level",
    "verbose",
    "reports",
    "cmap",
    "clean_args",
)


# --------------------------------------------------------------------------
# Thresholding
# --------------------------------------------------------------------------
def _check_threshold(threshold: Any, strategy: str, two_sided: bool, n_maps: int,
                     owner: str) -> None:
    """Raise, before reading any voxel, if ``threshold`` does not fit ``strategy``."""
    check_parameter("threshold", threshold, [Interval("real", None, None)], owner)
    if strategy == "ratio_n_voxels":
        check_parameter(
            "threshold", threshold,
            [Interval("real", 0, n_maps, closed="right")],
            f"{owner} with thresholding_strategy='ratio_n_voxels' and {n_maps} maps "
            "(a ratio of the number of voxels of one map)",
        )
    elif strategy == "percentile":
        check_parameter(
            "threshold", threshold, [Interval("real", 0, 100)],
            f"{owner} with thresholding_strategy='percentile'",
        )
    elif two_sided:
        check_parameter(
            "threshold", threshold, [Interval("real", 0, None)],
            f"{owner} with thresholding_strategy='img_value' and two_sided=True "
            "(a value compared with |map|)",
        )


def _score_at_percentile(values: np.ndarray, n_zeros: int, percentile: float) -> np.float64:
    """``scipy.stats.scoreatpercentile`` of ``values`` plus ``n_zeros`` zeros.

    Same interpolation and the same float64 arithmetic as scipy, so the cutoff
    is bit-identical, but by partial partition instead of a full sort, and
    without materialising the zeros. ``values`` must be >= 0 and non-zero.
    """
    n_total = values.size + n_zeros
    position = percentile / 100.0 * (n_total - 1)
    low = int(position)

    def order_statistic(k: int):
        if k < n_zeros:
            return values.dtype.type(0)
        k -= n_zeros
        return np.partition(values, k)[k]

    if low == position:
        return np.float64(order_statistic(low))
    high = low + 1
    if low >= n_zeros:
        pair = np.partition(values, (low - n_zeros, high - n_zeros))[
            [low - n_zeros, high - n_zeros]
        ]
    else:
        pair = np.array([order_statistic(low), order_statistic(high)], dtype=values.dtype)
    weights = np.array([high - position, position - low], dtype=float)
    return np.add.reduce(pair * weights) / weights.sum()


def _threshold_ratio(maps: np.ndarray, ratio: float) -> np.ndarray:
    """Keep the ``ratio * n_voxels_per_map`` strongest |values| over all maps.

    ``maps`` (4D, finite) is modified in place and returned.
    """
    n_maps = maps.shape[-1]
    magnitudes = np.abs(maps[maps != 0])
    n_zeros = maps.size - magnitudes.size
    cutoff = _score_at_percentile(magnitudes, n_zeros, 100.0 - (100.0 / n_maps) * ratio)
    del magnitudes
    logger.debug("ratio_n_voxels=%s: |value| cutoff %s", ratio, cutoff)
    for k in range(n_maps):  # one map at a time: no 4D boolean temporary
        volume = maps[..., k]
        volume[np.abs(volume) < cutoff] = 0
    return maps


def threshold_maps(
    maps_img: Any,
    threshold: float = 1.0,
    thresholding_strategy: str = "ratio_n_voxels",
    two_sided: bool = False,
    mask_img: Any = None,
) -> nib.Nifti1Image:
    """Zero the weak voxels of a 4D maps image, as ``RegionExtractor`` does.

    Parameters
    ----------
    maps_img : Niimg-like, 4D
        One map per volume.
    threshold : float, default=1.0
        Meaning set by ``thresholding_strategy``.
    thresholding_strategy : {"ratio_n_voxels", "img_value", "percentile"}
        ``"ratio_n_voxels"``: keep, over all maps together, the ``threshold x
        n_voxels`` voxels of largest ``|value|`` (``n_voxels`` the voxels of one
        volume; ``0 < threshold <= n_maps``), both signs whatever
        ``two_sided``, the mask not used. ``"img_value"``: keep ``|value| >=
        threshold`` (two-sided) or ``value >= threshold`` (one-sided; ``value
        <= threshold`` for a negative one). ``"percentile"``: the cutoff is
        that percentile (0-100) of the masked values (of ``|value|`` if
        two-sided, of the values >= 0 otherwise), as
        :func:`regionkit.image.threshold_img` with ``"<threshold>%"``.
    two_sided : bool, default=False
        Keep strong negative values too (``"img_value"``/``"percentile"``).
    mask_img : Niimg-like, optional
        3D mask: voxels outside are zeroed and ignored by the percentile
        (``"img_value"``/``"percentile"`` only, as nilearn).

    Returns
    -------
    thresholded : nibabel.Nifti1Image
        Same grid and dtype as ``maps_img``; NaN/inf are 0.

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> maps = np.arange(-4, 4, dtype="float32").reshape(2, 2, 2, 1)
    >>> out = threshold_maps(nib.Nifti1Image(maps, np.eye(4)), 2.5, "img_value", True)
    >>> np.asarray(out.dataobj).ravel().tolist()
    [-4.0, -3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0]
    """
    owner = "threshold_maps"
    check_parameter("thresholding_strategy", thresholding_strategy,
                    [Options(THRESHOLDING_STRATEGIES)], owner)
    check_parameter("two_sided", two_sided, ["boolean"], owner)
    maps_img = check_niimg(maps_img, ensure_ndim=4, name="maps_img")
    _check_threshold(threshold, thresholding_strategy, two_sided, maps_img.shape[3], owner)
    if thresholding_strategy != "ratio_n_voxels":
        value = f"{threshold}%" if thresholding_strategy == "percentile" else threshold
        return threshold_img(maps_img, threshold=value, two_sided=two_sided,
                             mask_img=mask_img, copy=True)
    maps = np.array(get_data(maps_img), copy=True)
    if maps.dtype.kind == "f":
        maps[~np.isfinite(maps)] = 0
    return new_img_like(maps_img, _threshold_ratio(maps, threshold), maps_img.affine)


# --------------------------------------------------------------------------
# Region split, kept sparse
# --------------------------------------------------------------------------
class SparseRegions:
    """Read-only 4D array-like of regions, stored as voxel lists.

    The data object of ``RegionExtractor.regions_img_``: one volume per
    region, zero outside it. Hundreds of regions on a 2 mm grid would take
    gigabytes as a dense array; here each region costs its voxels only, and
    a volume is built when it is read (``dataobj[..., k]``,
    ``dataobj[..., k0:k1]``). ``np.asarray(dataobj)``, ``img.get_fdata()``
    and ``nibabel.save`` build the dense array (nibabel treats the object as
    a proxy, like a file-backed image's).

    Parameters
    ----------
    shape : tuple of 3 int
        Grid shape.
    voxels : list of ndarray of int64
        Per region, flat Fortran-order (NIfTI on-disk order) indices of its
        voxels in the grid.
    values : list of ndarray
        Per region, the map's values on those voxels (same dtype for all).
    dtype : dtype
    """

    is_proxy = True

    def __init__(self, shape, voxels, values, dtype):
        self._grid = tuple(int(n) for n in shape)
        self._voxels = list(voxels)
        self._values = list(values)
        self.dtype = np.dtype(dtype)
        self.shape = (*self._grid, len(self._voxels))
        self.ndim = 4

    @property
    def n_voxels(self) -> np.ndarray:
        """Voxels in each region."""
        return np.asarray([v.size for v in self._voxels], dtype=np.int64)

    def _volumes(self, regions, dtype=None) -> np.ndarray:
        regions = list(regions)
        # Fortran order, as nibabel reads NIfTI files: the streaming reader
        # and the maskers take such volumes without a transposing copy.
        out = np.zeros((*self._grid, len(regions)), dtype=dtype or self.dtype, order="F")
        flat = out.reshape(-1, len(regions), order="F")  # a view
        for column, region in enumerate(regions):
            flat[self._voxels[region], column] = self._values[region]
        return out

    def __array__(self, dtype=None, copy=None):
        return self._volumes(range(self.shape[3]), dtype)

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        spatial_all = (
            len(key) == 2 and key[0] is Ellipsis
        ) or (
            len(key) == 4 and all(isinstance(k, slice) and k == slice(None) for k in key[:3])
        )
        last = key[-1]
        if spatial_all and isinstance(last, (int, np.integer)):
            return self._volumes([range(self.shape[3])[last]])[..., 0]
        if spatial_all and isinstance(last, slice):
            return self._volumes(range(self.shape[3])[last])
        return np.asarray(self)[key]


def split_maps(
    maps_img: Any,
    min_region_size: float = 1350,
    extract_type: str = "local_regions",
    smoothing_fwhm: Any = 6,
    mask_img: Any = None,
    *,
    random_walker_mode: str | None = None,
) -> tuple[nib.Nifti1Image | None, np.ndarray]:
    """:func:`~regionkit.regions.connected_regions`, with a sparse result.

    Same regions, same order, same values and index as ``connected_regions``
    (hence nilearn's), but the 4D image is backed by :class:`SparseRegions`.
    ``random_walker_mode`` (keyword only) is passed to
    :func:`~regionkit.regions._connected.split_map` when given; None keeps
    its default.

    Returns
    -------
    regions_img : nibabel.Nifti1Image or None
        None when no region is larger than ``min_region_size`` mm3.
    index : ndarray of intp
        The map each region comes from.
    """
    owner = "split_maps"
    check_parameter("min_region_size", min_region_size, [Interval("real", 0, None)], owner)
    check_parameter("extract_type", extract_type, [Options(EXTRACT_TYPES)], owner)
    maps_img = check_niimg(maps_img, ensure_ndim=4, name="maps_img")
    affine = maps_img.affine
    min_voxels = min_region_size / abs(np.linalg.det(affine[:3, :3]))
    mask = None if mask_img is None else _load_mask_for(mask_img, maps_img)
    maps = get_data(maps_img)
    walker = {} if random_walker_mode is None else {"mode": random_walker_mode}
    voxels: list[np.ndarray] = []
    values: list[np.ndarray] = []
    index: list[int] = []
    for map_index in range(maps.shape[3]):
        map_3d = np.array(maps[..., map_index])
        if mask is not None:
            map_3d[~mask] = 0
        labels = split_map(map_3d, affine, extract_type, smoothing_fwhm, **walker)
        kept = _keep_large_regions(labels, min_voxels)
        if not kept:
            continue
        flat_labels = labels.ravel(order="F")
        in_region = np.flatnonzero(flat_labels)
        order = np.argsort(flat_labels[in_region], kind="stable")
        in_region = in_region[order]
        sorted_labels = flat_labels[in_region]
        starts = np.searchsorted(sorted_labels, kept, side="left")
        stops = np.searchsorted(sorted_labels, kept, side="right")
        flat_map = map_3d.ravel(order="F")
        for start, stop in zip(starts, stops):
            region_voxels = in_region[start:stop].astype(np.int64)
            voxels.append(region_voxels)
            values.append(flat_map[region_voxels])
        index.extend([map_index] * len(kept))
        logger.debug("map %d: %d regions kept", map_index, len(kept))
    if not voxels:
        return None, np.zeros(0, dtype=np.intp)
    dtype = maps.dtype
    header = maps_img.header.copy()
    header.set_data_dtype(dtype)
    proxy = SparseRegions(maps.shape[:3], voxels, values, dtype)
    return nib.Nifti1Image(proxy, affine, header=header), np.asarray(index, dtype=np.intp)


# --------------------------------------------------------------------------
# Estimator
# --------------------------------------------------------------------------
def _random_walker_mode() -> str:
    """nilearn's solver (plain conjugate gradient): same regions and index_."""
    return "cg"


def _binary_mask_img(mask_img: Any) -> nib.Nifti1Image | None:
    """nilearn's mask rule: 3D, or 4D reduced by "all volumes non-zero"."""
    if mask_img is None:
        return None
    mask_img = check_niimg(mask_img, name="mask_img")
    data = np.asarray(mask_img.dataobj)
    if data.ndim == 4:
        data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0).astype(bool).all(axis=3)
    elif data.ndim != 3:
        raise ValueError(
            f"mask_img must be a 3D image, got a {data.ndim}D image of shape {data.shape}"
        )
    mask = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0).astype(bool)
    if not mask.any():
        raise ValueError(
            f"mask_img is empty: it holds no non-zero voxel (shape {mask.shape}); "
            "expected at least one voxel in the mask."
        )
    return nib.Nifti1Image(mask.astype(np.int8), mask_img.affine)


class RegionExtractor(TransformerMixin, BaseEstimator):
    """Split maps into separate regions and extract one signal per region.

    Each map of ``maps_img`` (e.g. an ICA component or a probabilistic atlas
    map) is thresholded, then split into spatially separate regions; regions
    smaller than ``min_region_size`` are dropped. Signals are then extracted
    from the regions (one map per region) by least squares, as
    :class:`~regionkit.maskers.NiftiMapsMasker` does (see Abraham et al.,
    2014, "Region segmentation for sparse decompositions").

    Parameters
    ----------
    maps_img : Niimg-like, 4D
        One map per volume.
    mask_img : Niimg-like, optional
        Voxels outside are ignored: by the thresholding (``"img_value"``,
        ``"percentile"``), by the region split, and by the masker.
    min_region_size : float, default=1350
        Regions of at most this volume (mm3) are dropped (1350 mm3 is 50
        voxels of 3 mm, 169 of 2 mm).
    threshold : float, default=1.0
        Read according to ``thresholding_strategy``.
    thresholding_strategy : {"ratio_n_voxels", "img_value", "percentile"}, \
default="ratio_n_voxels"
        See :func:`threshold_maps`: ``"ratio_n_voxels"`` keeps the ``threshold
        x n_voxels`` strongest voxels over all maps together (``0 < threshold
        <= n_maps``); ``"img_value"`` keeps values beyond ``threshold``;
        ``"percentile"`` keeps values beyond that percentile (0-100).
    two_sided : bool, default=False
        Keep strong negative values as well (``"img_value"``, ``"percentile"``;
        ``"ratio_n_voxels"`` always keeps both signs).
    extractor : {"local_regions", "connected_components"}, default="local_regions"
        ``"connected_components"``: each 6-connected component of a thresholded
        map is a region. ``"local_regions"``: a random walker seeded at the
        local maxima of the map smoothed by ``smoothing_fwhm`` splits the map.
    smoothing_fwhm : float or None, default=6
        FWHM (mm) of the smoothing used to find the seeds, and also of the
        smoothing of the data in ``transform`` (as nilearn, which passes it to
        its masker).
    standardize, standardize_confounds, high_variance_confounds, detrend, \
low_pass, high_pass, t_r, dtype, clean_args
        Signal cleaning, as :class:`~regionkit.maskers.NiftiMapsMasker`.
    resampling_target : {"data", "mask", "maps", None}, default="data"
        Grid of extraction, as :class:`~regionkit.maskers.NiftiMapsMasker`
        (the regions are found on the maps' own grid).
    keep_masked_maps : bool, default=False
        Keep regions with no voxel left in the mask (NaN signals).
    memory, memory_level, verbose, reports, cmap
        Accepted for nilearn compatibility.
    allow_overlap : bool, default=True
        If False, fitting fails when two regions share a voxel.

    Attributes
    ----------
    regions_img_ : nibabel.Nifti1Image
        4D, one volume per region: the (thresholded) map's values on the
        region, 0 elsewhere; the maps' grid and dtype. Its data object is a
        :class:`SparseRegions` (voxel lists; volumes built when read), so
        hundreds of regions stay small; ``get_fdata()`` gives the dense array.
    index_ : ndarray of int, shape (n_regions,)
        For each region, the volume of ``maps_img`` it comes from.
    masker_ : NiftiMapsMasker
        The masker fitted on ``regions_img_``; it does the signal work.
    maps_img_ : nibabel.Nifti1Image
        The regions on the extraction grid (``masker_.maps_img_``).
    mask_img_ : nibabel.Nifti1Image or None
        The binary mask on the extraction grid.
    n_elements_ : int
        Number of output columns (regions).
    clean_args_ : dict
        Keyword arguments given to :func:`regionkit.signal.clean`.
    random_walker_mode_ : str or None
        Solver of the random walker for ``"local_regions"`` (None otherwise):
        ``"cg"``, nilearn's plain conjugate gradient.

    Notes
    -----
    ``"local_regions"`` solves one random-walker system per seed, per map, on
    the bounding box of each connected piece of the thresholded map, in
    float32, with nilearn's solver: the regions are nilearn's, voxel for
    voxel. The algebraic multigrid preconditioner (pyamg) is about 8x faster
    on 2 mm ICA maps but moves boundary voxels where nilearn's solver stops
    early, enough to change which regions pass ``min_region_size`` (206 vs
    208 regions on 20 maps at 2 mm), so it is not used here; it is available
    as ``split_maps(..., random_walker_mode="cg_mg")``.

    See Also
    --------
    regionkit.regions.connected_regions : the region split, as a function.
    regionkit.regions.connected_label_regions : the same for label atlases.

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> maps = np.zeros((10, 10, 10, 2), dtype="float32")
    >>> maps[1:4, 1:4, 1:4, 0] = 2; maps[6:9, 6:9, 6:9, 0] = 3
    >>> maps[1:4, 6:9, 1:4, 1] = -2
    >>> extractor = RegionExtractor(
    ...     nib.Nifti1Image(maps, np.eye(4)), threshold=1.0,
    ...     thresholding_strategy="img_value", two_sided=True,
    ...     extractor="connected_components", min_region_size=10,
    ... ).fit()
    >>> extractor.regions_img_.shape, extractor.index_.tolist()
    ((10, 10, 10, 3), [0, 0, 1])
    """

    _parameter_constraints: dict[str, list] = {
        **NiftiMapsMasker._parameter_constraints,
        "maps_img": [NiftiMapsMasker._parameter_constraints["maps_img"][0]],
        "min_region_size": [Interval("real", 0, None)],
        "threshold": [Interval("real", None, None)],
        "thresholding_strategy": [Options(THRESHOLDING_STRATEGIES)],
        "two_sided": ["boolean"],
        "extractor": [Options(EXTRACT_TYPES)],
    }

    def __init__(
        self,
        maps_img=None,
        mask_img=None,
        min_region_size=1350,
        threshold=1.0,
        thresholding_strategy="ratio_n_voxels",
        two_sided=False,
        extractor="local_regions",
        smoothing_fwhm=6,
        standardize=False,
        standardize_confounds=True,
        high_variance_confounds=False,
        detrend=False,
        low_pass=None,
        high_pass=None,
        t_r=None,
        dtype=None,
        resampling_target="data",
        keep_masked_maps=False,
        memory=None,
        memory_level=0,
        verbose=0,
        reports=True,
        cmap="CMRmap_r",
        allow_overlap=True,
        clean_args=None,
    ):
        self.maps_img = maps_img
        self.mask_img = mask_img
        self.min_region_size = min_region_size
        self.threshold = threshold
        self.thresholding_strategy = thresholding_strategy
        self.two_sided = two_sided
        self.extractor = extractor
        self.smoothing_fwhm = smoothing_fwhm
        self.standardize = standardize
        self.standardize_confounds = standardize_confounds
        self.high_variance_confounds = high_variance_confounds
        self.detrend = detrend
        self.low_pass = low_pass
        self.high_pass = high_pass
        self.t_r = t_r
        self.dtype = dtype
        self.resampling_target = resampling_target
        self.keep_masked_maps = keep_masked_maps
        self.memory = memory
        self.memory_level = memory_level
        self.verbose = verbose
        self.reports = reports
        self.cmap = cmap
        self.allow_overlap = allow_overlap
        self.clean_args = clean_args

    # ------------------------------------------------------------------ fit
    def _validate_parameters(self) -> nib.Nifti1Image:
        """Check every parameter and ``maps_img``'s header; return the maps image."""
        owner = type(self).__name__
        params = self.get_params(deep=False)
        if self.maps_img is None:
            raise ValueError(
                f"{owner} needs maps_img: got maps_img=None; give a 4D image "
                "(one map per volume)."
            )
        validate_params(params, self._parameter_constraints, owner)
        if np.ndim(self.smoothing_fwhm) == 1:
            for value in np.ravel(self.smoothing_fwhm):
                check_parameter("smoothing_fwhm", value, [None, Interval("real", 0, None)], owner)
        maps_img = check_niimg(self.maps_img, ensure_ndim=4, name="maps_img")
        _check_threshold(self.threshold, self.thresholding_strategy, self.two_sided,
                         maps_img.shape[3], owner)
        return maps_img

    def _masker(self, regions_img: nib.Nifti1Image, mask_img) -> NiftiMapsMasker:
        params = {name: getattr(self, name) for name in _MASKER_PARAMETERS}
        params.update(maps_img=regions_img, mask_img=mask_img)
        return NiftiMapsMasker(**params)

    @records_fit
    def fit(self, imgs=None, y=None):
        """Find the regions and prepare the signal extraction.

        Parameters
        ----------
        imgs : Niimg-like or None, default=None
            Optional image whose grid the regions are placed on
            (``resampling_target="data"``); only its header is read.
        y : None
            Ignored (scikit-learn compatibility).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Bad parameter (naming it, its value and what was expected), 3D
            ``maps_img``, or no region left after thresholding and the size
            filter.
        """
        del y
        maps_img = self._validate_parameters()
        mask_img = _binary_mask_img(self.mask_img)
        if imgs is not None:
            check_niimg(imgs, name="imgs")

        thresholded = threshold_maps(
            maps_img,
            threshold=self.threshold,
            thresholding_strategy=self.thresholding_strategy,
            two_sided=self.two_sided,
            mask_img=mask_img if self.thresholding_strategy != "ratio_n_voxels" else None,
        )
        walker_mode = _random_walker_mode() if self.extractor == "local_regions" else None
        regions_img, index = split_maps(
            thresholded,
            min_region_size=self.min_region_size,
            extract_type=self.extractor,
            smoothing_fwhm=self.smoothing_fwhm,
            mask_img=mask_img,
            random_walker_mode=walker_mode,
        )
        if regions_img is None:
            raise ValueError(self._no_region_message(thresholded))

        self.regions_img_ = regions_img
        self.index_ = index
        self.random_walker_mode_ = walker_mode
        masker = self._masker(regions_img, mask_img)
        masker.set_output(transform="default")
        masker.fit(imgs)
        self.masker_ = masker
        self.maps_img_ = masker.maps_img_
        self.mask_img_ = masker.mask_img_
        self.n_elements_ = masker.n_elements_
        self.clean_args_ = masker.clean_args_
        logger.info(
            "%s: %d regions from %d maps", type(self).__name__, self.n_elements_,
            maps_img.shape[3],
        )
        return self

    def _no_region_message(self, thresholded: nib.Nifti1Image) -> str:
        data = np.asarray(thresholded.dataobj)
        n_kept = int(np.count_nonzero(data))
        voxel_volume = abs(float(np.linalg.det(thresholded.affine[:3, :3])))
        settings = (
            f"threshold={self.threshold!r}, "
            f"thresholding_strategy={self.thresholding_strategy!r}, "
            f"two_sided={self.two_sided!r}"
        )
        if n_kept == 0:
            return (
                f"{type(self).__name__}: no region found: thresholding with {settings} "
                f"keeps no voxel of the {data.shape[3]} maps. Lower the threshold "
                "(or use two_sided=True for negative maps)."
            )
        return (
            f"{type(self).__name__}: no region found: thresholding with {settings} keeps "
            f"{n_kept} voxels, but no {self.extractor!r} region of the {data.shape[3]} "
            f"maps is larger than min_region_size={self.min_region_size!r} mm3 "
            f"({self.min_region_size / voxel_volume:g} voxels of {voxel_volume:g} mm3). "
            "Lower min_region_size or the threshold."
        )

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "masker_")

    # ------------------------------------------------------------ transform
    def _output_is_default(self) -> bool:
        config = getattr(self, "_sklearn_output_config", {}).get("transform", "default")
        return config == "default"

    def transform(self, imgs, confounds=None, sample_mask=None):
        """Extract one signal per region.

        Parameters
        ----------
        imgs : Niimg-like, 3D or 4D
            Path, nibabel image or list of 3D images.
        confounds : path, ndarray, DataFrame or list of those, optional
            One row per volume; passed to :func:`regionkit.signal.clean`.
        sample_mask : ndarray, optional
            Volumes to keep (boolean of length n_volumes, or indices).

        Returns
        -------
        signals : ndarray of shape (n_timepoints, n_regions) or (n_regions,)
            1D for a 3D image (unless ``set_output`` asks for a DataFrame).
        """
        check_is_fitted(self)
        signals = self.masker_.transform(imgs, confounds=confounds, sample_mask=sample_mask)
        if not self._output_is_default():
            signals = np.atleast_2d(signals)
        return signals

    def transform_single_imgs(self, imgs, confounds=None, sample_mask=None):
        """Same as :meth:`transform` (nilearn's name for one image)."""
        return self.transform(imgs, confounds=confounds, sample_mask=sample_mask)

    def fit_transform(self, imgs, y=None, confounds=None, sample_mask=None):
        """Fit on ``imgs`` (its grid only), then extract its region signals.

        Returns
        -------
        signals : ndarray of shape (n_timepoints, n_regions) or (n_regions,)
        """
        return self.fit(imgs, y).transform(imgs, confounds=confounds, sample_mask=sample_mask)

    def inverse_transform(self, region_signals):
        """Map region signals back to voxels (the regions weighted by them).

        Parameters
        ----------
        region_signals : ndarray of shape (n_regions,) or (n_timepoints, n_regions)
            Also a pandas/polars DataFrame.

        Returns
        -------
        nibabel.Nifti1Image
            3D for 1D input, 4D for 2D input, on the extraction grid.
        """
        check_is_fitted(self)
        return self.masker_.inverse_transform(region_signals)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output column names: ``regionextractor0``, ``regionextractor1``, ...

        Returns
        -------
        ndarray of str
        """
        del input_features
        check_is_fitted(self)
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(self.n_elements_)], dtype=object)

    def generate_report(self, engine="matplotlib", title=None, **kwargs):
        """HTML report of the regions (needs matplotlib).

        Parameters
        ----------
        engine : {"matplotlib"}, default="matplotlib"
            Plotting engine for the figures.
        title : str, optional
            Title shown at the top of the report.
        **kwargs
            ``displayed_maps`` : int, list of int or "all", default=10 --
            the regions drawn one by one.

        Returns
        -------
        regionkit.reporting.HTMLReport
        """
        from ..reporting import make_report

        return make_report(self, title=title, engine=engine, **kwargs)
