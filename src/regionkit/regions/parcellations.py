"""Learn brain parcellations from fMRI runs (nilearn-compatible ``Parcellations``).

Outline of :meth:`Parcellations.fit`:

1. check parameters and the images' headers (no voxel data read);
2. compute (or load) the mask — one pass over the runs;
3. per subject, in one streamed pass: smooth, mask, clean, keep the leading
   temporal components (:mod:`regionkit.regions._reduce`);
4. group reduction to 200 spatial components (randomized SVD);
5. cluster the voxels on these components: MiniBatchKMeans, compiled
   connectivity-constrained ward / average / complete linkage with
   scikit-learn's exact merge order (:mod:`regionkit.regions._linkage`), ReNA
   or hierarchical k-means.
"""

from __future__ import annotations

import inspect
import logging
import os
import tempfile
import warnings
from typing import Any, ClassVar

import nibabel as nib
import numpy as np
from joblib import Memory, Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._validation import Interval, Options, validate_params
from .._warnings import RegionkitWarning
from ..image import check_niimg, resample_img
from ..masking import (
    compute_multi_background_mask,
    compute_multi_brain_mask,
    compute_multi_epi_mask,
    load_mask_img,
    unmask,
)
from ._hierarchical_kmeans import HierarchicalKMeans
from ._linkage import constrained_linkage_labels
from ._reduce import group_components, mask_and_reduce, masked_signals, reduce_subject
from ._rena import ReNA

__all__ = ["Parcellations"]

logger = logging.getLogger(__name__)

_GROUP_COMPONENTS = 200
_MASK_STRATEGIES = ("epi", "background", "whole-brain-template", "gm-template", "wm-template")


def _progress(iterable: Any, total: int, verbose: int, desc: str) -> Any:
    """Wrap ``iterable`` in a tqdm bar when tqdm is installed and ``verbose > 0``."""
    if not verbose:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is optional
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False)


def _as_list(imgs: Any) -> tuple[list, bool]:
    """Images as a list, and whether a single image (not a list) was given."""
    if isinstance(imgs, (str, os.PathLike, nib.Nifti1Image, nib.Nifti2Image)) or not hasattr(imgs, "__iter__"):
        return [imgs], True
    imgs = list(imgs)
    return imgs, False


def _confounds_list(confounds: Any, n_imgs: int, single: bool) -> list:
    """One confounds entry per image; errors name both lengths."""
    if confounds is None:
        return [None] * n_imgs
    if single and not isinstance(confounds, (list, tuple)):
        return [confounds]
    if not isinstance(confounds, (list, tuple)):
        confounds = [confounds]
    if len(confounds) != n_imgs:
        raise ValueError(
            f"confounds must hold one entry per image: got {len(confounds)} confounds for {n_imgs} images."
        )
    return list(confounds)


def _check_same_grid(imgs: list[nib.Nifti1Image]) -> None:
    """All runs on one grid (shape and affine), checked from headers only."""
    reference = imgs[0]
    for index, img in enumerate(imgs[1:], start=1):
        if tuple(img.shape[:3]) != tuple(reference.shape[:3]):
            raise ValueError(
                f"imgs must share one voxel grid: imgs[{index}] has shape {tuple(img.shape[:3])}, "
                f"imgs[0] has shape {tuple(reference.shape[:3])}. Resample them or set target_affine."
            )
        if not np.allclose(img.affine, reference.affine):
            raise ValueError(
                f"imgs must share one voxel grid: imgs[{index}] has affine\n{img.affine}\n"
                f"but imgs[0] has affine\n{reference.affine}.\nResample them or set target_affine."
            )


def _mask_from_masker(mask: Any) -> Any:
    """The mask image held by a masker instance, or ``mask`` itself."""
    for attribute in ("mask_img_", "mask_img"):
        value = getattr(mask, attribute, None)
        if value is not None and not isinstance(mask, (str, os.PathLike, nib.Nifti1Image)):
            return value
    return mask


def _explained_variance(data: np.ndarray, components: np.ndarray, per_component: bool) -> Any:
    """Share of ``data``'s variance explained by ``components`` (nilearn's score)."""
    from sklearn.linear_model import LinearRegression

    norms = np.sqrt(np.sum(components**2, axis=1))
    norms[norms == 0] = 1
    components = components / norms[:, None]
    if per_component:
        full_var = np.var(data)
        projected = components @ data.T
        scores = np.empty(components.shape[0])
        for index in range(components.shape[0]):
            residual = data - np.outer(projected[index], components[index])
            scores[index] = np.var(residual)
        return np.maximum(0.0, 1.0 - scores / full_var)
    regression = LinearRegression(fit_intercept=True).fit(components.T, data.T)
    residual = data - regression.coef_ @ components
    residual_ss = float(np.sum(residual.astype(np.float64) ** 2))
    total_ss = float(np.sum(data.astype(np.float64) ** 2))
    return max(0.0, 1.0 - residual_ss / total_ss)


class Parcellations(TransformerMixin, BaseEstimator):
    """Learn parcellations of the brain from fMRI runs.

    Voxels are clustered on a low-dimensional description of their time
    courses shared by all subjects: each run is masked, smoothed and cleaned,
    reduced to its leading temporal components, and the group's 200 leading
    spatial components are then clustered.

    Parameters
    ----------
    method : {"kmeans", "ward", "complete", "average", "rena", "hierarchical_kmeans"}
        Clustering method. kmeans: MiniBatchKMeans; ward / complete / average:
        spatially constrained agglomerative clustering (the partition of
        scikit-learn's ``AgglomerativeClustering``, computed by a compiled
        loop: 30-70x faster on a brain mask); rena:
        :class:`~regionkit.regions.ReNA`; hierarchical_kmeans:
        :class:`~regionkit.regions.HierarchicalKMeans`.
    n_parcels : int, default=50
        Number of parcels, in ``[1, number of mask voxels]``.
    random_state : int, RandomState or None, default=0
        Seeds the randomized SVDs and the k-means methods.
    mask : 3D image-like, masker or None, default=None
        Mask of the voxels to parcellate. A masker's ``mask_img_`` (or
        ``mask_img``) is used. None: computed from the runs with
        ``mask_strategy``.
    smoothing_fwhm : float or None, default=4.0
        Gaussian smoothing of each volume before masking, in mm.
    standardize : bool or str, default=False
        Standardization of each voxel's time course (see
        :func:`regionkit.signal.clean`).
    standardize_confounds : bool, default=True
        z-score the confounds before regressing them out.
    detrend : bool, default=False
        Remove linear trends.
    low_pass, high_pass : float or None, default=None
        Butterworth cut-off frequencies in Hz (need ``t_r``).
    t_r : float or None, default=None
        Repetition time in seconds.
    target_affine : ndarray of shape (3, 3) or (4, 4), optional
        Resample the runs (continuous interpolation) and the mask to this
        affine before masking.
    target_shape : tuple of 3 ints, optional
        Shape of the resampled grid (needs a 4x4 ``target_affine``).
    mask_strategy : {"epi", "background", "whole-brain-template", "gm-template", \
"wm-template"}, default="epi"
        How the mask is computed when ``mask`` is None (templates are bundled).
    mask_args : dict or None, default=None
        Extra keyword arguments of the mask function.
    scaling : bool, default=False
        rena only: scale each cluster by the square root of its size.
    n_iter : int, default=10
        rena only: number of agglomeration iterations.
    memory : joblib.Memory, str, path or None, default=None
        Cache for the per-subject reductions (used when ``memory_level >= 1``).
    memory_level : int, default=0
        0 disables caching.
    n_jobs : int, default=1
        Subjects reduced (and transformed) in parallel with joblib.
    verbose : int, default=0
        0: silent. 1 or more: log progress and show a progress bar across
        subjects (tqdm, when installed).

    Attributes
    ----------
    labels_img_ : nibabel.Nifti1Image
        Parcel labels ``1 .. n_parcels`` (int32), 0 outside the mask.
    mask_img_ : nibabel.Nifti1Image
        The mask used.
    masker_ : MultiNiftiMasker or None
        A fitted :class:`regionkit.maskers.MultiNiftiMasker` holding the mask
        and signal parameters, when that class is available.
    components_ : ndarray of shape (n_components, n_voxels)
        The group's spatial components (at most 200) the voxels were clustered on.
    variance_ : ndarray of shape (n_components,)
        Their singular values.
    connectivity_ : scipy.sparse matrix of shape (n_voxels, n_voxels)
        Voxel grid graph of the mask (ward, complete and average only).
    n_elements_ : int
        Number of parcels found.

    Notes
    -----
    The reductions follow nilearn 0.14.1 (``_MultiPCA`` with ``do_cca``): per
    subject ``S @ U.T`` of the voxels-by-time SVD keeping ``min(200,
    n_timepoints)`` components (exact SVD through the time-by-time Gram matrix
    when nilearn would use LAPACK, scikit-learn's randomized SVD otherwise);
    each reduced row scaled to unit norm; randomized SVD (3 power iterations)
    of the stack. nilearn's ``components_img_`` (200 full volumes) is not built.

    Examples
    --------
    >>> from regionkit.regions import Parcellations
    >>> parcellations = Parcellations("ward", n_parcels=100)  # doctest: +SKIP
    >>> signals = parcellations.fit_transform(["sub-01_bold.nii.gz"])  # doctest: +SKIP
    """

    VALID_METHODS: ClassVar[tuple[str, ...]] = (
        "kmeans",
        "ward",
        "complete",
        "average",
        "rena",
        "hierarchical_kmeans",
    )

    _parameter_constraints: ClassVar[dict] = {
        "method": [Options(VALID_METHODS)],
        "n_parcels": [Interval("int", 1, None)],
        "random_state": ["no_validation"],
        "mask": ["no_validation"],
        "smoothing_fwhm": [Interval("real", 0, None), None],
        "standardize": ["no_validation"],
        "standardize_confounds": ["boolean"],
        "detrend": ["boolean"],
        "low_pass": [Interval("real", 0, None, closed="neither"), None],
        "high_pass": [Interval("real", 0, None, closed="neither"), None],
        "t_r": [Interval("real", 0, None, closed="neither"), None],
        "target_affine": ["array-like", None],
        "target_shape": ["array-like", None],
        "mask_strategy": [Options(_MASK_STRATEGIES)],
        "mask_args": ["dict", None],
        "scaling": ["boolean"],
        "n_iter": [Interval("int", 1, None)],
        "memory": ["no_validation"],
        "memory_level": [Interval("int", 0, None)],
        "n_jobs": [Interval("int", None, None), None],
        "verbose": [Interval("int", 0, None), "boolean"],
    }

    def __init__(
        self,
        method=None,
        n_parcels=50,
        random_state=0,
        mask=None,
        smoothing_fwhm=4.0,
        standardize=False,
        standardize_confounds=True,
        detrend=False,
        low_pass=None,
        high_pass=None,
        t_r=None,
        target_affine=None,
        target_shape=None,
        mask_strategy="epi",
        mask_args=None,
        scaling=False,
        n_iter=10,
        memory=None,
        memory_level=0,
        n_jobs=1,
        verbose=0,
    ):
        self.method = method
        self.n_parcels = n_parcels
        self.random_state = random_state
        self.mask = mask
        self.smoothing_fwhm = smoothing_fwhm
        self.standardize = standardize
        self.standardize_confounds = standardize_confounds
        self.detrend = detrend
        self.low_pass = low_pass
        self.high_pass = high_pass
        self.t_r = t_r
        self.target_affine = target_affine
        self.target_shape = target_shape
        self.mask_strategy = mask_strategy
        self.mask_args = mask_args
        self.scaling = scaling
        self.n_iter = n_iter
        self.memory = memory
        self.memory_level = memory_level
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        if self.method is None:
            raise ValueError(
                f"The 'method' parameter of Parcellations must be one of {list(self.VALID_METHODS)}. Got None instead."
            )
        constraints = {k: v for k, v in self._parameter_constraints.items() if v != ["no_validation"]}
        params = {k: v for k, v in self.get_params(deep=False).items() if k in constraints}
        validate_params(params, constraints, "Parcellations")
        if self.target_shape is not None and (
            self.target_affine is None or np.asarray(self.target_affine).shape != (4, 4)
        ):
            raise ValueError(
                f"target_shape={self.target_shape!r} needs a 4x4 target_affine; got target_affine={self.target_affine!r}."
            )

    def _standardize(self) -> Any:
        """Booleans as the strategies nilearn maps them to (False: None, True: "zscore_sample")."""
        if self.standardize is False:
            return None
        if self.standardize is True:
            return "zscore_sample"
        return self.standardize

    def _signal_kwargs(self) -> dict:
        return {
            "smoothing_fwhm": self.smoothing_fwhm,
            "detrend": self.detrend,
            "standardize": self._standardize(),
            "standardize_confounds": self.standardize_confounds,
            "low_pass": self.low_pass,
            "high_pass": self.high_pass,
            "t_r": self.t_r,
        }

    def _memory(self) -> Memory:
        if isinstance(self.memory, Memory):
            return self.memory
        return Memory(location=None if self.memory is None else str(self.memory), verbose=0)

    # -------------------------------------------------------------------- mask
    def _compute_mask(self, imgs: list) -> nib.Nifti1Image:
        if self.mask is not None:
            mask_img = check_niimg(_mask_from_masker(self.mask), ensure_ndim=3, name="mask")
            if self.target_affine is not None:
                mask_img = resample_img(
                    mask_img,
                    target_affine=np.asarray(self.target_affine),
                    target_shape=self.target_shape,
                    interpolation="nearest",
                )
            mask, affine = load_mask_img(mask_img, allow_empty=True, name="mask")
            return nib.Nifti1Image(mask.astype(np.int8), affine)
        if self.mask_strategy == "epi":
            compute = compute_multi_epi_mask
        elif self.mask_strategy == "background":
            compute = compute_multi_background_mask
        else:
            compute = compute_multi_brain_mask
        kwargs: dict = {}
        signature = inspect.signature(compute).parameters
        if self.mask_strategy.endswith("-template"):
            kwargs["mask_type"] = self.mask_strategy[: -len("-template")]
        for name in ("n_jobs", "target_affine", "target_shape"):
            value = getattr(self, name)
            if name in signature and value is not None:
                kwargs[name] = value
        skipped = []
        for name, value in (self.mask_args or {}).items():
            if name in signature:
                kwargs[name] = value
            else:
                skipped.append(name)
        if skipped:
            warnings.warn(
                f"mask_args {skipped} are not arguments of the '{self.mask_strategy}' mask strategy; ignored.",
                RegionkitWarning,
                stacklevel=3,
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RegionkitWarning)
                return compute(imgs, **kwargs)
        except ValueError as error:
            if "empty" in str(error).lower():
                raise ValueError(
                    f"The mask computed with mask_strategy={self.mask_strategy!r} is empty: no voxel to parcellate "
                    f"({error})."
                ) from error
            raise

    # --------------------------------------------------------------------- fit
    def fit(self, imgs: Any, y: Any = None, confounds: Any = None) -> Parcellations:
        """Compute the mask, the group components and the parcels.

        Parameters
        ----------
        imgs : 4D image-like or list of them
            One run per subject (paths, nibabel images). Without
            ``target_affine`` all runs must share one voxel grid.
        y : None
            Ignored.
        confounds : list of (array-like, path or DataFrame), optional
            One entry per image, regressed out before the reduction.

        Returns
        -------
        self : Parcellations
        """
        del y
        self._fit(imgs, confounds, keep_rotations=False)
        return self

    def _fit(self, imgs: Any, confounds: Any, keep_rotations: bool) -> list | None:
        """Fit; with ``keep_rotations``, return the parcel signals of ``imgs`` when
        they can be read off the reductions (see :meth:`fit_transform`), else None."""
        self._check_params()
        imgs, single = _as_list(imgs)
        if not imgs:
            raise ValueError("imgs is an empty list: give at least one 4D image.")
        confounds = _confounds_list(confounds, len(imgs), single)
        headers = [check_niimg(img, atleast_4d=True, name=f"imgs[{i}]") for i, img in enumerate(imgs)]
        if self.target_affine is None:
            _check_same_grid(headers)

        logger.info("Parcellations: computing the mask")
        self.mask_img_ = self._compute_mask(imgs)
        mask = np.asarray(self.mask_img_.dataobj).astype(bool)
        n_voxels = int(mask.sum())
        if n_voxels == 0:
            raise ValueError("The mask is empty (0 voxels): no voxel to parcellate. Check mask / mask_strategy.")
        if self.n_parcels > n_voxels:
            raise ValueError(
                f"The 'n_parcels' parameter of Parcellations must be at most the number of mask voxels, "
                f"{n_voxels}. Got {self.n_parcels} instead."
            )

        logger.info("Parcellations: reducing %d subject(s)", len(imgs))
        reduce = mask_and_reduce
        if self.memory is not None and self.memory_level >= 1:
            reduce = self._memory().cache(mask_and_reduce)
        jobs = (
            delayed(reduce)(
                img,
                self.mask_img_,
                confounds=confound,
                n_components=_GROUP_COMPONENTS,
                random_state=self.random_state,
                return_rotation=keep_rotations,
                **self._signal_kwargs(),
            )
            for img, confound in zip(imgs, confounds)
        )
        rotations = []
        # the stacked reductions are filled as subjects finish: one subject's
        # masked data plus the stack are alive at a time
        n_kept = [min(_GROUP_COMPONENTS, header.shape[3] if len(header.shape) == 4 else 1, n_voxels)
                  for header in headers]  # fmt: skip
        stacked = np.empty((sum(n_kept), n_voxels), dtype=np.float32)
        n_jobs = 1 if self.n_jobs is None else self.n_jobs
        if n_jobs == 1:
            results = (job[0](*job[1], **job[2]) for job in jobs)
        else:
            results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
        row = 0
        for part in _progress(results, len(imgs), self.verbose, "subjects"):
            if keep_rotations:
                part, rotation = part
                rotations.append(rotation)
            stacked[row : row + part.shape[0]] = part
            row += part.shape[0]
            del part
        stacked = stacked[:row]

        logger.info("Parcellations: group reduction")
        norms: list = []
        components, self.variance_ = group_components(stacked, _GROUP_COMPONENTS, self.random_state, norms)
        keep_rotations = keep_rotations and all(rotation is not None for rotation in rotations)
        spill = None
        if keep_rotations:
            # park the stack on disk while the clustering needs the memory
            spill = tempfile.TemporaryFile()
            stacked_shape = stacked.shape
            stacked.tofile(spill)
        del stacked
        self.components_ = components.T

        logger.info("Parcellations: clustering with %s", self.method)
        labels = self._cluster(components, mask) + 1
        unique_labels = np.unique(labels)
        if unique_labels.size != self.n_parcels:
            warnings.warn(
                f"{unique_labels.size} parcels were found, not the {self.n_parcels} requested (n_parcels).",
                RegionkitWarning,
                stacklevel=2,
            )
        self.labels_img_ = unmask(labels.astype(np.int32), self.mask_img_)
        self.n_elements_ = int(unique_labels.size)
        self.masker_ = self._make_masker()
        if spill is None:
            return None
        with spill:
            spill.seek(0)
            stacked = np.fromfile(spill, dtype=np.float32).reshape(stacked_shape)
        return _signals_from_reductions(stacked, norms[0], rotations, labels - 1, self.n_elements_)

    def _cluster(self, components: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Labels ``0 .. n_parcels - 1`` of the voxels; ``components`` is (n_voxels, n_components)."""
        verbose = max(0, int(self.verbose) - 1)
        if self.method == "kmeans":
            from sklearn.cluster import MiniBatchKMeans

            model = MiniBatchKMeans(
                n_clusters=self.n_parcels,
                init="k-means++",
                n_init=3,
                random_state=self.random_state,
                verbose=verbose,
            )
            return model.fit(components).labels_
        if self.method == "hierarchical_kmeans":
            model = HierarchicalKMeans(
                self.n_parcels,
                init="k-means++",
                batch_size=1000,
                n_init=10,
                max_no_improvement=10,
                random_state=self.random_state,
                verbose=verbose,
            )
            return model.fit(components.T).labels_
        if self.method == "rena":
            model = ReNA(
                self.mask_img_,
                n_clusters=self.n_parcels,
                scaling=self.scaling,
                n_iter=self.n_iter,
                memory=self.memory,
                memory_level=self.memory_level,
                verbose=verbose,
            )
            return model.fit(components.T).labels_
        from sklearn.feature_extraction.image import grid_to_graph

        self.connectivity_ = grid_to_graph(*mask.shape, mask=mask)
        return constrained_linkage_labels(components, self.connectivity_, self.n_parcels, self.method)

    def _make_masker(self) -> Any:
        try:
            from ..maskers import MultiNiftiMasker  # type: ignore[attr-defined]
        except ImportError:
            return None
        masker = MultiNiftiMasker(
            mask_img=self.mask_img_,
            smoothing_fwhm=self.smoothing_fwhm,
            standardize=self.standardize,
            standardize_confounds=self.standardize_confounds,
            detrend=self.detrend,
            low_pass=self.low_pass,
            high_pass=self.high_pass,
            t_r=self.t_r,
            target_affine=self.target_affine,
            target_shape=self.target_shape,
            memory=self.memory,
            memory_level=self.memory_level,
            n_jobs=self.n_jobs,
            verbose=max(0, int(self.verbose) - 1),
        )
        return masker.fit()

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "labels_img_")

    # --------------------------------------------------------------- transform
    def _labels_masker(self) -> Any:
        from ..maskers import NiftiLabelsMasker

        standardize = self._standardize()
        return NiftiLabelsMasker(
            self.labels_img_,
            mask_img=self.mask_img_,
            smoothing_fwhm=self.smoothing_fwhm,
            standardize=standardize,
            detrend=self.detrend,
            low_pass=self.low_pass,
            high_pass=self.high_pass,
            t_r=self.t_r,
            resampling_target="data",
            memory=self.memory,
            memory_level=self.memory_level,
            verbose=max(0, int(self.verbose) - 1),
        )

    def transform(self, imgs: Any, confounds: Any = None) -> np.ndarray | list[np.ndarray]:
        """Mean signal of each parcel.

        Parameters
        ----------
        imgs : 4D image-like or list of them
        confounds : array-like, path, DataFrame, or list of them (one per image)
            Regressed out of the parcel signals.

        Returns
        -------
        region_signals : ndarray of shape (n_timepoints, n_parcels), or list of them
            A list when ``imgs`` is a list of several images.
        """
        check_is_fitted(self)
        imgs, single = _as_list(imgs)
        if not imgs:
            raise ValueError("imgs is an empty list: give at least one 4D image.")
        confounds = _confounds_list(confounds, len(imgs), single)
        for index, img in enumerate(imgs):
            check_niimg(img, atleast_4d=True, name=f"imgs[{index}]")
        masker = self._labels_masker()
        n_jobs = 1 if self.n_jobs is None else self.n_jobs
        jobs = (delayed(_extract)(masker, img, confound) for img, confound in zip(imgs, confounds))
        if n_jobs == 1:
            signals = [job[0](*job[1], **job[2]) for job in _progress(jobs, len(imgs), self.verbose, "transform")]
        else:
            signals = list(Parallel(n_jobs=n_jobs)(jobs))
        return signals[0] if single or len(signals) == 1 else signals

    def fit_transform(self, imgs: Any, y: Any = None, confounds: Any = None) -> np.ndarray | list[np.ndarray]:
        """Fit on ``imgs`` then return their parcel signals (see :meth:`transform`).

        Equal to ``fit(imgs).transform(imgs)``; for runs of at most 200 volumes
        without standardization or resampling the signals are computed from the
        fit's reductions instead of reading the images again.
        """
        del y
        if self._transform_from_reductions(imgs, confounds):
            signals = self._fit(imgs, confounds, keep_rotations=True)
            if signals is not None:
                single = _as_list(imgs)[1]
                return signals[0] if single or len(signals) == 1 else signals
            return self.transform(imgs, confounds=confounds)
        return self.fit(imgs, confounds=confounds).transform(imgs, confounds=confounds)

    def _transform_from_reductions(self, imgs: Any, confounds: Any) -> bool:
        """Whether the fit's reductions give the transform's output exactly.

        Short runs (at most 200 volumes) are kept whole by the reduction, up to
        an orthogonal rotation in time; when the images are on the mask's grid
        and cleaning is linear (no standardization, confounds standardized as
        the labels masker does), the mean of each parcel's cleaned voxels equals
        the cleaned parcel mean, so the images need not be read a third time.
        """
        if self.target_affine is not None or self.target_shape is not None or self._standardize() is not None:
            return False
        if confounds is not None and not self.standardize_confounds:
            return False
        if self.mask is not None:
            return False
        return True

    def generate_report(self, engine: str = "matplotlib", title: str | None = None, **kwargs: Any):
        """Build a self-contained HTML report of the parcellation (needs matplotlib).

        Parameters
        ----------
        engine : {"matplotlib"}, default="matplotlib"
            Plotting engine for the figures.
        title : str, optional
            Title shown at the top of the report.
        **kwargs
            Passed to the report builder.

        Returns
        -------
        report : regionkit.reporting.HTMLReport
            A report of an unfitted estimator says so.
        """
        from ..reporting import make_report

        return make_report(self, title=title, engine=engine, **kwargs)

    def inverse_transform(self, signals: Any) -> nib.Nifti1Image | list[nib.Nifti1Image]:
        """Images where each parcel's voxels hold the parcel's signal.

        Parameters
        ----------
        signals : ndarray of shape (n_timepoints, n_parcels) or (n_parcels,), or list of them

        Returns
        -------
        imgs : nibabel.Nifti1Image or list of them
            4D for 2D signals, 3D for 1D signals; 0 outside the mask; the
            signals' dtype.
        """
        check_is_fitted(self)
        if isinstance(signals, np.ndarray) or not isinstance(signals, (list, tuple)):
            items, single = [signals], True
        else:
            items, single = list(signals), len(signals) == 1
        labels = np.asarray(self.labels_img_.dataobj)
        mask = np.asarray(self.mask_img_.dataobj).astype(bool)
        region_ids = np.unique(labels[mask & (labels != 0)])
        voxel_labels = labels[mask]
        columns = np.searchsorted(region_ids, voxel_labels)
        inside = voxel_labels != 0
        imgs = []
        for index, item in enumerate(items):
            array = np.asarray(item)
            if array.dtype.kind not in "fiu" or array.ndim not in (1, 2) or array.shape[-1] != self.n_elements_:
                expected = f"(n_timepoints, {self.n_elements_}) or ({self.n_elements_},)"
                raise ValueError(
                    f"signals{'' if single else f'[{index}]'} must have shape {expected}; got {array.shape}."
                )
            values = np.atleast_2d(array)
            voxels = np.zeros((values.shape[0], voxel_labels.size), dtype=values.dtype)
            voxels[:, inside] = values[:, columns[inside]]
            img = unmask(voxels if array.ndim == 2 else voxels[0], self.mask_img_)
            imgs.append(img)
        return imgs[0] if single else imgs

    def score(self, imgs: Any, confounds: Any = None, per_component: bool = False) -> Any:
        """Share of the runs' variance explained by the group components.

        Parameters
        ----------
        imgs : 4D image-like or list of them
        confounds : list of confounds, optional
        per_component : bool, default=False
            One score per component instead of one for all.

        Returns
        -------
        score : float or ndarray of shape (n_components,)
            ``1 - residual / total`` sum of squares of the stacked (rotated)
            runs after regression on the components (nilearn's score).
        """
        check_is_fitted(self)
        imgs, single = _as_list(imgs)
        confounds = _confounds_list(confounds, len(imgs), single)
        parts = []
        for img, confound in zip(imgs, confounds):
            signals = masked_signals(img, self.mask_img_, confounds=confound, **self._signal_kwargs())
            parts.append(reduce_subject(signals, signals.shape[0], self.random_state))
            del signals
        data = np.concatenate(parts, axis=0)
        return _explained_variance(data, self.components_, per_component)


def _signals_from_reductions(
    stacked: np.ndarray, norms: np.ndarray, rotations: list, labels: np.ndarray, n_parcels: int
) -> list[np.ndarray]:
    """Parcel means of each subject's cleaned signals, rebuilt from its reduction.

    ``stacked`` holds the subjects' reductions divided by ``norms`` (row-wise);
    subject ``s`` has signals ``rotations[s] @ reduced_s``. ``labels`` are
    ``0 .. n_parcels - 1`` per voxel.
    """
    from scipy import sparse

    n_voxels = labels.size
    counts = np.bincount(labels, minlength=n_parcels).astype(np.float64)
    averaging = sparse.csr_matrix(
        (1.0 / counts[labels], (labels, np.arange(n_voxels))), shape=(n_parcels, n_voxels)
    )
    signals = []
    row = 0
    for rotation in rotations:
        n_rows = rotation.shape[1]
        means = np.zeros((n_rows, n_parcels), dtype=np.float64)
        for start in range(0, n_voxels, 32768):
            block = stacked[row : row + n_rows, start : start + 32768].astype(np.float64)
            means += (averaging[:, start : start + 32768] @ block.T).T
        means *= norms[row : row + n_rows, None]
        signals.append((rotation @ means).astype(np.float32))
        row += n_rows
    return signals


def _extract(masker: Any, img: Any, confound: Any) -> np.ndarray:
    """Parcel signals of one run with a fresh copy of ``masker``."""
    from sklearn.base import clone

    return clone(masker).fit_transform(img, confounds=confound)

