"""A model's encoder, prepared to encode one frame at a time without allocating (for live timbre
transfer, :mod:`manne.synth.transfer`); the decoder's counterpart is :class:`manne.model.decoder.Decoder`.
NumPy only.
"""

from __future__ import annotations

import numpy as np

from manne.model.condition import compress, scalar
from manne.model.decoder import activate, run_layers

__all__ = ["PreparedEncoder"]


class PreparedEncoder:
    """A model's encoder for one frame at a time, without allocating.

    The frame is raised to the model's ``power`` first. The first layer's note one-hot
    (``augment="chroma"``) is folded into one bias row per pitch class, and a register-aware model's
    register row is scaled by ``(pitch - 60) / 24``;
    ``augment="diff"`` keeps the previous frame that went through the encoder (the offline encoder's
    difference between consecutive encoded frames); ``"none"`` takes the frame alone.

    Parameters
    ----------
    ae : Autoencoder
    """

    def __init__(self, ae):
        cfg = ae.config
        n_bins = ae.analysis.n_bins
        first, rest = ae.encoder[0], ae.encoder[1:]
        W = np.asarray(first.W, dtype=np.float32)
        b = np.asarray(first.b, dtype=np.float32)
        self.augment, self.alpha = cfg.augment, float(cfg.alpha)
        self.W = np.ascontiguousarray(W[:n_bins])  # (n_bins, width0)
        self.register_row = None
        if self.augment == "chroma":
            self.note_rows = np.ascontiguousarray(W[n_bins : n_bins + 12] + b[None, :])  # (12, width0)
            if cfg.uses_register:
                self.register_row = np.ascontiguousarray(W[n_bins + 12])
        else:
            self.note_rows = np.ascontiguousarray(np.broadcast_to(b, (12, W.shape[1])))
        self.Wd = np.ascontiguousarray(W[n_bins : 2 * n_bins]) if self.augment == "diff" else None
        self.act0 = first.act
        self.layers = [(np.ascontiguousarray(L.W, dtype=np.float32), np.ascontiguousarray(L.b, dtype=np.float32), L.act)
                       for L in rest]
        widths = [self.W.shape[1]] + [L[0].shape[1] for L in self.layers]
        self._bufs = [np.empty(w, dtype=np.float32) for w in widths]
        self._tmp = [np.empty(w, dtype=np.float32) for w in widths]
        self.power = float(cfg.power)
        self._X = np.zeros(n_bins, dtype=np.float32)  # the frame raised to the power
        self._prev = np.zeros(n_bins, dtype=np.float32)
        self._diff = np.zeros(n_bins, dtype=np.float32)
        self._first = True

    def reset(self) -> None:
        """Forget the previous frame (``augment="diff"``)."""
        self._first = True

    def one(self, S: np.ndarray, note: float) -> np.ndarray:
        """The code of one normalised frame.

        Parameters
        ----------
        S : np.ndarray, shape (n_bins,), float32, normalised linear magnitudes
        note : float, its MIDI pitch (below 12: a pitch class in octave 4)

        Returns
        -------
        z : np.ndarray, shape (latent,), float32: a work buffer, overwritten by the next call
        """
        S = compress(S, self.power, out=self._X)
        pc, reg = scalar(note)
        x = self._bufs[0]
        np.matmul(S, self.W, out=x)
        x += self.note_rows[pc]
        if self.register_row is not None:
            np.multiply(self.register_row, reg, out=self._tmp[0])
            x += self._tmp[0]
        if self.Wd is not None:
            if self._first:
                self._diff[:] = 0.0
                self._first = False
            else:
                np.subtract(S, self._prev, out=self._diff)
            self._prev[:] = S
            x += np.matmul(self._diff, self.Wd, out=self._tmp[0])  # (the scratch is free until activate)
        activate(x, self.act0, self.alpha, self._tmp[0])
        return run_layers(x, self.layers, self._bufs, self._tmp, self.alpha)
