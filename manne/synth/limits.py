"""Every enum and limit of the instrument, defined once, and the checks that enforce them.

The instrument's constructor and setters, its methods and block sizes, the presets, and
the ``render``, ``synth`` and ``bench synth`` commands (their argparse ``choices``, defaults, help
texts and checks) all read these names, so a limit changes in one place and every message states the same rule.

A check names the value and the rule: ``name`` is a keyword (``"block"``, shown as
``block=32``) or a command-line option (``"--hop"``, shown as ``--hop 32``).

Pure Python, no NumPy: a command's ``add_parser`` imports this module at no cost.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

from manne.errors import ParameterError
from manne.model.config import LATENT_RANGE_DEFAULT, default_latent_range  # the model owns its slider range

__all__ = [
    "PHASE_MODES", "METHODS", "METHOD_DEFAULT", "BLOCK_MIN", "BLOCK_MAX", "BLOCK_DEFAULT", "RENDER_BLOCK_DEFAULT",
    "BUFFER_MIN", "BUFFER_MAX", "BUFFER_DEFAULT", "VOLUME_DEFAULT", "RENDER_SECONDS_DEFAULT", "RENDER_SECONDS_MAX",
    "LATENT_RANGE_DEFAULT", "LATENT_TOL",
    "check_method", "check_block", "check_seed", "check_buffer", "check_volume", "check_render_seconds", "check_latent_range",
    "default_latent_range",
]

PHASE_MODES = ("noise", "coherent")  # the inverse STFT's phases: the paper's random one, or partial-locked
# the instrument's: wavetables, an inverse STFT with a phase mode, or one with RTPGHI's phase (manne.synth.rtpghi)
METHODS = ("harmonic", *PHASE_MODES, "rtpghi")
METHOD_DEFAULT = "harmonic"
BLOCK_MIN, BLOCK_MAX = 32, 1024  # samples per instrument block
BLOCK_DEFAULT = 128  # 2.9 ms at 44.1 kHz
# `manne render`'s block: offline there is no latency to save, and four times fewer blocks stepped in Python
# render a held note four times faster (events land on 11.6 ms steps; --hop 128 for the live grid)
RENDER_BLOCK_DEFAULT = 512
BUFFER_MIN, BUFFER_MAX = 256, 2048  # frames per PortAudio buffer
BUFFER_DEFAULT = 256  # the lowest latency
VOLUME_DEFAULT = 0.8  # master volume, 0..1
RENDER_SECONDS_DEFAULT = 4.0  # `manne render` without --seconds or automation
RENDER_SECONDS_MAX = 3600.0  # longest `manne render`
LATENT_TOL = 1e-6  # this far outside its range (times the span, when wider than 1) a latent value still counts as inside


def _label(name: str, value: Any) -> str:
    """``--hop 32`` for an option, ``block=32`` for a keyword."""
    if name.startswith("-"):
        return f"{name} {value}"
    return f"{name}={value!r}" if isinstance(value, str) else f"{name}={value}"


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def check_method(method: Any, *, name: str = "method") -> str:
    """``method`` if it is one of :data:`METHODS`, else :class:`ParameterError`."""
    if not isinstance(method, str) or method not in METHODS:
        raise ParameterError(f"{_label(name, method)} must be one of {', '.join(METHODS)}")
    return method


def _check_int(value: Any, lo: int, hi: int, unit: str, name: str) -> int:
    if not _is_int(value) or not lo <= value <= hi:
        raise ParameterError(f"{_label(name, value)} must be from {lo} to {hi}{f' {unit}' if unit else ''} (an integer)")
    return int(value)


def check_block(block: Any, *, name: str = "block", n_fft: int | None = None) -> int:
    """``block`` as an int if it is an integer from :data:`BLOCK_MIN` to :data:`BLOCK_MAX` samples (the
    instrument's) and, given the model's ``n_fft``, divides it (the overlap-add takes whole blocks)."""
    block = _check_int(block, BLOCK_MIN, BLOCK_MAX, "samples", name)
    if n_fft is not None and n_fft % block:
        fits = [str(b) for b in range(BLOCK_MIN, BLOCK_MAX + 1) if n_fft % b == 0]
        raise ParameterError(f"{_label(name, block)} must divide the model's n_fft={n_fft}"
                             + (f": {', '.join(fits)}" if fits else ""))
    return block


def check_seed(seed: Any, *, name: str = "seed") -> int:
    """``seed`` as an int if it is an integer from 0 to 2**32 - 1 (NumPy's generators take no other)."""
    return _check_int(seed, 0, 2**32 - 1, "", name)


def check_buffer(buffer: Any, *, name: str = "buffer") -> int:
    """``buffer`` as an int if it is an integer from :data:`BUFFER_MIN` to :data:`BUFFER_MAX` frames."""
    return _check_int(buffer, BUFFER_MIN, BUFFER_MAX, "frames", name)


def check_volume(volume: Any, *, name: str = "volume") -> float:
    """``volume`` as a float if it is a number from 0 to 1."""
    if not _is_number(volume) or not 0.0 <= volume <= 1.0:
        raise ParameterError(f"{_label(name, volume)} must be a number between 0 and 1")
    return float(volume)


def check_render_seconds(seconds: Any, *, name: str = "seconds") -> float:
    """``seconds`` as a float if it is more than 0 and at most :data:`RENDER_SECONDS_MAX`."""
    if not _is_number(seconds) or not 0.0 < seconds <= RENDER_SECONDS_MAX:
        raise ParameterError(f"{_label(name, seconds)} must be more than 0 and at most {RENDER_SECONDS_MAX:g}")
    return float(seconds)


def check_latent_range(z: Sequence[float], lo: Sequence[float], hi: Sequence[float], *, where: str) -> None:
    """Raise :class:`ParameterError` if a latent value lies outside the model's range.

    The one latent-range check (``manne render --z``, automation keyframes, presets). Value ``i``
    (1-based, as the sliders ``z1 .. zd`` are labelled) passes within ``[lo_i - tol, hi_i + tol]``,
    ``tol = LATENT_TOL * max(1, hi_i - lo_i)``, so a value saved from a slider at either end passes.

    Parameters
    ----------
    z, lo, hi : sequences of float, shape (latent,)
    where : what the values are, for the message (``"--z 0.2,1.5"``, a preset's path)
    """
    for i, (v, a, b) in enumerate(zip(z, lo, hi), start=1):
        v, a, b = float(v), float(a), float(b)
        tol = LATENT_TOL * max(1.0, b - a)
        if not a - tol <= v <= b + tol:
            raise ParameterError(f"{where}: z{i}={v:g} is outside the model's latent range [{a:g}, {b:g}]")
