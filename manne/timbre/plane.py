"""A plane through the latent space for a two-dimensional control (the window's XY pad).

Either two chosen neurons (the others keep their values), or, for a model of more than two
neurons, the first two principal axes of a set of codes through their mean: of the landmarks of
the user's recordings where a model has them (the plane where the recordings differ most: a file's
codes spread over its notes, their means over timbres), else of the training codes. The pad's unit
square ``(u, v)`` in [0, 1]² spans the neurons' range, or the codes along each principal axis (the
1st to 99th percentile, widened by a margin).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from manne.errors import ParameterError

__all__ = ["Plane", "plane_of_model_dir"]


class Plane:
    """Map between pad coordinates ``(u, v)`` and latent vectors ``z``.

    Parameters
    ----------
    latent_range : np.ndarray, shape (2, latent), the lower and upper end of each neuron
    axes : two neuron indices (0-based), or None for the principal axes of ``codes``
    codes : np.ndarray, shape (n, latent), the codes whose principal axes make the plane
    percentile : the pad spans the codes from this percentile to ``100 - percentile`` on each axis ...
    margin : ... widened by this fraction of that span on each side
    """

    def __init__(self, latent_range: np.ndarray, *, axes: Sequence[int] | None = None, codes: np.ndarray | None = None,
                 percentile: float = 1.0, margin: float = 0.0):
        self.lo, self.hi = (np.asarray(r, dtype=np.float64) for r in latent_range)
        d = len(self.lo)
        if axes is not None:
            a = [int(i) for i in axes]
            if len(a) != 2 or a[0] == a[1] or not all(0 <= i < d for i in a):
                raise ParameterError(f"axes={list(axes)} must be two different neurons from 0 to {d - 1}")
            self.axes: tuple[int, int] | None = (a[0], a[1])
            self.labels = (f"z{a[0] + 1}", f"z{a[1] + 1}")
            return
        if d < 2:
            raise ParameterError(f"a plane needs at least 2 neurons; the model has {d}")
        if codes is None or len(codes) < 3:
            raise ParameterError("the principal axes need at least 3 codes (landmarks or examples.npz)")
        c = np.asarray(codes, dtype=np.float64)
        self.axes = None
        self.mean = c.mean(axis=0)
        _, _, vt = np.linalg.svd(c - self.mean, full_matrices=False)
        self.pcs = vt[:2]  # (2, latent), unit rows
        proj = (c - self.mean) @ self.pcs.T
        lo, hi = np.percentile(proj, percentile, axis=0), np.percentile(proj, 100 - percentile, axis=0)
        self.p_lo, self.p_hi = lo - margin * (hi - lo), hi + margin * (hi - lo)
        self.labels = ("PC1", "PC2")

    def z(self, u: float, v: float, z_now: np.ndarray | None = None) -> np.ndarray:
        """The latent vector at pad point ``(u, v)``; shape (latent,), inside the range.

        With two chosen neurons the others keep their values in ``z_now`` (default the range's middle).
        """
        return self._at(np.array([u, v], dtype=np.float64), z_now)

    def _at(self, uv: np.ndarray, z_now: np.ndarray | None) -> np.ndarray:
        """:meth:`z` of pad points ``uv`` (..., 2); shape (..., latent)."""
        uv = np.clip(uv, 0.0, 1.0)
        if self.axes is not None:
            base = (self.lo + self.hi) / 2 if z_now is None else np.asarray(z_now, dtype=np.float64)
            z = np.array(np.broadcast_to(base, uv.shape[:-1] + base.shape))
            for k, i in enumerate(self.axes):
                z[..., i] = self.lo[i] + uv[..., k] * (self.hi[i] - self.lo[i])
            return np.clip(z, self.lo, self.hi)
        p = self.p_lo + uv * (self.p_hi - self.p_lo)
        return np.clip(self.mean + p @ self.pcs, self.lo, self.hi)

    def uv(self, z: np.ndarray) -> np.ndarray:
        """Pad coordinates of latent vectors ``z`` (..., latent); shape (..., 2), not clipped."""
        z = np.asarray(z, dtype=np.float64)
        if self.axes is not None:
            i = list(self.axes)
            return (z[..., i] - self.lo[i]) / np.where(self.hi[i] > self.lo[i], self.hi[i] - self.lo[i], 1.0)
        p = (z - self.mean) @ self.pcs.T
        return (p - self.p_lo) / np.where(self.p_hi > self.p_lo, self.p_hi - self.p_lo, 1.0)

    def grid(self, n: int, z_now: np.ndarray | None = None) -> np.ndarray:
        """Latent vectors on an ``n`` x ``n`` grid of the pad; shape (n, n, latent), row ``j`` at ``v = j / (n - 1)``."""
        t = np.linspace(0.0, 1.0, int(n))
        return self._at(np.stack(np.meshgrid(t, t), axis=-1), z_now)  # [j, i] = (u=t[i], v=t[j])

    @classmethod
    def of_model(cls, latent_range: np.ndarray, *, codes: np.ndarray | None, landmark_means: np.ndarray | None) -> "Plane":
        """The default plane of a model: its two neurons; else the principal axes of its recordings'
        landmarks (at least 3), spanning them with a 10 % margin; else of its training codes."""
        d = np.asarray(latent_range).shape[1]
        if d == 2:
            return cls(latent_range, axes=(0, 1))
        if landmark_means is not None and len(landmark_means) >= 3:
            return cls(latent_range, codes=landmark_means, percentile=0.0, margin=0.1)
        return cls(latent_range, codes=codes)


def plane_of_model_dir(ae, model_dir) -> Plane:
    """:meth:`Plane.of_model` of a model directory: its recordings' landmarks (``landmarks.json``), else
    its training codes (``examples.npz``); a model of more than two neurons with neither is refused.

    Raises
    ------
    ModelError
        If one of those files is damaged, or a model of more than two neurons has neither.
    """
    from pathlib import Path

    from manne.errors import ModelError
    from manne.inspect.examples import Examples
    from manne.timbre import landmarks

    if ae.latent == 2:
        return Plane(ae.latent_range, axes=(0, 1))
    means = [m.mean for m in landmarks.read(model_dir, latent=ae.latent) if m.kind == "file"]
    path = Path(model_dir) / "examples.npz"
    codes = Examples.load(path).z if path.exists() and len(means) < 3 else None
    if len(means) < 3 and codes is None:
        raise ModelError(f"{model_dir} has neither landmarks.json nor examples.npz: a {ae.latent}-neuron model needs "
                         f"one to find its timbre plane (`manne landmarks {model_dir} CORPUS`)")
    return Plane.of_model(ae.latent_range, codes=codes, landmark_means=np.stack(means) if len(means) >= 3 else None)
