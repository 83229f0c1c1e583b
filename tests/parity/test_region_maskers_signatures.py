"""Labels, maps and Nifti maskers take nilearn 0.14.1's parameters, in order, with its defaults."""

from __future__ import annotations

import inspect

import pytest

from regionkit import maskers

nilearn_maskers = pytest.importorskip("nilearn.maskers")

NAMES = ["NiftiLabelsMasker", "NiftiMapsMasker", "NiftiMasker", "MultiNiftiMasker"]


def _parameters(cls):
    return [
        (p.name, p.default)
        for p in inspect.signature(cls).parameters.values()
        if p.kind is not inspect.Parameter.VAR_KEYWORD
    ]


@pytest.mark.parametrize("name", NAMES)
def test_signature_matches_nilearn(name):
    ours = _parameters(getattr(maskers, name))
    theirs = _parameters(getattr(nilearn_maskers, name))
    assert ours == theirs
    # the only addition: clean__<name> keyword arguments
    assert list(inspect.signature(getattr(maskers, name)).parameters)[-1] == "kwargs"
