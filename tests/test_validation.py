import numpy as np
import pytest

from regionkit._validation import (
    Interval,
    InvalidParameterError,
    Options,
    check_parameter,
    validate_params,
)


def test_interval_message_names_owner_value_and_range():
    with pytest.raises(InvalidParameterError) as excinfo:
        check_parameter("n_parcels", 0, [Interval("int", 1, None)], "Parcellations")
    assert str(excinfo.value) == (
        "The 'n_parcels' parameter of Parcellations must be an int in the range "
        "[1, inf). Got 0 instead."
    )
    # Callers catching either builtin type see it.
    assert isinstance(excinfo.value, ValueError)
    assert isinstance(excinfo.value, TypeError)


@pytest.mark.parametrize(
    ("value", "ok"),
    [(1, True), (np.int64(5), True), (True, False), (1.5, False), ("1", False), (0, False)],
)
def test_int_interval_accepts_integral_only(value, ok):
    assert Interval("int", 1, None).accepts(value) is ok


def test_real_interval_open_bounds():
    rule = Interval("real", 0, 1, closed="neither")
    assert rule.accepts(0.5)
    assert not rule.accepts(0)
    assert not rule.accepts(1.0)
    assert rule.describe() == "a float in the range (0, 1)"


def test_options_distinguish_true_from_one():
    rule = Options(["zscore", True, False, None])
    assert rule.accepts(True)
    assert rule.accepts(None)
    assert not rule.accepts(1)
    assert not rule.accepts("psc")


def test_validate_params_lists_alternatives():
    constraints = {"standardize": [Options(["zscore", "psc"]), "boolean", None]}
    validate_params({"standardize": "psc"}, constraints, "clean")
    with pytest.raises(InvalidParameterError, match=r"one of \{'zscore', 'psc'\}, a bool or None. Got 'z' instead"):
        validate_params({"standardize": "z"}, constraints, "clean")


def test_unlisted_parameters_are_ignored():
    validate_params({"other": object()}, {"x": [None]})
