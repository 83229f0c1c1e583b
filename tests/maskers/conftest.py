"""Fixtures for the masker tests; the data builders live in masker_data.py."""

from __future__ import annotations

import pytest
from masker_data import SEEDS, make_bold, make_mask


@pytest.fixture
def bold(rng):
    return make_bold(rng)


@pytest.fixture
def mask_img(rng):
    return make_mask(rng)


@pytest.fixture
def seeds():
    return list(SEEDS)
