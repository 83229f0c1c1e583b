"""Fit-time warnings and input file names reach the report."""

import html as html_lib

import nibabel as nib
import numpy as np
import pytest

from regionkit import EmptyRegionWarning
from regionkit.maskers import NiftiLabelsMasker

pytest.importorskip("matplotlib")


def test_fit_warning_and_file_name_shown_in_report(tmp_path):
    labels = np.zeros((8, 8, 8), "i2")
    labels[:4] = 1
    labels[4:, :2] = 2
    mask = np.zeros((8, 8, 8), "u1")
    mask[:4] = 1
    run = tmp_path / "sub-01_bold.nii.gz"
    nib.save(nib.Nifti1Image(np.random.default_rng(0).random((8, 8, 8, 5), "f4"), np.eye(4)), run)
    masker = NiftiLabelsMasker(
        nib.Nifti1Image(labels, np.eye(4)), mask_img=nib.Nifti1Image(mask, np.eye(4))
    )
    with pytest.warns(EmptyRegionWarning, match=r"dropped: \[2\]"):
        masker.fit(str(run))
    page = html_lib.unescape(masker.generate_report().get_standalone())
    assert "EmptyRegionWarning" in page
    assert "dropped: [2]" in page
    assert str(run) in page


def test_reports_false_keeps_nothing(tmp_path):
    labels = np.ones((4, 4, 4), "i2")
    masker = NiftiLabelsMasker(nib.Nifti1Image(labels, np.eye(4)), reports=False)
    masker.fit()
    assert masker._report_extras is None
