"""Parameter rules declared as data, and one checker.

In the spirit of scikit-learn's parameter validation, but small and our own.
Each estimator declares ``_parameter_constraints = {"name": [rule, ...]}``; a
value is valid when it satisfies any of the rules. :func:`validate_params`
raises a ``ValueError`` (or ``TypeError`` when no rule accepts the type) naming
the parameter, the owner, the value and what was expected, for example::

    The 'n_parcels' parameter of Parcellations must be an int in the range
    [1, inf). Got 0 instead.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "InvalidParameterError",
    "Interval",
    "Options",
    "validate_params",
    "check_parameter",
]


class InvalidParameterError(ValueError, TypeError):
    """A parameter's value is of the wrong type or out of its allowed range."""


@dataclass(frozen=True)
class Interval:
    """A numeric range.

    Parameters
    ----------
    kind : {"int", "real"}
        ``"int"`` accepts integral numbers only (not bools); ``"real"`` accepts
        any real number (ints included, not bools).
    left, right : float or None
        Bounds; None means unbounded.
    closed : {"both", "left", "right", "neither"}
        Which bounds belong to the range.
    """

    kind: str
    left: float | None
    right: float | None
    closed: str = "both"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        if self.kind == "int" and not isinstance(value, numbers.Integral):
            return False
        if not isinstance(value, numbers.Real):
            return False
        if not np.isfinite(value) and self.left is not None and self.right is not None:
            return False
        if self.left is not None:
            if self.closed in ("both", "left"):
                if value < self.left:
                    return False
            elif value <= self.left:
                return False
        if self.right is not None:
            if self.closed in ("both", "right"):
                if value > self.right:
                    return False
            elif value >= self.right:
                return False
        return True

    def describe(self) -> str:
        lo = "-inf" if self.left is None else _fmt(self.left)
        hi = "inf" if self.right is None else _fmt(self.right)
        lb = "[" if self.closed in ("both", "left") and self.left is not None else "("
        rb = "]" if self.closed in ("both", "right") and self.right is not None else ")"
        noun = "an int" if self.kind == "int" else "a float"
        return f"{noun} in the range {lb}{lo}, {hi}{rb}"


@dataclass(frozen=True)
class Options:
    """A closed set of allowed values (compared with ``==``)."""

    values: tuple

    def __init__(self, values: Iterable):
        object.__setattr__(self, "values", tuple(values))

    def accepts(self, value: Any) -> bool:
        for option in self.values:
            if isinstance(option, bool) or option is None:
                if value is option:
                    return True
            elif (
                not isinstance(value, (bool, np.bool_))
                and type(value) is type(option)
                and value == option
            ):
                return True
        return False

    def describe(self) -> str:
        return "one of {" + ", ".join(repr(v) for v in self.values) + "}"


_TYPE_NAMES = {
    "boolean": ("a bool", lambda v: isinstance(v, (bool, np.bool_))),
    "callable": ("a callable", callable),
    "str": ("a str", lambda v: isinstance(v, str)),
    "array-like": (
        "an array-like",
        lambda v: hasattr(v, "__array__") or isinstance(v, (list, tuple)),
    ),
    "path": ("a path", lambda v: isinstance(v, str) or hasattr(v, "__fspath__")),
    "dict": ("a dict", lambda v: isinstance(v, Mapping)),
}


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _accepts(rule: Any, value: Any) -> bool:
    if rule is None:
        return value is None
    if isinstance(rule, (Interval, Options)):
        return rule.accepts(value)
    if isinstance(rule, str):
        return _TYPE_NAMES[rule][1](value)
    if isinstance(rule, type):
        return isinstance(value, rule)
    if callable(rule):
        return bool(rule(value))
    raise TypeError(f"unknown constraint {rule!r}")


def _describe(rule: Any) -> str:
    if rule is None:
        return "None"
    if isinstance(rule, (Interval, Options)):
        return rule.describe()
    if isinstance(rule, str):
        return _TYPE_NAMES[rule][0]
    if isinstance(rule, type):
        return f"an instance of {rule.__name__}"
    return getattr(rule, "description", getattr(rule, "__name__", repr(rule)))


def check_parameter(name: str, value: Any, rules: list, owner: str | None = None) -> None:
    """Raise if ``value`` satisfies none of ``rules``.

    Parameters
    ----------
    name : str
        Parameter name, quoted in the message.
    value : object
        The value to check.
    rules : list
        Constraints: an :class:`Interval`, :class:`Options`, a type, one of
        the names ``"boolean"``, ``"callable"``, ``"str"``, ``"array-like"``,
        ``"path"``, ``"dict"``, ``None``, or a predicate callable (with an
        optional ``description`` attribute).
    owner : str, optional
        The function or class the parameter belongs to.

    Raises
    ------
    InvalidParameterError
        A subclass of both ``ValueError`` and ``TypeError``, so callers that
        catch either (as nilearn's and scikit-learn's tests do) see it.
    """
    if any(_accepts(rule, value) for rule in rules):
        return
    descriptions = [_describe(rule) for rule in rules]
    if len(descriptions) > 1:
        expected = ", ".join(descriptions[:-1]) + " or " + descriptions[-1]
    else:
        expected = descriptions[0]
    where = f" of {owner}" if owner else ""
    message = (
        f"The {name!r} parameter{where} must be {expected}. Got {value!r} instead."
    )
    raise InvalidParameterError(message)


def validate_params(
    params: Mapping[str, Any],
    constraints: Mapping[str, list],
    owner: str | None = None,
) -> None:
    """Check every parameter in ``params`` that has declared constraints.

    Parameters
    ----------
    params : mapping
        Parameter names to values (e.g. ``estimator.get_params(deep=False)``).
    constraints : mapping
        Parameter names to lists of rules (see :func:`check_parameter`).
        ``"no_validation"`` skips a parameter.
    owner : str, optional
        Name used in error messages.
    """
    for name, rules in constraints.items():
        if rules == "no_validation" or name not in params:
            continue
        check_parameter(name, params[name], rules, owner)


def predicate(description: str) -> Callable[[Callable[[Any], bool]], Callable[[Any], bool]]:
    """Decorate a predicate so error messages can describe it."""

    def wrap(func: Callable[[Any], bool]) -> Callable[[Any], bool]:
        func.description = description  # type: ignore[attr-defined]
        return func

    return wrap
