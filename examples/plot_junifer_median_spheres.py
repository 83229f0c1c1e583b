"""
junifer-style median spheres, with an empty sphere
==================================================

junifer's sphere masker summarises each sphere with any function (the median
is a common choice, robust to a few outlying voxels) and keeps going when a
sphere has no voxel in the mask: that column is NaN and a warning says which.
nilearn's masker stops with an error instead.

regionkit offers both behaviours on one class:
:class:`~regionkit.maskers.NiftiSpheresMasker` takes ``agg_func`` (a callable,
a name, or several at once) and ``allow_empty``;
:class:`~regionkit.maskers.JuniferNiftiSpheresMasker` is the same class with
junifer's defaults (``allow_empty=True``), so a junifer user changes an import.
"""

import warnings

import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np

from regionkit import EmptyRegionWarning
from regionkit.datasets import load_mni152_brain_mask
from regionkit.maskers import JuniferNiftiSpheresMasker, NiftiSpheresMasker

# %%
# A small synthetic run with outlying voxels
# ------------------------------------------
# Noise everywhere in the brain, a shared signal, and 2 % of the voxels hit by
# large spikes: the mean of a sphere follows the spikes, the median does not.
mask_img = load_mni152_brain_mask(resolution=4)
in_brain = np.asarray(mask_img.dataobj) > 0
rng = np.random.default_rng(1)
n_volumes = 80
shared = np.sin(np.linspace(0, 6 * np.pi, n_volumes))
voxels = shared + 0.5 * rng.standard_normal((in_brain.sum(), n_volumes))
spiky = rng.random(voxels.shape) < 0.02
voxels[spiky] += rng.choice([-15.0, 15.0], size=spiky.sum())
data = np.zeros(mask_img.shape + (n_volumes,), dtype=np.float32)
data[in_brain] = voxels
bold_img = nib.Nifti1Image(data, mask_img.affine)

# Four seeds in the brain (left/right motor cortex, precuneus, medial
# prefrontal cortex) and one 30 mm above the scalp, which no brain voxel reaches.
seeds = [(-38, -22, 56), (38, -22, 56), (0, -60, 40), (0, 52, -6), (0, 0, 120)]

# %%
# nilearn's behaviour: an empty sphere is an error
# ------------------------------------------------
try:
    NiftiSpheresMasker(seeds, radius=8, mask_img=mask_img).fit_transform(bold_img)
except ValueError as error:
    print(f"ValueError: {error}")

# %%
# junifer's behaviour: NaN for the empty sphere, one warning
# ----------------------------------------------------------
# Several aggregations are computed in the same pass over the data; the
# DataFrame columns say which is which.
masker = JuniferNiftiSpheresMasker(seeds, radius=8, mask_img=mask_img,
                                   agg_func=["mean", "median"])
masker.set_output(transform="pandas")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", EmptyRegionWarning)
    signals = masker.fit_transform(bold_img)
for warning in caught:
    print(f"{warning.category.__name__}: {warning.message}")
print(signals.iloc[:3].round(2).to_string())
print("coverage of each sphere:", np.round(masker.region_coverage_, 2))

# %%
# Mean and median of one sphere
# -----------------------------
columns = list(signals.columns)
fig, (ax_series, ax_bars) = plt.subplots(1, 2, figsize=(11, 3.8),
                                         gridspec_kw={"width_ratios": [2.2, 1]})
ax_series.plot(signals[columns[0]], label=f"{columns[0]}", color="0.6")
ax_series.plot(signals[columns[len(seeds)]], label=f"{columns[len(seeds)]}", color="C3")
ax_series.plot(shared, "k--", lw=1, label="planted signal")
ax_series.set_xlabel("volume")
ax_series.set_title("one sphere: mean follows the spikes, median does not")
ax_series.legend(fontsize=8, loc="upper right")

median_columns = columns[len(seeds):]
error = [np.abs(signals[c] - shared).mean() for c in median_columns]
positions = np.arange(len(seeds))
ax_bars.bar(positions, np.nan_to_num(error), color=["C3"] * 4 + ["0.8"])
ax_bars.set_xticks(positions, [f"seed {i}" for i in positions], rotation=30)
ax_bars.text(positions[-1], 0.02, "empty\n(NaN)", ha="center", va="bottom", fontsize=8)
ax_bars.set_title("median: mean absolute error")
fig.tight_layout()
plt.show()
