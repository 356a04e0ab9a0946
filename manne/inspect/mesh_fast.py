"""The latent mesh's pitch classes at twice the speed: wide layers in bfloat16, near ties again in float32.

The mesh decodes millions of codes (``--points 5`` on 8 neurons: 12 x 390,625), and its time is the
wide layers' matrix products: on these AVX-512 cores float32 runs at ~185 GFLOPS in NumPy or
TensorFlow, bfloat16 (oneDNN's ``vdpbf16ps``) at ~300. :func:`chroma_energies` runs the decoder in
TensorFlow with the layers wider than :data:`~manne.model.decoder.NARROW` in bfloat16 (products
accumulated in float32, everything else float32) and returns each code's 12 chroma energies.

bfloat16 keeps 8 bits of mantissa, so where the two loudest pitch classes are nearly equal it can
pick the other one: :func:`near_ties` marks the codes whose loudest class is at most
:data:`RECHECK_RATIO` times the second, and the mesh labels those again with the float32 NumPy
decoder. On the bundled default model's ``--points 5`` grid (all 12 notes), the largest ratio at
which bfloat16 alone and float32 disagreed was 1.087; 1.12 rechecks about 9 % of the codes, and
``tests/test_mesh.py`` checks the labels against a full float32 decode.
"""

from __future__ import annotations

import numpy as np

from manne.model.decoder import NARROW, Decoder

__all__ = ["RECHECK_RATIO", "FAST_MIN_CODES", "chroma_energies", "near_ties"]

RECHECK_RATIO = 1.12  # codes whose loudest pitch class is within this factor of the second are labelled in float32
FAST_MIN_CODES = 100_000  # smaller grids decode in NumPy (TensorFlow's start-up would cost more than it saves)
BATCH = 8192  # codes per TensorFlow call


def _power(x, k: float):
    """``x ** k``: squarings when ``k`` is a power of two (8 for the default ``S ** 0.25`` model, 2 for
    the paper's), else ``tf.pow``."""
    import tensorflow as tf

    n = int(round(k))
    if abs(k - n) > 1e-9 or n < 1 or n & (n - 1):
        return tf.pow(x, float(k))
    while n > 1:
        x = x * x
        n //= 2
    return x


def chroma_energies(dec: Decoder, fbT: np.ndarray):
    """A function of codes and one MIDI note giving the chroma energy of each code's decoding.

    Parameters
    ----------
    dec : Decoder, restricted to the bins the chroma filterbank reads
    fbT : np.ndarray, shape (n_band, 12), the filterbank of those bins, transposed

    Returns
    -------
    energies : callable ``(z, note) -> np.ndarray`` of shape ``(len(z), 12)``, float32: the
        squared linear magnitudes of each decoding through the filterbank, whose argmax is the
        mesh's label; ``z`` has shape ``(n, latent)``
    """
    import importlib

    importlib.import_module("manne.model.network")  # starts TensorFlow without its C++ start-up chatter
    import tensorflow as tf

    def lrelu(x):
        return tf.nn.leaky_relu(x, dec.alpha)

    def linear(x):
        return x

    act = {"lrelu": lrelu, "relu": tf.nn.relu, "linear": linear, "sigmoid": tf.sigmoid}
    layers = [(tf.constant(W, dtype=tf.bfloat16 if W.shape[1] > NARROW else tf.float32), tf.constant(b), act[a])
              for W, b, a in dec.layers]
    Wz, fb, act0 = tf.constant(dec.Wz), tf.constant(fbT), act[dec.act0]
    k = 2.0 if dec.inv_power is None else 2.0 * dec.inv_power  # energy = max(S, 0) ** (2 / power): the decoder's finish, squared

    @tf.function(autograph=False, reduce_retracing=True)
    def run(z, bias):
        x = act0(tf.matmul(z, Wz) + bias)
        for W, b, f in layers:
            if W.dtype == tf.bfloat16:
                x = f(tf.cast(tf.matmul(tf.cast(x, tf.bfloat16), W), tf.float32) + b)
            else:
                x = f(tf.matmul(x, W) + b)
        return tf.matmul(_power(tf.nn.relu(x), k), fb)

    def energies(z: np.ndarray, note) -> np.ndarray:
        bias = tf.constant(dec.note_bias(dec.check_note(note))[None, :].astype(np.float32))
        z = np.asarray(z, dtype=np.float32)
        out = np.empty((len(z), fbT.shape[1]), dtype=np.float32)
        for s in range(0, len(z), BATCH):
            out[s : s + BATCH] = run(tf.constant(z[s : s + BATCH]), bias).numpy()
        return out

    return energies


def near_ties(E: np.ndarray, ratio: float = RECHECK_RATIO) -> np.ndarray:
    """Rows of chroma energies ``E`` (n, 12) whose largest value is at most ``ratio`` times the second
    (all zero included) or not finite: their label could change with the rounding; shape (n,), bool."""
    top2 = np.partition(E, -2, axis=1)[:, -2:]
    second, first = top2[:, 0], top2[:, 1]
    return ~np.isfinite(E).all(axis=1) | (first <= ratio * second)
