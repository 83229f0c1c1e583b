"""Clean region or voxel time series: detrend, filter, censor, regress, standardize.

Arrays hold time along the first axis: ``signals`` is ``(n_timepoints,
n_features)``. :func:`clean` reproduces ``nilearn.signal.clean`` (0.14.1) and is
built from the public steps :func:`detrend`, :func:`butterworth` and
:func:`standardize_signal`; :func:`high_variance_confounds` is the array-level
CompCor helper.

Work is done on column blocks in float64 and written back in the input's float
dtype, so a ``(300, 200000)`` float32 voxel array costs one float32 output plus
a few megabytes of temporaries, while small region arrays get float64 accuracy.

Modules: ``_clean`` (the pipeline), ``_inputs`` (confounds, runs, sample
masks), one module per step (``_detrend``, ``_standardize``, ``_butterworth``,
``_compcor``) and ``_common`` (constants, errors, warnings).
"""

from ._butterworth import butterworth
from ._clean import clean
from ._common import AllVolumesRemovedError, StandardizeDeprecationWarning
from ._compcor import high_variance_confounds
from ._detrend import detrend
from ._standardize import standardize_signal

__all__ = [
    "AllVolumesRemovedError",
    "StandardizeDeprecationWarning",
    "butterworth",
    "clean",
    "detrend",
    "high_variance_confounds",
    "standardize_signal",
]
