"""Shared test configuration and tiny synthetic fixtures (nothing is downloaded)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

# pytest-xdist runs one worker per core: one BLAS/OpenMP thread each avoids
# oversubscription (scikit-learn's k-means slows down 100x when oversubscribed).
_THREAD_LIMITS = threadpool_limits(limits=1)

settings.register_profile(
    "regionkit",
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
settings.register_profile("ci", parent=settings.get_profile("regionkit"), max_examples=25)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "regionkit"))


@pytest.fixture
def rng():
    """A seeded random generator, fresh for each test."""
    return np.random.default_rng(0)


@pytest.fixture
def affine_3mm():
    """A simple diagonal affine with 3 mm voxels and a shifted origin."""
    affine = np.diag([3.0, 3.0, 3.0, 1.0])
    affine[:3, 3] = [-30.0, -36.0, -27.0]
    return affine
