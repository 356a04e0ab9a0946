"""The decoder as a prepared float32 matmul chain: one implementation for every caller.

The forward pass (:meth:`Autoencoder.decode`), the real-time engine (one code per control tick)
and the latent mesh (millions of grid codes, only the bins its chroma reads) all decode through
:class:`Decoder`. It is built once per model:

* the first layer's input is ``[z, one_hot(note)]`` (and the register ``r``, for a register-aware
  model), so ``x @ W0 + b0`` equals ``z @ W0[:latent] + (W0[latent + note] + b0) + r * W0[latent + 12]``:
  the one-hot product is a row lookup (models without the skip connection use ``b0`` for every
  note);
* a model that learned ``S ** power`` is decoded back to linear magnitudes (negative outputs are 0);
* every weight is contiguous float32;
* ``cols`` optionally keeps only some output bins (the last layer's other columns are dropped).

This module needs NumPy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from manne.errors import ParameterError
from manne.model.condition import REGISTER_CENTER, REGISTER_SPAN, as_pitch, pitch_class, scalar

__all__ = ["ACTIVATIONS", "Dense", "Decoder", "activate", "run_layers"]

ACTIVATIONS = ("lrelu", "relu", "sigmoid", "linear")
GEMM_MIN_ROWS = 3  # below this many rows, one GEMV per row beats one GEMM (measured on one BLAS thread)
NARROW = 128  # layers up to this wide run on many rows at once (no per-batch BLAS overhead)


def activate(x: np.ndarray, name: str, alpha: float = 0.1, scratch: np.ndarray | None = None) -> np.ndarray:
    """Apply activation ``name`` to ``x`` in place and return it.

    ``x`` must be a fresh float array (a layer's pre-activation); ``scratch``, a buffer shaped like
    ``x``, saves an allocation for the leaky ReLU.
    """
    if name == "lrelu":
        if 0.0 <= alpha <= 1.0:  # max(x, alpha*x) == where(x > 0, x, alpha*x)
            return np.maximum(x, np.multiply(x, alpha, out=scratch), out=x)
        return np.where(x > 0, x, alpha * x)
    if name == "relu":
        return np.maximum(x, 0.0, out=x)
    if name == "sigmoid":
        np.negative(x, out=x)
        np.exp(x, out=x)
        x += 1.0
        return np.reciprocal(x, out=x)
    if name == "linear":
        return x
    raise ParameterError(f"activation {name!r} is not one of {', '.join(ACTIVATIONS)}")


def run_layers(x: np.ndarray, layers, bufs: list[np.ndarray], tmp: list[np.ndarray], alpha: float) -> np.ndarray:
    """Run one row ``x`` through ``layers`` (``(W, b, activation)`` triples) without allocating.

    ``bufs[i]`` and ``tmp[i]`` are the work buffers of layer ``i`` (``i`` from 1; 0 is the first
    layer's, which the caller fills); returns the last layer's buffer.
    """
    for i, (W, b, act) in enumerate(layers, start=1):
        y = bufs[i]
        np.matmul(x, W, out=y)
        y += b
        activate(y, act, alpha, tmp[i])
        x = y
    return x


@dataclass
class Dense:
    """One Dense layer: ``act(x @ W + b)``."""

    W: np.ndarray  # (n_in, n_out)
    b: np.ndarray  # (n_out,)
    act: str


class Decoder:
    """A model's decoder prepared for repeated calls.

    Parameters
    ----------
    layers : list of Dense
        The decoder's layers; the first takes ``[z, one_hot(note)]`` (and the register) with skip,
        ``z`` without.
    latent : int
    skip : bool
        Whether the first layer takes the note one-hot.
    register : bool
        Whether it takes the register too (after the one-hot).
    power : float
        The model's spectra are ``S ** power``; the decoder returns ``S``.
    alpha : float
        LeakyReLU slope, 0..1.
    cols : np.ndarray of int, optional
        Output bins to keep; default all.

    :meth:`one` reuses work buffers, so a decoder serves one thread at a time.
    """

    def __init__(self, layers: list[Dense], *, latent: int, skip: bool, alpha: float = 0.1, cols: np.ndarray | None = None,
                 register: bool = False, power: float = 1.0):
        if not 0.0 <= alpha <= 1.0:
            raise ParameterError(f"LeakyReLU slope alpha={alpha} must be between 0 and 1")
        first, rest = layers[0], layers[1:]
        register = bool(register and skip)
        n_in = latent + (12 if skip else 0) + (1 if register else 0)
        if first.W.shape[0] != n_in:
            raise ParameterError(f"the decoder's first layer takes {first.W.shape[0]} inputs; latent={latent} "
                                 f"{'plus 12 notes ' if skip else ''}{'plus the register ' if register else ''}needs {n_in}")
        self.latent, self.skip, self.alpha = int(latent), bool(skip), float(alpha)
        W0 = np.asarray(first.W, dtype=np.float32)
        b0 = np.asarray(first.b, dtype=np.float32)
        self.Wz = np.ascontiguousarray(W0[:latent])  # (latent, width0)
        rows = W0[latent : latent + 12] + b0[None, :] if skip else np.broadcast_to(b0, (12, W0.shape[1]))
        self.note_rows = np.ascontiguousarray(rows, dtype=np.float32)  # (12, width0), the bias folded in
        # the register's row, scaled by (pitch - 60) / 24; None for the paper's models
        self.register_row = np.ascontiguousarray(W0[latent + 12], dtype=np.float32) if register else None
        self.inv_power = None if power == 1.0 else float(1.0 / power)
        self.act0 = first.act
        self.layers = [(np.ascontiguousarray(L.W, dtype=np.float32), np.ascontiguousarray(L.b, dtype=np.float32), L.act)
                       for L in rest]
        if cols is not None:
            if not self.layers:
                raise ParameterError("cols needs a decoder of at least two layers")
            W, b, act = self.layers[-1]
            cols = np.asarray(cols, dtype=np.int64)
            self.layers[-1] = (np.ascontiguousarray(W[:, cols]), np.ascontiguousarray(b[cols]), act)
        widths = [self.Wz.shape[1]] + [W.shape[1] for W, _, _ in self.layers]
        self.n_out = widths[-1]
        self._bufs = [np.empty(w, dtype=np.float32) for w in widths]  # one-row work buffers
        self._tmp = [np.empty(w, dtype=np.float32) for w in widths]

    @classmethod
    def of(cls, ae, *, cols: np.ndarray | None = None) -> "Decoder":
        """The prepared decoder of an :class:`~manne.model.forward.Autoencoder`."""
        cfg = ae.config
        return cls(ae.decoder, latent=ae.latent, skip=cfg.skip, alpha=float(cfg.alpha), cols=cols,
                   register=cfg.uses_register, power=cfg.power)

    def check_note(self, note) -> np.ndarray:
        """MIDI pitches of ``note`` (see :func:`manne.model.condition.as_pitch`); ParameterError if out of range."""
        return as_pitch(note)

    def note_bias(self, pitch: np.ndarray) -> np.ndarray:
        """The first layer's note term (bias folded in) of MIDI pitches, shape ``pitch.shape + (width0,)``."""
        bias = self.note_rows[pitch_class(pitch)]
        if self.register_row is not None:
            bias = bias + ((np.asarray(pitch, dtype=np.float32) - REGISTER_CENTER) / REGISTER_SPAN)[..., None] * self.register_row
        return bias

    def finish(self, S: np.ndarray) -> np.ndarray:
        """The last layer's output back to linear magnitudes, in place: ``max(S, 0) ** (1 / power)``.

        An integer ``1 / power`` (4 for the default 0.25) is a few multiplications, several times
        faster than ``np.power`` (as costly as the last layer's product for the mesh's grid).
        """
        if self.inv_power is None:
            return S
        np.maximum(S, 0.0, out=S)
        k = round(self.inv_power)
        if abs(self.inv_power - k) > 1e-9 or not 2 <= k <= 8:
            return np.power(S, self.inv_power, out=S)
        x = S.copy() if k & (k - 1) else None  # the base, for the odd factors of a k that is no power of two
        done = 1
        while done * 2 <= k:
            np.multiply(S, S, out=S)
            done *= 2
        for _ in range(k - done):
            np.multiply(S, x, out=S)
        return S

    def one(self, z: np.ndarray, note: float) -> np.ndarray:
        """Decode one code without allocating.

        Parameters
        ----------
        z : np.ndarray, shape (latent,), float32
        note : float, a MIDI pitch (below 12: a pitch class in octave 4)

        Returns
        -------
        S : np.ndarray, shape (n_out,), float32: a work buffer, overwritten by the next call
        """
        pc, reg = scalar(note)
        x = self._bufs[0]
        np.matmul(z, self.Wz, out=x)
        x += self.note_rows[pc]
        if self.register_row is not None:
            np.multiply(self.register_row, reg, out=self._tmp[0])
            x += self._tmp[0]
        activate(x, self.act0, self.alpha, self._tmp[0])
        return self.finish(run_layers(x, self.layers, self._bufs, self._tmp, self.alpha))

    def many(self, z: np.ndarray, note: np.ndarray | int, *, batch: int = 4096) -> np.ndarray:
        """Decode rows of codes.

        Parameters
        ----------
        z : np.ndarray, shape (m, latent)
        note : float or np.ndarray, shape (m,): one MIDI pitch for all rows or one per row

        Returns
        -------
        S : np.ndarray, shape (m, n_out), float32, a new array
        """
        z = np.asarray(z, dtype=np.float32)
        m = len(z)
        notes = np.broadcast_to(self.check_note(note), (m,))
        out = np.empty((m, self.n_out), dtype=np.float32)
        if m < GEMM_MIN_ROWS:
            for i in range(m):
                out[i] = self.one(z[i], float(notes[i]))
            return out
        for s, S in self.batches(z, notes, batch=batch):
            out[s : s + len(S)] = S
        return out

    def batches(self, z: np.ndarray, note: np.ndarray | int, *, batch: int = 4096) -> Iterator[tuple[int, np.ndarray]]:
        """Decode rows of codes, a batch at a time.

        The first layer and the narrow layers (up to 128 wide) run on 65,536 rows at once, so small
        matrix products do not pay the BLAS threading overhead per batch; wide layers run ``batch``
        rows at a time into reused buffers (no page faults from fresh 16 MB arrays on every product).
        Memory is one such chunk of the first layer, whatever ``len(z)`` (a mesh's grid of 390,625
        codes through a 256-wide first layer would be 400 MB at once).

        Parameters
        ----------
        z : np.ndarray, shape (n, latent), float32
        note : float, or np.ndarray of shape (n,): MIDI pitches

        Yields
        ------
        start : int, the first row of the batch
        S : np.ndarray, shape (rows, n_out), float32: a reused buffer, valid until the next batch
        """
        if batch < 1:
            raise ParameterError(f"batch={batch} must be at least 1")
        n = len(z)
        notes = np.broadcast_to(self.check_note(note), (n,)) if np.ndim(note) else None
        bias = None if notes is not None else self.note_bias(self.check_note(note))
        n_narrow = 0
        while n_narrow < len(self.layers) and self.layers[n_narrow][0].shape[1] <= NARROW:
            n_narrow += 1
        big = max(batch, 1 << 16)
        bufs: dict[tuple, np.ndarray] = {}
        for s in range(0, n, big):
            x = z[s : s + big] @ self.Wz
            x += self.note_bias(notes[s : s + big]) if notes is not None else bias
            x = activate(x, self.act0, self.alpha)
            for W, b, act in self.layers[:n_narrow]:
                x = x @ W
                x += b
                x = activate(x, act, self.alpha)
            for t in range(0, len(x), batch):
                h = x[t : t + batch]
                if n_narrow == len(self.layers):
                    h = h.copy()
                    self.finish(h)
                for W, b, act in self.layers[n_narrow:]:
                    key = (len(h), W.shape[1])
                    if key not in bufs:
                        bufs[key] = np.empty(key, dtype=np.float32)
                        bufs[key + (0,)] = np.empty(key, dtype=np.float32)
                    h = np.matmul(h, W, out=bufs[key])
                    h += b
                    h = activate(h, act, self.alpha, bufs[key + (0,)])
                if n_narrow < len(self.layers):
                    self.finish(h)
                yield s + t, h
