"""Report numbers next to nilearn 0.14.1's own report tables (nilearn is the oracle)."""

from __future__ import annotations

import warnings

import numpy as np
import report_fakes as fakes
from report_helpers import region_table

from regionkit.reporting import make_report


def _nilearn_summary(masker):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nilearn's own report warnings
        masker.generate_report()
    return masker._report_content["summary"]


def test_labels_volumes_match_nilearns_report():
    from nilearn.maskers import NiftiLabelsMasker as NilearnLabelsMasker

    from regionkit.maskers import NiftiLabelsMasker

    labels_img = fakes.nifti(fakes.labels_data())
    theirs = _nilearn_summary(NilearnLabelsMasker(labels_img).fit())
    rows = region_table(make_report(NiftiLabelsMasker(labels_img).fit()).body)
    assert [int(r["label"]) for r in rows] == theirs["label value"].tolist()
    assert [r["name"] for r in rows] == [str(n) for n in theirs["region name"]]
    np.testing.assert_allclose(
        [float(r["volume (mm3)"]) for r in rows], theirs["size (in mm^3)"].to_numpy()
    )
