"""The Keras autoencoder: encoder and decoder built from a :class:`ModelConfig`.

Inputs, in order: ``S`` (n_bins, the frames as the model sees them: ``S ** power``), then ``note``
(12, one-hot) when the model uses it (chroma augmentation or the skip connection), then
``register`` (1: ``(pitch - 60) / 24``) with ``note`` when the model is register-aware, then
``diff`` (n_bins) for first-order-difference augmentation. The encoder sees ``S`` concatenated
with its augmentation (the note, and the register); the decoder sees the bottleneck concatenated
with ``note`` (and the register) when ``skip`` is on. The output is ``S ** power`` too.
"""

from __future__ import annotations

import os
import sys

from manne.io.files import mute_stderr

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _quiet_import():
    """Import TensorFlow and Keras with the C++ start-up chatter (printed before logging is set up) muted."""
    if "tensorflow" in sys.modules:
        import keras

        return keras
    with mute_stderr():
        import keras
        import tensorflow as tf

        tf.constant(1.0) + 1.0  # loads the kernels, which print once more
    return keras


keras = _quiet_import()

import numpy as np  # noqa: E402
from keras import layers, ops, regularizers  # noqa: E402

from manne.model.config import ModelConfig  # noqa: E402


@keras.saving.register_keras_serializable(package="manne")
class Sampling(layers.Layer):
    """Reparameterised sample of q(z|x) that adds ``beta`` times the KL divergence to the loss."""

    def __init__(self, beta: float = 1.0, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.beta = beta
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        mean, log_var = inputs
        kl = -0.5 * ops.mean(ops.sum(1 + log_var - ops.square(mean) - ops.exp(log_var), axis=1))
        self.add_loss(self.beta * kl / 2049.0)
        if not training:
            return mean
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * eps

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "seed": self.seed}


def input_names(cfg: ModelConfig) -> list[str]:
    """Names of the model's inputs, in the order :func:`build` expects them."""
    names = ["S"]
    if cfg.uses_note:
        names.append("note")
    if cfg.uses_register:
        names.append("register")
    if cfg.augment == "diff":
        names.append("diff")
    return names


def _dense(width: int, cfg: ModelConfig, name: str, activation=None):
    return layers.Dense(width, activation=activation, kernel_regularizer=regularizers.l2(cfg.l2), name=name)


def build(cfg: ModelConfig, *, seed: int = 0) -> tuple[keras.Model, keras.Model, keras.Model]:
    """Build the autoencoder.

    Returns
    -------
    autoencoder : inputs per :func:`input_names`, output (batch, n_bins)
    encoder : same inputs, output z (batch, latent)
    decoder : inputs ``z`` (batch, latent) and, with skip, ``note`` (batch, 12, or 13 with the register
        last); output (batch, n_bins)
    """
    S = keras.Input((cfg.n_bins,), name="S")
    inputs = [S]
    note = None
    if cfg.uses_note:
        note = keras.Input((12,), name="note")
        inputs.append(note)
    if cfg.uses_register:
        register = keras.Input((1,), name="register")
        inputs.append(register)
        note = layers.Concatenate(name="condition")([note, register])  # (batch, 13)
    x = S
    if cfg.augment == "chroma":
        x = layers.Concatenate(name="augment")([S, note])
    elif cfg.augment == "diff":
        diff = keras.Input((cfg.n_bins,), name="diff")
        inputs.append(diff)
        x = layers.Concatenate(name="augment")([S, diff])
    for i, w in enumerate(cfg.hidden):
        x = layers.LeakyReLU(cfg.alpha, name=f"enc_act{i}")(_dense(w, cfg, f"enc{i}")(x))
    i = len(cfg.hidden)
    if cfg.vae:
        mean = _dense(cfg.latent, cfg, f"enc{i}")(x)
        log_var = _dense(cfg.latent, cfg, "enc_logvar")(x)
        z = Sampling(cfg.beta, seed, name="sampling")([mean, log_var])
    elif cfg.bottleneck == "sigmoid":
        z = _dense(cfg.latent, cfg, f"enc{i}", activation="sigmoid")(x)
    else:
        z = layers.LeakyReLU(cfg.alpha, name=f"enc_act{i}")(_dense(cfg.latent, cfg, f"enc{i}")(x))
    encoder = keras.Model(inputs, z, name="encoder")

    z_in = keras.Input((cfg.latent,), name="z")
    dec_inputs = [z_in]
    y = z_in
    if cfg.skip:
        note_in = keras.Input((cfg.n_note,), name="note")
        dec_inputs.append(note_in)
        y = layers.Concatenate(name="skip")([z_in, note_in])
    for j, w in enumerate(reversed(cfg.hidden)):
        y = layers.LeakyReLU(cfg.alpha, name=f"dec_act{j}")(_dense(w, cfg, f"dec{j}")(y))
    out = _dense(cfg.n_bins, cfg, f"dec{len(cfg.hidden)}", activation=cfg.output)(y)
    decoder = keras.Model(dec_inputs, out, name="decoder")

    dec_args = [z, note] if cfg.skip else [z]
    autoencoder = keras.Model(inputs, decoder(dec_args), name="autoencoder")
    return autoencoder, encoder, decoder


def dense_weights(model: keras.Model, prefix: str, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(W, b)`` of layers ``{prefix}0 .. {prefix}{n-1}`` of ``model``."""
    return [tuple(np.asarray(w) for w in model.get_layer(f"{prefix}{i}").get_weights()) for i in range(n)]


def split_models(autoencoder: keras.Model, cfg: ModelConfig) -> tuple[keras.Model, keras.Model]:
    """Encoder and decoder sub-models of a (re)loaded autoencoder."""
    decoder = autoencoder.get_layer("decoder")
    z_layer = "sampling" if cfg.vae else (f"enc{len(cfg.hidden)}" if cfg.bottleneck == "sigmoid" else f"enc_act{len(cfg.hidden)}")
    encoder = keras.Model(autoencoder.inputs, autoencoder.get_layer(z_layer).output, name="encoder")
    return encoder, decoder
