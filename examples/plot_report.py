"""
An HTML report of a fitted masker
=================================

A report shows what an estimator did: where the spheres sit, how many voxels
each one read, which came out empty, and the parameters used. It is one
self-contained HTML file (figures inline, no network access), which you can
open in a browser, attach to a lab notebook or embed in a page like this one.

The report is built from the fitted masker only: it does not keep the images
given to ``fit``.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np

from regionkit.datasets import load_dosenbach_2010, load_mni152_brain_mask, load_mni152_template
from regionkit.maskers import NiftiSpheresMasker

# %%
# Fit a masker on the Dosenbach 160 coordinates
# ---------------------------------------------
# The masker is fitted on the brain mask grid (4 mm): no run is needed to see
# where the spheres fall. One extra seed is placed outside the brain to show how
# an empty sphere is flagged.
dosenbach = load_dosenbach_2010()
mask_img = load_mni152_brain_mask(resolution=4)
seeds = np.vstack([dosenbach.seeds, [[0, 0, 120]]])
masker = NiftiSpheresMasker(seeds, radius=5, mask_img=mask_img, allow_empty=True,
                            allow_overlap=True)
masker.fit(nib.Nifti1Image(np.zeros(mask_img.shape + (2,), np.float32), mask_img.affine))
print(f"{len(seeds)} spheres, {np.sum(masker.region_coverage_ == 0)} empty")

# %%
# Build the report and save it
# ----------------------------
# ``generate_report`` takes nilearn's options: ``displayed_spheres`` chooses which spheres get their own view (by default the
# first 10); here the last one, the empty sphere, and two others.
report = masker.generate_report(title="Dosenbach-160 spheres, radius 5 mm",
                                displayed_spheres=[0, 80, len(seeds) - 1])
out = Path(tempfile.mkdtemp()) / "spheres_report.html"
report.save_as_html(out)
print(f"saved {out.name}: {out.stat().st_size / 1024:.0f} KiB, self-contained")

# %%
# The report, embedded
# --------------------
# In a notebook, the report object displays itself; here it is shown the same
# way, in an inline frame.
report

# %%
# A figure of the same information
# --------------------------------
# The spheres' coverage (fraction of each sphere inside the brain mask), drawn
# on a projection of the template: the seed outside the brain has coverage 0.
template = np.asarray(load_mni152_template(resolution=2).dataobj, dtype=np.float32)
template_affine = load_mni152_template(resolution=2).affine
ijk = nib.affines.apply_affine(np.linalg.inv(template_affine), seeds)
fig, ax = plt.subplots(figsize=(5.5, 5.5))
ax.imshow(template.max(axis=1).T, origin="lower", cmap="gray")
points = ax.scatter(ijk[:, 0], ijk[:, 2], c=masker.region_coverage_, cmap="viridis_r",
                    vmin=0, vmax=1, s=28, edgecolor="k", linewidth=0.4)
ax.set_title("sphere coverage (coronal projection)")
ax.set_axis_off()
fig.colorbar(points, ax=ax, shrink=0.7, label="fraction of the sphere in the mask")
plt.show()
