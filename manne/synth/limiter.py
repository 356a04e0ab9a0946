"""The output's soft limiter: the identity below a knee, a tanh curve above it, never above full scale."""

from __future__ import annotations

import numpy as np

__all__ = ["soft_limit", "LIMIT_KNEE"]

LIMIT_KNEE = 0.5  # the soft limiter is the identity below this level


def soft_limit(y: np.ndarray, *, knee: float = LIMIT_KNEE) -> np.ndarray:
    """Soft limiter, in place: the identity below ``knee``, a tanh curve above it, never above 1.

    The curve ``knee + (1 - knee) * tanh((|y| - knee) / (1 - knee))`` meets the identity with the
    same slope at ``|y| = knee``, so it is smooth; it approaches 1.0 without exceeding it.

    Parameters
    ----------
    y : np.ndarray, shape (n,), float32; overwritten

    Returns
    -------
    y : np.ndarray, shape (n,), the same array
    """
    a = np.abs(y)
    over = a > knee
    if over.any():
        ya = a[over]
        limited = knee + (1.0 - knee) * np.tanh((ya - knee) / (1.0 - knee))
        y[over] = np.copysign(np.minimum(limited, 1.0), y[over])
    return y
