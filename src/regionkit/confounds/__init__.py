"""Confound regressors from fMRIPrep outputs.

:func:`load_confounds` and :func:`load_confounds_strategy` mirror nilearn's
``nilearn.interfaces.fmriprep`` functions of the same names (NIfTI runs);
:func:`load_confounds_file` works on a confounds table directly and can add
columns by name.
"""

from ._fmriprep import (
    COMPONENTS,
    PRESETS,
    MissingConfoundError,
    find_confounds_file,
    load_confounds,
    load_confounds_file,
    load_confounds_strategy,
)

__all__ = [
    "COMPONENTS",
    "PRESETS",
    "MissingConfoundError",
    "find_confounds_file",
    "load_confounds",
    "load_confounds_file",
    "load_confounds_strategy",
]
