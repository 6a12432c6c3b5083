"""Argument validation shared by every public dlkit function.

Each helper raises a `ValueError` that names the argument, the value received and what is allowed, in the
Keras style: ``Argument `step_size` must be > 0. Received: step_size=0``.
"""

import numbers

import numpy as np


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(name, value, *, minimum=None, maximum=None):
    """Returns `value` as an int; raises ValueError unless it is an integer within [minimum, maximum]."""
    if not _is_int(value):
        raise ValueError(f"Argument `{name}` must be an integer. Received: {name}={value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"Argument `{name}` must be >= {minimum}. Received: {name}={value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"Argument `{name}` must be <= {maximum}. Received: {name}={value!r}")
    return int(value)


def check_float(name, value, *, minimum=None, maximum=None, min_inclusive=True, max_inclusive=True):
    """Returns `value` as a float; raises ValueError unless it is a finite real number in the given range."""
    if not _is_real(value) or not np.isfinite(float(value)):
        raise ValueError(f"Argument `{name}` must be a finite number. Received: {name}={value!r}")
    value = float(value)
    if minimum is not None:
        bad = value < minimum if min_inclusive else value <= minimum
        if bad:
            op = ">=" if min_inclusive else ">"
            raise ValueError(f"Argument `{name}` must be {op} {minimum}. Received: {name}={value!r}")
    if maximum is not None:
        bad = value > maximum if max_inclusive else value >= maximum
        if bad:
            op = "<=" if max_inclusive else "<"
            raise ValueError(f"Argument `{name}` must be {op} {maximum}. Received: {name}={value!r}")
    return value


def check_bool(name, value):
    """Returns `value`; raises ValueError unless it is True or False."""
    if not isinstance(value, bool):
        raise ValueError(f"Argument `{name}` must be True or False. Received: {name}={value!r}")
    return value


def check_choice(name, value, allowed):
    """Returns `value`; raises ValueError unless it is one of `allowed`."""
    if value not in allowed:
        allowed_text = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"Argument `{name}` must be one of {allowed_text}. Received: {name}={value!r}")
    return value


def check_seed(name, value):
    """Returns `value` (None or a non-negative int); raises ValueError otherwise."""
    if value is None:
        return None
    return check_int(name, value, minimum=0)


def check_fraction_split(name, value):
    """Checks a (train, dev, test) tuple of fractions that are each in (0, 1) and sum to 1."""
    try:
        parts = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(
            f"Argument `{name}` must be a tuple of fractions (train, dev, test). Received: {name}={value!r}"
        ) from None
    if len(parts) != 3 or any(not (0.0 <= p < 1.0) for p in parts) or parts[0] <= 0:
        raise ValueError(
            f"Argument `{name}` must hold 3 fractions in [0, 1) with train > 0. Received: {name}={value!r}"
        )
    if abs(sum(parts) - 1.0) > 1e-6:
        raise ValueError(f"Argument `{name}` must sum to 1. Received: {name}={value!r} (sum={sum(parts)})")
    return parts


def check_array(name, value, *, ndim=None, min_len=1):
    """Returns `value` as a NumPy array; raises ValueError on the wrong rank or an empty array."""
    try:
        array = np.asarray(value)
    except Exception as error:  # noqa: BLE001 - report any conversion failure the same way
        raise ValueError(f"Argument `{name}` must be array-like. Received: {type(value).__name__}") from error
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            raise ValueError(
                f"Argument `{name}` must have rank {' or '.join(map(str, allowed))}. "
                f"Received: {name} with shape {array.shape}"
            )
    if array.ndim and array.shape[0] < min_len:
        raise ValueError(f"Argument `{name}` must hold at least {min_len} rows. Received shape {array.shape}")
    return array
