"""The trained autoencoder as a NumPy forward pass: loads a model directory without TensorFlow.

The directory's files and their checks are :mod:`manne.model.modeldir`'s; this module runs the
layers (the decoder through :class:`manne.model.decoder.Decoder`).
"""

from __future__ import annotations

import os

import numpy as np

from manne.model.config import ModelConfig, default_latent_range
from manne.corpus.analysis import Analysis
from manne.dsp import first_order_difference
from manne.errors import CorpusError, ParameterError
from manne.model.condition import compress, condition
from manne.model.decoder import Decoder, Dense, activate
from manne.model.modeldir import parse_config, read_config
from manne.model.weights import Layers, read_weights

__all__ = ["Autoencoder"]


class Autoencoder:
    """NumPy encoder and decoder of a trained model.

    Attributes
    ----------
    config : ModelConfig
    analysis : Analysis
    info : dict, the whole ``config.json``
    latent_range : np.ndarray, shape (2, latent): the sliders' lower and upper bounds
    """

    def __init__(self, config: ModelConfig, analysis: Analysis, encoder: list[Dense], decoder: list[Dense], info: dict):
        self.config = config
        self.analysis = analysis
        self.encoder = encoder
        self.decoder = decoder
        self.info = info
        lr = info.get("latent_range")
        if lr is None:
            lr = default_latent_range(config.latent)
        self.latent_range = np.asarray(lr, dtype=np.float32)
        self._prepared: Decoder | None = None

    @property
    def latent(self) -> int:
        return self.config.latent

    @property
    def notes_present(self) -> list[int]:
        return list(self.info.get("corpus", {}).get("notes_present", range(12)))

    @classmethod
    def load(cls, model_dir: str | os.PathLike, dtype=np.float32) -> "Autoencoder":
        """Load ``config.json`` and ``weights.npz`` from a model directory.

        Raises
        ------
        ModelError
            If the directory is missing, incomplete, of another format version, or a file is damaged
            or does not match the other (see :mod:`manne.model.modeldir`).
        """
        info = read_config(model_dir)
        config, analysis = parse_config(info, os.path.join(model_dir, "config.json"))
        encoder, decoder = read_weights(model_dir, config, dtype=dtype)
        return cls.from_layers(config, analysis, encoder, decoder, info)

    @classmethod
    def from_layers(cls, config: ModelConfig, analysis: Analysis, encoder: Layers, decoder: Layers, info: dict) -> "Autoencoder":
        """The model of Dense layers' ``(W, b)`` pairs (as :func:`manne.model.weights.read_weights` returns them)."""
        enc = [Dense(W, b, "lrelu") for W, b in encoder]
        dec = [Dense(W, b, "lrelu") for W, b in decoder]
        enc[-1].act = config.latent_activation
        dec[-1].act = config.output
        return cls(config, analysis, enc, dec, info)

    def check_analysis(self, analysis: Analysis) -> None:
        """Raise :class:`CorpusError` naming the fields where ``analysis`` differs from the model's."""
        diffs = self.analysis.differences(analysis)
        if diffs:
            raise CorpusError("the corpus's analysis parameters differ from the model's: " + "; ".join(diffs))

    @property
    def prepared_decoder(self) -> Decoder:
        """The decoder prepared once as a float32 matmul chain (see :mod:`manne.model.decoder`)."""
        if self._prepared is None:
            self._prepared = Decoder.of(self)
        return self._prepared

    def _run(self, layers: list[Dense], x: np.ndarray) -> np.ndarray:
        for layer in layers:
            x = activate(x @ layer.W + layer.b, layer.act, self.config.alpha)
        return x

    def to_model(self, S: np.ndarray) -> np.ndarray:
        """Normalised magnitudes as the model sees them: ``S ** power`` (:func:`manne.model.condition.compress`)."""
        return compress(S, self.config.power)

    def encoder_input(self, S: np.ndarray, note: np.ndarray | None = None, clip: np.ndarray | None = None) -> np.ndarray:
        """The encoder's input rows: frames (``S ** power``), plus the note's conditioning or the frame difference.

        Parameters
        ----------
        S : (n_frames, n_bins), normalised linear magnitudes; note : (n_frames,) MIDI pitches (or
        pitch classes, see :mod:`manne.model.condition`); clip : (n_frames,) for ``augment="diff"``
        """
        aug = self.config.augment
        X = self.to_model(S)
        if aug == "chroma":
            if note is None:
                raise ParameterError("this model's encoder needs the note of each frame")
            return np.concatenate([X, condition(note, with_register=self.config.uses_register)], axis=1)
        if aug == "diff":
            clip = np.zeros(len(S), dtype=np.int32) if clip is None else clip
            return np.concatenate([X, first_order_difference(X, clip)], axis=1)
        return X

    def encode(self, S: np.ndarray, note: np.ndarray | None = None, clip: np.ndarray | None = None, *, batch: int = 4096) -> np.ndarray:
        """Latent codes, shape ``(n_frames, latent)``, of frames ``S`` (n_frames, n_bins), normalised linear
        magnitudes; ``note`` the frames' MIDI pitches (a corpus's ``pitch``)."""
        D = None
        if self.config.augment == "diff":  # differences across batch edges need the whole sequence
            D = first_order_difference(self.to_model(S), np.zeros(len(S), np.int32) if clip is None else clip)
        out = []
        for i in range(0, len(S), batch):
            sl = slice(i, i + batch)
            Sb = np.asarray(S[sl], dtype=np.float32)
            x = np.concatenate([self.to_model(Sb), D[sl]], axis=1) if D is not None else self.encoder_input(Sb, None if note is None else note[sl])
            out.append(self._run(self.encoder, x))
        return np.concatenate(out) if out else np.zeros((0, self.latent), np.float32)

    def decode(self, z: np.ndarray, note: np.ndarray | int | None = None, *, batch: int = 8192) -> np.ndarray:
        """Normalised linear magnitude spectra, shape ``(n, n_bins)``, of latent codes ``z`` (n, latent).

        ``note`` is one MIDI pitch for all rows or one per row (a value below 12 is a pitch class in
        octave 4); models without the skip connection ignore it.
        """
        z = np.atleast_2d(np.asarray(z, dtype=np.float32))
        if z.shape[1] != self.latent:
            raise ParameterError(f"z has {z.shape[1]} values per row; the model has {self.latent} latent neurons")
        if self.config.skip and note is None:
            raise ParameterError("this model's decoder needs a note (a MIDI pitch, or a pitch class 0-11)")
        return self.prepared_decoder.many(z, 0 if note is None else note, batch=batch)

    def reconstruct(self, S: np.ndarray, note: np.ndarray | None = None, clip: np.ndarray | None = None) -> np.ndarray:
        """Decode the encoding of ``S``; shape ``(n_frames, n_bins)``."""
        return self.decode(self.encode(S, note, clip), note)

    def mse(self, S: np.ndarray, note: np.ndarray | None = None, clip: np.ndarray | None = None, *, batch: int = 4096) -> float:
        """Mean squared reconstruction error over all frames and bins, of the normalised linear magnitudes
        (the paper's measure, whatever the model's ``power``)."""
        z = self.encode(S, note, clip, batch=batch)
        total = 0.0
        for i in range(0, len(S), batch):
            sl = slice(i, i + batch)
            R = self.decode(z[sl], None if note is None else note[sl])
            total += float(np.sum((R - np.asarray(S[sl], dtype=np.float32)) ** 2, dtype=np.float64))
        return total / max(1, S.shape[0] * S.shape[1])

