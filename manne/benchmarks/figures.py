"""The instrument's figures, measured as a musician hears them: cost, response, pitch and tone.

Pure measurement functions on a :class:`~manne.synth.instrument.Synth`, used by ``manne bench
synth`` (which prints them) and kept apart from the command so each is small and testable.
"""

from __future__ import annotations

import time

import numpy as np

from manne.synth.instrument import BLOCK, METHODS, Synth
from manne.synth.pitch import midi_hz

CHORD = (48, 52, 55, 60, 64, 67, 71, 74)  # eight notes for the eight-voice figures


def _percentiles(ts) -> tuple[float, float]:
    a = np.asarray(ts) * 1e3
    return float(np.median(a)), float(np.percentile(a, 99))


def block_cost(ae, *, voices: int, method: str = "harmonic", moving: bool = False, blocks: int = 2000,
               block: int = BLOCK, seed: int = 0) -> dict:
    """Compute time of one block (median and p99, ms) with ``voices`` notes sounding.

    ``moving``: the sliders get a new position before every block (each sounding class is then
    decoded every ``decode_every`` samples), the worst case of a musician sweeping a slider.
    """
    s = Synth(ae, method=method, block=block)
    rng = np.random.default_rng(seed)
    lo, hi = ae.latent_range
    for note in CHORD[:voices]:
        s.note_on(note, 100)
    s.process(8 * block)
    ts = []
    for _ in range(blocks):
        if moving:
            s.set_z(rng.uniform(lo, hi))
        t0 = time.perf_counter()
        s.process(block)
        ts.append(time.perf_counter() - t0)
    med, p99 = _percentiles(ts)
    hop_ms = 1e3 * block / s.sr
    return {"voices": voices, "method": method, "moving": moving, "median_ms": med, "p99_ms": p99,
            "block_ms": hop_ms, "p99_load": p99 / hop_ms}


def response_samples(ae, *, method: str = "harmonic", n_fft: int | None = None, note: int = 60, win: int = 32) -> int | None:
    """Samples from a slider jump until the output is 90 % of the way from the old sound to the new.

    The output is compared with two references that play the old and the new ``z`` all along
    (same notes, so the same phases); over each ``win``-sample window the output is fitted as
    ``old + alpha * (new - old)``. Returns None if 90 % is never reached in 0.5 s (the noise mode's
    random phase makes its references differ from the output: it is measured on its magnitude).
    """
    z_old, z_new = ae.latent_range[0], ae.latent_range[1]

    def run(first, then, n):
        s = Synth(ae, method=method, n_fft=n_fft, seed=0)
        s.set_z(first)
        s.note_on(note, 100)
        s.render(0.3)
        s.set_z(then)
        return s.process(n)

    n = int(0.5 * 44100)
    if method == "noise":
        return _noise_response(run(z_old, z_new, n), run(z_old, z_old, n), run(z_new, z_new, n))
    y, old, new = run(z_old, z_new, n), run(z_old, z_old, n), run(z_new, z_new, n)
    d = new - old
    for i in range(0, n - win):
        dd = float(np.dot(d[i : i + win], d[i : i + win]))
        if dd > 1e-12 and np.dot(y[i : i + win] - old[i : i + win], d[i : i + win]) / dd >= 0.9:
            return i + win
    return None


def _noise_response(y, old, new, *, n_fft: int = 1024, hop: int = 64) -> int | None:
    """As :func:`response_samples`, on short-time magnitude spectra (random phases do not repeat)."""
    def mags(x):
        w = np.hanning(n_fft)
        return np.array([np.abs(np.fft.rfft(x[i : i + n_fft] * w)) for i in range(0, len(x) - n_fft, hop)])

    Y, O, N = mags(y), mags(old), mags(new)
    d = N - O
    alpha = np.sum((Y - O) * d, axis=1) / np.maximum(np.sum(d * d, axis=1), 1e-12)
    # smooth the noise, then report the end of the first analysis window that gets there
    alpha = np.convolve(alpha, np.ones(4) / 4, mode="same")
    hit = np.flatnonzero(alpha >= 0.9)
    return None if not len(hit) else int(hit[0] * hop + n_fft)


def tone(ae, *, method: str = "harmonic", note: int = 60, seconds: float = 3.0, seed: int = 0) -> dict:
    """A sustained note's steadiness and fidelity.

    Returns the 20 ms RMS envelope's largest deviation from its mean (after the decay), the share of
    the energy below 20 Hz, and the spectral convergence ``||S_out - S_intended|| / ||S_intended||``
    between the STFT (4096-point Hann, hop 1024) of the output and the magnitude the voice intends:
    its harmonics at the note's exact frequency with the amplitudes the model gave them.
    """
    s = Synth(ae, method=method, seed=seed)
    s.note_on(note, 100)
    y = s.render(seconds)[44100 // 2 :]
    n = 882
    k = len(y) // n
    r = np.sqrt((y[: k * n].reshape(k, n) ** 2).mean(axis=1))
    P = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(len(y), 1 / 44100)
    (freq, amps), = s.playing  # the voice's harmonic amplitudes times its envelope and velocity
    N = 4096
    from manne.synth.spectral import OverlapAdd

    ola = OverlapAdd(n_fft=N, hop_length=1024, sr=44100)
    kk = np.arange(1, len(amps) + 1)
    keep = kk * freq < 0.95 * 22050
    A = amps[keep] * s.gain * s.controls.volume  # time-domain amplitude of each harmonic
    intended = np.abs(ola.partial_spectrum(kk[keep] * freq, A, np.zeros(int(keep.sum()))))
    w = np.hanning(N + 1)[:N]
    frames = np.array([np.abs(np.fft.rfft(y[i : i + N] * w)) for i in range(0, len(y) - N, 1024)])
    sc = float(np.sqrt(np.sum((frames - intended) ** 2)) / np.sqrt(len(frames) * np.sum(intended ** 2)))
    return {"method": method, "note": note, "envelope_dev": float(np.abs(r / r.mean() - 1).max()),
            "below_20hz": float(P[f < 20].sum() / P.sum()), "spectral_convergence": sc}


def first_sound_cmd(model_dir: str) -> list[str]:
    """A Python command line that loads the model, plays a note and prints timings as JSON."""
    code = ("import sys, time, json; t0 = time.time(); "
            "from manne.model.forward import Autoencoder; from manne.synth.instrument import Synth; "
            "ae = Autoencoder.load(sys.argv[1]); t1 = time.time(); s = Synth(ae); s.note_on(60, 100); "
            "y = s.process(256); t2 = time.time(); "
            "print(json.dumps({'imported': t0, 'loaded': t1, 'first': t2, 'audible': bool(abs(y).max() > 0)}))")
    import sys

    return [sys.executable, "-c", code, str(model_dir)]


__all__ = ["block_cost", "response_samples", "tone", "first_sound_cmd", "METHODS", "midi_hz"]
