"""The XY pad's plane through the latent space: neuron pairs and principal axes."""

from __future__ import annotations

import numpy as np
import pytest

from manne.errors import ParameterError
from manne.timbre.plane import Plane

RANGE = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 1.0]])


def test_two_neurons_span_their_range_and_keep_the_others():
    p = Plane(RANGE, axes=(0, 1))
    z = p.z(0.25, 1.0, np.array([0.5, 0.5, 0.9]))
    assert z == pytest.approx([0.25, 2.0, 0.9])
    assert p.uv(z) == pytest.approx([0.25, 1.0])
    assert p.labels == ("z1", "z2")
    with pytest.raises(ParameterError, match="two different neurons"):
        Plane(RANGE, axes=(1, 1))


def test_principal_axes_follow_where_the_codes_spread():
    rng = np.random.default_rng(0)
    t = rng.uniform(-1, 1, 2000)
    codes = np.column_stack([0.5 + 0.3 * t, 1.0 + 0.6 * t, 0.5 + 0.01 * rng.standard_normal(2000)])
    p = Plane(RANGE, codes=codes)
    assert abs(p.pcs[0] @ np.array([1, 2, 0]) / np.sqrt(5)) == pytest.approx(1.0, abs=1e-3)
    lo, hi = p.z(0.0, 0.5), p.z(1.0, 0.5)
    assert np.linalg.norm(hi - lo) == pytest.approx(np.linalg.norm([0.6, 1.2]) * 0.98, rel=0.05)
    # a code on the plane comes back to its pad point
    z = p.z(0.3, 0.6)
    assert p.uv(z) == pytest.approx([0.3, 0.6], abs=1e-6)
    g = p.grid(5)
    assert g.shape == (5, 5, 3) and np.all(g >= RANGE[0]) and np.all(g <= RANGE[1])
    with pytest.raises(ParameterError, match="at least 3 codes"):
        Plane(RANGE)
