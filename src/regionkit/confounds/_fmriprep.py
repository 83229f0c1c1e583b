"""Select confound regressors from fMRIPrep's confounds files.

fMRIPrep writes, next to each preprocessed run, a table of candidate nuisance
regressors (``*_desc-confounds_timeseries.tsv``; ``*_desc-confounds_regressors.tsv``
before fMRIPrep 20.2) and a JSON file describing the CompCor components. The
functions here group those columns into noise components (motion, white matter
and CSF, global signal, CompCor, ICA-AROMA, cosine drift terms, scrubbing) the
way :func:`nilearn.interfaces.fmriprep.load_confounds` does, and return the
selected regressors plus the ``sample_mask`` of volumes to keep.

Order of operations for one file
--------------------------------
1. read the table (``n/a`` -> NaN) and, when needed, the JSON sidecar;
2. always collect fMRIPrep's ``non_steady_state_outlier*`` columns;
3. collect the columns of every requested component (missing ones are
   gathered and reported together);
4. scrubbing turns framewise displacement and standardised DVARS above their
   thresholds into outlier volumes, then drops kept segments shorter than
   ``scrub`` volumes;
5. outlier volumes become ``sample_mask`` (indices of the volumes kept) and
   leave the table; the remaining columns are sorted by name;
6. NaNs of the first row (derivatives) are filled from the second row and the
   columns demeaned (over kept volumes only) when ``demean`` is True.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import Interval, InvalidParameterError, Options, check_parameter
from .._warnings import RegionkitWarning

logger = logging.getLogger(__name__)

__all__ = [
    "COMPONENTS",
    "PRESETS",
    "MissingConfoundError",
    "find_confounds_file",
    "load_confounds",
    "load_confounds_file",
    "load_confounds_strategy",
]

#: Noise components accepted in ``strategy``.
COMPONENTS = (
    "motion",
    "high_pass",
    "wm_csf",
    "global_signal",
    "compcor",
    "ica_aroma",
    "scrub",
    "non_steady_state",
)
_EXPANSIONS = ("basic", "power2", "derivatives", "full")
_COMPCOR_KINDS = (
    "anat_combined",
    "anat_separated",
    "temporal",
    "temporal_anat_combined",
    "temporal_anat_separated",
)

#: Named denoising strategies (as ``nilearn``'s ``load_confounds_strategy``).
PRESETS = {
    "simple": {
        "strategy": ("high_pass", "motion", "wm_csf"),
        "motion": "full",
        "wm_csf": "basic",
        "global_signal": None,
        "demean": True,
    },
    "scrubbing": {
        "strategy": ("high_pass", "motion", "wm_csf", "scrub"),
        "motion": "full",
        "wm_csf": "full",
        "scrub": 5,
        "fd_threshold": 0.5,
        "std_dvars_threshold": 1.5,
        "global_signal": None,
        "demean": True,
    },
    "compcor": {
        "strategy": ("high_pass", "motion", "compcor"),
        "motion": "full",
        "n_compcor": "all",
        "compcor": "anat_combined",
        "global_signal": None,
        "demean": True,
    },
    "ica_aroma": {
        "strategy": ("high_pass", "wm_csf", "ica_aroma"),
        "wm_csf": "basic",
        "ica_aroma": "full",
        "global_signal": None,
        "demean": True,
    },
}

_CONFOUNDS_SUFFIXES = ("_timeseries.tsv", "_regressors.tsv")
# Entities fMRIPrep keeps in a confounds file name (space/res/den/desc are dropped).
_IMAGE_ONLY_ENTITIES = {"space", "res", "den", "desc", "cohort", "hemi"}
_ENTITY_RE = re.compile(r"([a-zA-Z0-9]+)-([a-zA-Z0-9]+)")


class MissingConfoundError(ValueError):
    """Columns a strategy asks for are absent from the confounds file."""


# --------------------------------------------------------------------------
# finding and reading files
# --------------------------------------------------------------------------
def _split_entities(filename: str) -> tuple[dict[str, str], str]:
    """Return the ``key-value`` entities of a BIDS file name and its suffix."""
    stem = filename.split(".", 1)[0]
    parts = stem.split("_")
    entities: dict[str, str] = {}
    suffix = ""
    for part in parts:
        match = _ENTITY_RE.fullmatch(part)
        if match:
            entities[match.group(1)] = match.group(2)
        else:
            suffix = part
    return entities, suffix


def find_confounds_file(img_file: str | Path) -> Path:
    """Find the fMRIPrep confounds table that belongs to a preprocessed run.

    Parameters
    ----------
    img_file : str or pathlib.Path
        A run written by fMRIPrep, e.g.
        ``sub-01_task-rest_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz``.

    Returns
    -------
    pathlib.Path
        The ``*_desc-confounds_timeseries.tsv`` (or older
        ``*_desc-confounds_regressors.tsv``) in the same folder whose entities
        (other than ``desc``) all appear, with the same values, in the run's
        name.

    Raises
    ------
    FileNotFoundError
        No such file, naming the run and the folder searched.
    ValueError
        More than one candidate.
    """
    img_path = Path(img_file)
    image_entities, _ = _split_entities(img_path.name)
    kept = {k: v for k, v in image_entities.items() if k not in _IMAGE_ONLY_ENTITIES}
    candidates = []
    folder = img_path.parent
    if folder.is_dir():
        for path in folder.iterdir():
            if not path.name.endswith(_CONFOUNDS_SUFFIXES):
                continue
            entities, _ = _split_entities(path.name)
            if entities.pop("desc", None) != "confounds":
                continue
            if entities and all(kept.get(k) == v for k, v in entities.items()):
                candidates.append(path)
    if not candidates:
        raise FileNotFoundError(
            f"No fMRIPrep confounds file (*_desc-confounds_timeseries.tsv or "
            f"*_desc-confounds_regressors.tsv) for {img_path.name!r} in {str(folder)!r}."
        )
    if len(candidates) > 1:
        # The most specific name wins when it holds every entity of the run.
        exact = [p for p in candidates if len(_split_entities(p.name)[0]) - 1 == len(kept)]
        if len(exact) == 1:
            return exact[0]
        names = ", ".join(sorted(p.name for p in candidates))
        raise ValueError(
            f"More than one confounds file matches {img_path.name!r}: {names}."
        )
    return candidates[0]


def _read_table(confounds_file: Path) -> pd.DataFrame:
    table = pd.read_csv(confounds_file, sep="\t", na_values=["n/a"], encoding="utf-8")
    if table.shape[1] == 0:
        raise ValueError(f"Confounds file {str(confounds_file)!r} has no column.")
    first = str(table.columns[0])
    try:
        float(first)
    except ValueError:
        pass
    else:
        raise ValueError(
            f"Confounds file {str(confounds_file)!r} has no header row (its first "
            f"column is named {first!r}); fMRIPrep >= 1.2 writes named columns."
        )
    camel = [c for c in table.columns if re.search(r"[a-z][A-Z]", str(c))]
    if camel:
        raise ValueError(
            f"Confounds file {str(confounds_file)!r} has camelCase columns "
            f"({camel[:3]} ...), written by fMRIPrep 1.0/1.1; fMRIPrep >= 1.2 is needed."
        )
    return table


def _json_path(confounds_file: Path) -> Path:
    return confounds_file.with_name(confounds_file.name[: -len(".tsv")] + ".json")


def _read_json(json_file: Path | None, required_for: str | None) -> dict:
    if json_file is not None and Path(json_file).is_file():
        with open(json_file, encoding="utf-8") as handle:
            return json.load(handle)
    if required_for:
        raise FileNotFoundError(
            f"{required_for} needs the confounds JSON sidecar {str(json_file)!r}, "
            "which does not exist (fMRIPrep >= 1.4 writes it)."
        )
    return {}


# --------------------------------------------------------------------------
# components
# --------------------------------------------------------------------------
def _expand(base: Sequence[str], model: str) -> list[str]:
    """Column names of a 'basic/derivatives/power2/full' expansion."""
    suffixes = {
        "basic": (),
        "derivatives": ("_derivative1",),
        "power2": ("_power2",),
        "full": ("_derivative1", "_power2", "_derivative1_power2"),
    }[model]
    return list(base) + [name + s for name in base for s in suffixes]


def _columns_containing(table: pd.DataFrame, word: str) -> list[str]:
    return [c for c in table.columns if word in c]


def _compcor_columns(meta: dict, compcor: str, n_compcor) -> list[str]:
    """CompCor columns named in the JSON sidecar for a CompCor kind."""
    prefixes = {
        "anat_combined": ("a",),
        "anat_separated": ("a", "w", "c"),
        "temporal": ("t",),
        "temporal_anat_combined": ("t", "a"),
        "temporal_anat_separated": ("t", "a", "w", "c"),
    }[compcor]
    masks = ("combined",) if compcor.endswith("combined") else ("WM", "CSF")

    def first(names: list[str]) -> list[str]:
        return names if n_compcor == "all" else names[: int(n_compcor)]

    selected: list[str] = []
    for prefix in prefixes:
        n_named = sum(f"{prefix}_comp_cor" in key for key in meta)
        names = [f"{prefix}_comp_cor_{i:02d}" for i in range(n_named)]
        if prefix == "a":
            for mask in masks:
                selected += first(
                    [n for n in names if meta.get(n, {}).get("Mask") == mask]
                )
        else:
            selected += first(names)
    return selected


def _scrub_outliers(
    table: pd.DataFrame, scrub: int, fd_threshold: float, std_dvars_threshold: float
) -> np.ndarray:
    """Indices of volumes removed by scrubbing (Power et al. 2014)."""
    missing = [c for c in ("framewise_displacement", "std_dvars") if c not in table]
    if missing:
        raise MissingConfoundError(
            f"Scrubbing needs the columns {missing}, absent from the confounds file."
        )
    fd = table["framewise_displacement"].to_numpy(dtype=float)
    dvars = table["std_dvars"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        flagged = (fd > fd_threshold) | (dvars > std_dvars_threshold)
    if scrub > 0 and flagged.any():
        # Drop every run of kept volumes shorter than `scrub`.
        kept = ~flagged
        edges = np.diff(np.concatenate(([0], kept.astype(np.int8), [0])))
        starts = np.flatnonzero(edges == 1)
        stops = np.flatnonzero(edges == -1)
        for start, stop in zip(starts, stops, strict=True):
            if stop - start < scrub:
                flagged[start:stop] = True
    return np.flatnonzero(flagged)


def _select_component(
    table: pd.DataFrame, component: str, meta: dict, params: dict
) -> tuple[list[str], list[str]]:
    """Columns of one component and the names it expected but did not find."""
    if component == "motion":
        wanted = _expand(
            ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"], params["motion"]
        )
    elif component == "wm_csf":
        wanted = _expand(["csf", "white_matter"], params["wm_csf"])
    elif component == "global_signal":
        wanted = _expand(["global_signal"], params["global_signal"])
    elif component == "compcor":
        wanted = _compcor_columns(meta, params["compcor"], params["n_compcor"])
        if not wanted:
            return [], [f"compcor ({params['compcor']}, none listed in the JSON sidecar)"]
    elif component == "high_pass":
        return _columns_containing(table, "cosine"), []
    elif component == "non_steady_state":
        return _columns_containing(table, "non_steady_state"), []
    elif component == "ica_aroma":
        if params["ica_aroma"] == "full":
            return [], []
        found = _columns_containing(table, "aroma")
        return found, ([] if found else ["ica_aroma (no *aroma* column)"])
    else:  # pragma: no cover - guarded by validation
        raise ValueError(component)
    missing = [c for c in wanted if c not in table.columns]
    return [c for c in wanted if c in table.columns], missing


# --------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------
def _check_arguments(strategy, params: dict) -> tuple[str, ...]:
    if not isinstance(strategy, (tuple, list)):
        raise InvalidParameterError(
            "The 'strategy' parameter of load_confounds must be a tuple or list of "
            f"component names among {COMPONENTS}. Got {strategy!r} instead."
        )
    for component in strategy:
        check_parameter("strategy", component, [Options(COMPONENTS)], "load_confounds")
    if "non_steady_state" in strategy:
        warnings.warn(
            "'non_steady_state' in strategy has no effect: fMRIPrep's non-steady-state "
            "volumes are always removed through sample_mask.",
            RegionkitWarning,
            stacklevel=3,
        )
    if "compcor" in strategy and "high_pass" not in strategy:
        raise ValueError(
            "The 'strategy' parameter of load_confounds must include 'high_pass' when "
            f"it includes 'compcor' (fMRIPrep's CompCor assumes it). Got {tuple(strategy)}."
        )
    owner = "load_confounds"
    for name in ("motion", "wm_csf", "global_signal"):
        if name in strategy:
            check_parameter(name, params[name], [Options(_EXPANSIONS)], owner)
    if "compcor" in strategy:
        check_parameter("compcor", params["compcor"], [Options(_COMPCOR_KINDS)], owner)
        check_parameter(
            "n_compcor", params["n_compcor"], [Options(("all",)), Interval("int", 0, None)], owner
        )
    if "ica_aroma" in strategy:
        check_parameter("ica_aroma", params["ica_aroma"], [Options(("full", "basic"))], owner)
    if "scrub" in strategy:
        check_parameter("scrub", params["scrub"], [Interval("int", 0, None)], owner)
        check_parameter("fd_threshold", params["fd_threshold"], [Interval("real", 0, None)], owner)
        check_parameter(
            "std_dvars_threshold", params["std_dvars_threshold"], [Interval("real", 0, None)], owner
        )
    check_parameter("demean", params["demean"], ["boolean"], owner)
    return tuple(strategy)


def load_confounds_file(
    confounds_file: str | Path,
    strategy: Sequence[str] = ("motion", "high_pass", "wm_csf"),
    *,
    motion: str = "full",
    scrub: int = 5,
    fd_threshold: float = 0.5,
    std_dvars_threshold: float = 1.5,
    wm_csf: str = "basic",
    global_signal: str = "basic",
    compcor: str = "anat_combined",
    n_compcor: int | str = "all",
    ica_aroma: str = "full",
    demean: bool = True,
    columns: Sequence[str] = (),
    json_file: str | Path | None = None,
) -> tuple[pd.DataFrame | None, np.ndarray | None]:
    """Select regressors from one fMRIPrep confounds table.

    Parameters
    ----------
    confounds_file : str or pathlib.Path
        A ``*_desc-confounds_timeseries.tsv`` (or ``*_regressors.tsv``) file.
    strategy : sequence of str, default=("motion", "high_pass", "wm_csf")
        Noise components to include, among :data:`COMPONENTS`. See
        :func:`load_confounds` for the meaning of each and of the other
        parameters.
    motion, scrub, fd_threshold, std_dvars_threshold, wm_csf, global_signal, \
compcor, n_compcor, ica_aroma, demean
        As in :func:`load_confounds`.
    columns : sequence of str, default=()
        Extra columns selected by exact name (e.g. ``"rmsd"``); a missing
        name is an error like a missing component column.
    json_file : str or pathlib.Path, optional
        The JSON sidecar; by default the file next to ``confounds_file`` with
        the same name ending in ``.json``. Needed only for CompCor.

    Returns
    -------
    confounds : pandas.DataFrame of shape (n_volumes, n_regressors) or None
        Selected regressors, columns sorted by name; None when ``strategy``
        and ``columns`` are both empty.
    sample_mask : ndarray of shape (n_kept_volumes,) or None
        Indices of the volumes kept (non-steady-state and scrubbed volumes
        removed), or None when every volume is kept.

    Raises
    ------
    MissingConfoundError
        Naming every column the strategy asked for and the file lacks.
    """
    params = {
        "motion": motion,
        "scrub": scrub,
        "fd_threshold": fd_threshold,
        "std_dvars_threshold": std_dvars_threshold,
        "wm_csf": wm_csf,
        "global_signal": global_signal,
        "compcor": compcor,
        "n_compcor": n_compcor,
        "ica_aroma": ica_aroma,
        "demean": demean,
    }
    strategy = _check_arguments(strategy, params)
    confounds_file = Path(confounds_file)
    if not confounds_file.is_file():
        raise FileNotFoundError(f"Confounds file {str(confounds_file)!r} does not exist.")
    table = _read_table(confounds_file)
    needs_json = "compcor" in strategy
    meta = _read_json(
        Path(json_file) if json_file is not None else _json_path(confounds_file),
        "CompCor" if needs_json else None,
    )

    selected: list[str] = []
    missing: list[str] = []
    outlier_columns: list[str] = []
    for component in ("non_steady_state", *strategy):
        if component == "scrub":
            continue
        found, absent = _select_component(table, component, meta, params)
        target = outlier_columns if component == "non_steady_state" else selected
        target += [c for c in found if c not in target]
        missing += absent
    missing += [c for c in columns if c not in table.columns]
    if missing:
        raise MissingConfoundError(
            f"The confounds file {str(confounds_file)!r} lacks columns required by "
            f"strategy {list(strategy)}{' and columns ' + str(list(columns)) if columns else ''}: "
            f"{missing}. Try another strategy or parameters."
        )
    selected += [c for c in columns if c not in selected]

    n_volumes = len(table)
    removed = np.zeros(n_volumes, dtype=bool)
    has_outliers = False
    # Columns that flag outliers never stay regressors, whichever component chose them.
    flag_columns = [c for c in selected if "motion_outlier" in c or "non_steady_state" in c]
    for name in [*outlier_columns, *flag_columns]:
        has_outliers = True
        removed |= table[name].to_numpy(dtype=float) != 0
    selected = [c for c in selected if c not in flag_columns]
    if "scrub" in strategy:
        scrubbed = _scrub_outliers(table, scrub, fd_threshold, std_dvars_threshold)
        if scrubbed.size:
            has_outliers = True
            removed[scrubbed] = True
    sample_mask = np.flatnonzero(~removed) if has_outliers else None
    if sample_mask is not None and sample_mask.size == 0:
        warnings.warn(
            f"Every volume of {confounds_file.name!r} is marked as an outlier: the "
            "sample_mask is empty.",
            RegionkitWarning,
            stacklevel=2,
        )

    if not strategy and not columns:
        return None, sample_mask
    confounds = table.loc[:, sorted(set(selected))].astype(float)
    if confounds.shape[1]:
        if n_volumes > 1:
            first_row_nan = confounds.iloc[0].isna().to_numpy()
            confounds.iloc[0, first_row_nan] = confounds.iloc[1, first_row_nan]
        if demean:
            rows = confounds if sample_mask is None else confounds.iloc[sample_mask]
            confounds = confounds - rows.mean(axis=0, skipna=True)
    confounds = confounds.reset_index(drop=True)
    return confounds, sample_mask


def load_confounds(
    img_files,
    strategy: Sequence[str] = ("motion", "high_pass", "wm_csf"),
    motion: str = "full",
    scrub: int = 5,
    fd_threshold: float = 0.5,
    std_dvars_threshold: float = 1.5,
    wm_csf: str = "basic",
    global_signal: str = "basic",
    compcor: str = "anat_combined",
    n_compcor: int | str = "all",
    ica_aroma: str = "full",
    demean: bool = True,
):
    """Load the confounds fMRIPrep wrote for one or several preprocessed runs.

    Same parameters and results as ``nilearn.interfaces.fmriprep.load_confounds``
    (0.14.1) for NIfTI runs (TEDANA, CIFTI and GIfTI inputs are not supported).

    Parameters
    ----------
    img_files : str, pathlib.Path or list of them
        Preprocessed runs (``*_desc-preproc_bold.nii.gz``, or
        ``*_desc-smoothAROMAnonaggr_bold.nii.gz`` for the full ICA-AROMA
        strategy); each run's confounds table is found in its folder.
    strategy : sequence of str, default=("motion", "high_pass", "wm_csf")
        Noise components: ``"motion"`` (head motion, see ``motion``),
        ``"wm_csf"`` (white matter and CSF means), ``"global_signal"``,
        ``"compcor"`` (needs ``"high_pass"``), ``"ica_aroma"``, ``"scrub"``
        (volumes above the FD/DVARS thresholds removed through
        ``sample_mask``), ``"high_pass"`` (fMRIPrep's cosine drift terms).
        Non-steady-state volumes are always removed.
    motion, wm_csf, global_signal : {"basic", "power2", "derivatives", "full"}
        Expansion of each component: the base columns (6 motion, 2 WM/CSF, 1
        global), plus squares, plus temporal derivatives, or all of them and
        the squared derivatives (24 motion parameters for "full").
    scrub : int, default=5
        After flagging high-motion volumes, also drop kept segments shorter
        than this many volumes; 0 keeps them.
    fd_threshold : float, default=0.5
        Framewise displacement threshold in mm.
    std_dvars_threshold : float, default=1.5
        Standardized DVARS threshold.
    compcor : str, default="anat_combined"
        One of "anat_combined", "anat_separated", "temporal",
        "temporal_anat_combined", "temporal_anat_separated".
    n_compcor : int or "all", default="all"
        Components kept per CompCor mask.
    ica_aroma : {"full", "basic"}, default="full"
        "full": the input is fMRIPrep's non-aggressively denoised run and no
        regressor is added; "basic": the noise components' columns.
    demean : bool, default=True
        Remove each regressor's mean over the kept volumes.

    Returns
    -------
    confounds : pandas.DataFrame or list of them, or None
        Shape (n_volumes, n_regressors) per run; None for an empty strategy.
    sample_mask : ndarray or None, or list of them
        Indices of the kept volumes, None when every volume is kept.

    Examples
    --------
    >>> confounds, sample_mask = load_confounds(  # doctest: +SKIP
    ...     "sub-01_task-rest_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz",
    ...     strategy=("motion", "wm_csf", "scrub"), motion="basic")
    """
    single = isinstance(img_files, (str, Path))
    files = [img_files] if single else list(img_files)
    params = {
        "motion": motion,
        "scrub": scrub,
        "fd_threshold": fd_threshold,
        "std_dvars_threshold": std_dvars_threshold,
        "wm_csf": wm_csf,
        "global_signal": global_signal,
        "compcor": compcor,
        "n_compcor": n_compcor,
        "ica_aroma": ica_aroma,
        "demean": demean,
    }
    strategy = _check_arguments(strategy, params)
    if not strategy:
        warnings.warn(
            "strategy is empty: no confound is loaded (only sample_mask).",
            RegionkitWarning,
            stacklevel=2,
        )
    full_aroma = "ica_aroma" in strategy and ica_aroma == "full"
    all_confounds, all_masks = [], []
    for img_file in files:
        name = Path(img_file).name
        if full_aroma and "_desc-smoothAROMAnonaggr_bold" not in name:
            raise ValueError(
                f"The full ICA-AROMA strategy needs fMRIPrep's "
                f"*_desc-smoothAROMAnonaggr_bold.nii.gz run, got {name!r}."
            )
        if not full_aroma and not re.search(r"_desc-preproc_bold\.nii(\.gz)?$", name):
            raise ValueError(
                f"load_confounds needs an fMRIPrep run named "
                f"*_desc-preproc_bold.nii[.gz], got {name!r}."
            )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="'non_steady_state'", category=RegionkitWarning)
            confounds, sample_mask = load_confounds_file(
                find_confounds_file(img_file), strategy, **params
            )
        all_confounds.append(confounds)
        all_masks.append(sample_mask)
    if single:
        return all_confounds[0], all_masks[0]
    return (None if not strategy else all_confounds), all_masks


def _resolve_preset(denoise_strategy: str, kwargs: dict) -> dict:
    """Parameters of a named strategy updated with the user's values."""
    check_parameter(
        "denoise_strategy", denoise_strategy, [Options(tuple(PRESETS))], "load_confounds_strategy"
    )
    parameters = dict(PRESETS[denoise_strategy])
    parameters["strategy"] = tuple(parameters["strategy"])
    accepted = [k for k in parameters if k not in ("strategy", "ica_aroma")]
    for key in accepted:
        value = kwargs.pop(key, None)
        if value is not None:
            parameters[key] = value
        if key == "global_signal":
            if isinstance(value, str):
                parameters["strategy"] += ("global_signal",)
            else:
                parameters.pop("global_signal", None)
    if kwargs:
        warnings.warn(
            f"Parameters {sorted(kwargs)} do not apply to the {denoise_strategy!r} "
            f"strategy and are ignored; it accepts {accepted}.",
            RegionkitWarning,
            stacklevel=3,
        )
    return parameters


def load_confounds_strategy(img_files, denoise_strategy: str = "simple", **kwargs):
    """Load fMRIPrep confounds with a named denoising strategy.

    Parameters
    ----------
    img_files : str, pathlib.Path or list of them
        As in :func:`load_confounds`.
    denoise_strategy : {"simple", "scrubbing", "compcor", "ica_aroma"}
        ``"simple"``: cosine terms, 24 motion parameters, WM and CSF means.
        ``"scrubbing"``: as simple with the full WM/CSF expansion plus
        scrubbing (FD > 0.5 mm, std DVARS > 1.5, segments < 5 volumes).
        ``"compcor"``: cosine terms, 24 motion parameters, anatomical
        CompCor. ``"ica_aroma"``: cosine terms and WM/CSF means on the
        non-aggressively denoised run. ``global_signal="basic"`` (etc.) adds
        the global signal to any of them.
    **kwargs
        Overrides of the strategy's parameters (see :data:`PRESETS`).

    Returns
    -------
    confounds, sample_mask
        As :func:`load_confounds`.
    """
    parameters = _resolve_preset(denoise_strategy, dict(kwargs))
    return load_confounds(img_files, **parameters)
