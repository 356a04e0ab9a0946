"""The instrument's figures, measured as a musician hears them: cost, response, start-up and tone.

Pure measurement functions on a :class:`~manne.synth.instrument.Synth`, used by ``manne bench
synth`` (which prints them) and kept apart from the command so each is small and testable. Every
Synth built here caps NumPy's BLAS at one thread, as the live synth does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np

from manne.synth.instrument import BLOCK, DECODE_FMAX, Synth

__all__ = ["CHORD", "block_cost", "decode_parts", "render_speed", "response_samples", "response", "tone",
           "first_sound_cmd", "first_sound"]

CHORD = (48, 52, 55, 60, 64, 67, 71, 74)  # eight notes for the eight-voice figures
PRE_S = 0.3  # a note sounds this long (past its attack and decay) before a slider jumps
AFTER_S = 0.5  # and is followed this long after
MAG_N_FFT = 256  # the analysis window of a magnitude-only response (5.8 ms)


def _ms(ts) -> tuple[float, float]:
    """Median and 99th percentile of times ``ts`` (s), in ms."""
    a = np.asarray(ts) * 1e3
    return float(np.median(a)), float(np.percentile(a, 99))


def block_cost(ae, *, voices: int, method: str = "harmonic", moving: bool = False, blocks: int = 2000,
               block: int = BLOCK, seed: int = 0) -> dict:
    """Compute time of one block (median and p99, ms; wall clock and this thread's CPU time) with
    ``voices`` notes of :data:`CHORD` sounding.

    ``moving``: the sliders get a new position before every block (the sounding classes are then
    re-decoded, at most ``max_decodes`` a block), the worst case of a musician sweeping a slider.
    ``set_z`` runs on the control thread and is left out of the time.
    """
    s = Synth(ae, method=method, block=block)
    rng = np.random.default_rng(seed)
    lo, hi = ae.latent_range
    for note in CHORD[:voices]:
        s.note_on(note, 100)
    wall, cpu = np.empty(blocks), np.empty(blocks)
    for i in range(-50, blocks):  # 50 untimed blocks: every voice sounding, every buffer touched
        if moving:
            s.set_z(rng.uniform(lo, hi))
        c, t = time.thread_time(), time.perf_counter()
        s.process(block)
        if i >= 0:
            wall[i], cpu[i] = time.perf_counter() - t, time.thread_time() - c
    block_ms = 1e3 * block / s.sr
    (med, p99), (cmed, cp99) = _ms(wall), _ms(cpu)
    return {"method": method, "voices": voices, "moving": moving, "blocks": blocks, "block_ms": block_ms,
            "median_ms": med, "p99_ms": p99, "cpu_median_ms": cmed, "cpu_p99_ms": cp99,
            "median_load": med / block_ms, "p99_load": p99 / block_ms, "cpu_p99_load": cp99 / block_ms}


def decode_parts(ae, *, calls: int = 300, seed: int = 0) -> dict:
    """Median ms of the steps a moving slider costs per pitch class: the decode (the bins played,
    up to ``DECODE_FMAX``), its fundamental and harmonic amplitudes, and one voice's period table."""
    from manne.model.decoder import Decoder
    from manne.synth.pitch import N_HARMONICS, Partials
    from manne.synth.wavetable import Wavetables

    a = ae.analysis
    partials = Partials(sr=a.sr, n_fft=a.n_fft, fmax=DECODE_FMAX)
    dec = Decoder.of(ae, cols=np.arange(min(partials.n_bins, a.n_bins)))
    tables = Wavetables(N_HARMONICS, sr=a.sr, seed=seed)
    lo, hi = ae.latent_range
    Z = np.random.default_rng(seed).uniform(lo, hi, size=(calls, ae.latent)).astype(np.float32)
    S = dec.many(Z, 0)
    f0 = np.atleast_1d(partials.f0(S))
    amps = [partials.amplitudes(S[i], float(f0[i])) for i in range(calls)]

    def med(fn) -> float:
        fn(0)
        ts = []
        for i in range(calls):
            t = time.perf_counter()
            fn(i)
            ts.append(time.perf_counter() - t)
        return _ms(ts)[0]

    return {"decode_ms": med(lambda i: dec.one(Z[i], 0)),
            "f0_ms": med(lambda i: partials.f0(S[i])),
            "amplitudes_ms": med(lambda i: partials.amplitudes(S[i], float(f0[i]))),
            "table_ms": med(lambda i: tables.build(amps[i], 300.0)),
            "bins": int(dec.n_out)}


def render_speed(ae, *, voices: int, method: str = "harmonic", seconds: float = 10.0) -> dict:
    """Offline render speed, sliders still: seconds of audio per second of wall clock (and of CPU)."""
    s = Synth(ae, method=method)
    for note in CHORD[:voices]:
        s.note_on(note, 100)
    s.render(0.1)
    c, t = time.thread_time(), time.perf_counter()
    s.render(seconds)
    wall, cpu = time.perf_counter() - t, time.thread_time() - c
    return {"method": method, "voices": voices, "seconds": seconds, "x_real_time": seconds / wall,
            "cpu_x_real_time": seconds / max(cpu, 1e-9)}


def _hop(s: Synth, method: str) -> int:
    """Samples between the moments a method can take a new spectrum (a block, or its STFT hop)."""
    ola = s._olas.get(method)  # noqa: SLF001 - a benchmark reads the synth's hop, it changes nothing
    return s.block if ola is None else int(ola.hop_length)


def response_samples(ae, *, method: str = "harmonic", n_fft: int | None = None, note: int = 60, win: int = 32,
                     offsets: int | list[int] = 1) -> list[int | None]:
    """Samples from a slider jump until the output is 90 % of the way from the old sound to the new.

    The note plays ``PRE_S`` s (plus an offset) at the slider range's lower end, then the sliders
    jump to its upper end. Two references play the old and the new ``z`` all along (same note, same
    seed: the same phases, the noise method's random ones included); over each ``win``-sample
    window the output is fitted as ``old + alpha * (new - old)``, and the figure is the end of the
    first window where ``alpha >= 0.9``, counted from the jump.

    ``offsets``: the jump instants after ``PRE_S`` in samples, or a count of them spread evenly over
    one hop of the method (a block, or the noise method's STFT hop): the response depends on where
    the jump falls in it. Returns one figure per offset; None where 90 % is never reached in
    ``AFTER_S``. Method ``rtpghi`` is fitted on magnitudes (:func:`_magnitude_response`).
    """
    sr = ae.analysis.sr
    z_old, z_new = ae.latent_range[0], ae.latent_range[1]

    def synth(z) -> Synth:
        # the partials' response: the noise between them follows a slider within its 1024-sample hop
        s = Synth(ae, method=method, n_fft=n_fft, seed=0, noise=False)
        s.set_z(z)
        s.note_on(note, 100)
        return s

    if isinstance(offsets, int):
        hop = _hop(synth(z_old), method)
        offsets = [round(k * hop / offsets) for k in range(offsets)]
    pre, n = int(PRE_S * sr), int(AFTER_S * sr)
    total = pre + max(offsets) + n
    old, new = synth(z_old).process(total), synth(z_new).process(total)
    kernel = np.ones(win)
    out: list[int | None] = []
    for off in offsets:
        s = synth(z_old)
        s.process(pre + off)
        s.set_z(z_new)
        y = s.process(n).astype(np.float64)
        if method == "rtpghi":  # its phase follows the magnitude: only magnitudes can be compared
            out.append(_magnitude_response(y, old[pre + off : pre + off + n], new[pre + off : pre + off + n]))
            continue
        o, d = old[pre + off : pre + off + n], (new - old)[pre + off : pre + off + n].astype(np.float64)
        num = np.convolve((y - o) * d, kernel, mode="valid")
        den = np.convolve(d * d, kernel, mode="valid")
        ok = den > 1e-6 * den.max()
        hit = np.flatnonzero(ok & (num >= 0.9 * den))
        out.append(int(hit[0] + win) if len(hit) else None)
    return out


def _magnitude_response(y: np.ndarray, old: np.ndarray, new: np.ndarray, *, n_fft: int = MAG_N_FFT,
                        hop_length: int = 32) -> int | None:
    """:func:`response_samples` for a method whose phase depends on its magnitude (``rtpghi``).

    The two references then do not share the output's phase, so the fit ``old + alpha (new - old)``
    is made on ``n_fft``-point Hann magnitude spectra every ``hop_length`` samples, and the figure is
    the end of the first frame where ``alpha >= 0.9``, less half a frame (the frame's centre: the
    analysis window alone would otherwise add ``n_fft / 2``). Pessimistic by up to ``n_fft / 2``.
    """
    w = np.hanning(n_fft)
    starts = range(0, len(y) - n_fft + 1, hop_length)

    def mags(x: np.ndarray) -> np.ndarray:
        return np.abs(np.fft.rfft(np.stack([x[i : i + n_fft] * w for i in starts]), axis=1))

    Y, O, N = mags(y), mags(old.astype(np.float64)), mags(new.astype(np.float64))
    d = N - O
    num, den = ((Y - O) * d).sum(axis=1), (d * d).sum(axis=1)
    hit = np.flatnonzero((den > 1e-6 * den.max()) & (num >= 0.9 * den))
    return int(hit[0] * hop_length + n_fft // 2) if len(hit) else None


def response(ae, *, method: str = "harmonic", n_fft: int | None = None, offsets: int = 8) -> dict:
    """:func:`response_samples` over ``offsets`` jump instants: median and worst, in samples and ms."""
    r = response_samples(ae, method=method, n_fft=n_fft, offsets=offsets)
    sr = ae.analysis.sr
    got = [x for x in r if x is not None]
    med = float(np.median(got)) if got else None
    worst = None if (not got or len(got) < len(r)) else int(max(got))
    return {"method": method, "n_fft": int(n_fft or ae.analysis.n_fft), "samples": r,
            "median_samples": med, "worst_samples": worst,
            "median_ms": None if med is None else 1e3 * med / sr,
            "worst_ms": None if worst is None else 1e3 * worst / sr}


def tone(ae, *, method: str = "harmonic", note: int = 60, seconds: float = 3.0, seed: int = 0) -> dict:
    """A sustained note's steadiness and fidelity.

    Returns the 20 ms RMS envelope's largest deviation from its mean (after the decay), the share of
    the energy below 20 Hz, and the spectral convergence ``||S_out - S_intended|| / ||S_intended||``
    between the STFT (4096-point Hann, hop 1024) of the output and the magnitude the voice intends:
    its harmonics at the note's exact frequency with the amplitudes the model gave them.
    """
    from manne.synth.spectral import OverlapAdd

    s = Synth(ae, method=method, seed=seed)
    sr = s.sr
    s.note_on(note, 100)
    y = s.render(seconds)[sr // 2 :].astype(np.float64)
    n = int(0.02 * sr)
    k = len(y) // n
    r = np.sqrt((y[: k * n].reshape(k, n) ** 2).mean(axis=1))
    P = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(len(y), 1 / sr)
    (freq, amps), = s.playing  # the voice's harmonic amplitudes times its envelope and velocity
    N, H = 4096, 1024
    ola = OverlapAdd(n_fft=N, hop_length=H, sr=sr)
    kk = np.arange(1, len(amps) + 1)
    keep = kk * freq < 0.95 * sr / 2
    A = amps[keep] * s.gain * s.controls.volume  # time-domain amplitude of each harmonic
    intended = np.abs(ola.partial_spectrum(kk[keep] * freq, A, np.zeros(int(keep.sum()))))
    w = np.hanning(N + 1)[:N]
    frames = np.array([np.abs(np.fft.rfft(y[i : i + N] * w)) for i in range(0, len(y) - N, H)])
    sc = float(np.sqrt(np.sum((frames - intended) ** 2)) / np.sqrt(len(frames) * np.sum(intended ** 2)))
    return {"method": method, "note": note, "envelope_dev": float(np.abs(r / r.mean() - 1).max()),
            "below_20hz": float(P[f < 20].sum() / P.sum()), "spectral_convergence": sc}


_FIRST_SOUND = """\
import time; t0 = time.time()
import sys, json
from manne.model.forward import Autoencoder
from manne.synth.instrument import Synth
t1 = time.time()
ae = Autoencoder.load(sys.argv[1])
t2 = time.time()
s = Synth(ae)
t3 = time.time()
s.note_on(60, 100)
y = s.process(256)
t4 = time.time()
print(json.dumps({"started": t0, "imported": t1, "loaded": t2, "built": t3, "first": t4,
                  "peak": float(abs(y).max())}))
"""


def first_sound_cmd(model_dir: str) -> list[str]:
    """A Python command line that imports, loads the model, builds a Synth, plays C4 and makes its
    first 256-sample block; it prints the wall-clock time after each step and the block's peak as JSON."""
    return [sys.executable, "-c", _FIRST_SOUND, str(model_dir)]


def first_sound(model_dir: str, *, runs: int = 5, audible: float = 1e-3) -> dict:
    """Launch to first sound, in fresh processes: the median of ``runs`` and its parts (median s).

    Parts: ``python`` (the interpreter's start), ``imports``, ``load`` (the model directory),
    ``synth`` (building the Synth), ``first_block`` (the note's first 256 samples). ``audible``:
    whether every run's block peaks above this level (-60 dBFS by default); ``peak``: the lowest peak.

    Raises
    ------
    RuntimeError
        If a run fails; the message ends with the last line the process wrote to stderr.
    """
    steps = (("python", "started"), ("imports", "imported"), ("load", "loaded"), ("synth", "built"),
             ("first_block", "first"))
    rows = []
    for _ in range(runs):
        t = time.time()
        res = subprocess.run(first_sound_cmd(model_dir), capture_output=True, text=True)
        if res.returncode != 0:
            err = res.stderr.strip().splitlines()
            raise RuntimeError(f"the first-sound process failed: {err[-1] if err else res.returncode}")
        out = json.loads(res.stdout.strip().splitlines()[-1])
        prev, row = t, {"total": out["first"] - t, "peak": out["peak"]}
        for name, key in steps:
            row[name], prev = out[key] - prev, out[key]
        rows.append(row)
    med = {k: float(np.median([r[k] for r in rows])) for k in ("total", *(name for name, _ in steps))}
    return {"median_s": med["total"], "parts_s": {name: med[name] for name, _ in steps},
            "runs_s": [r["total"] for r in rows], "peak": min(r["peak"] for r in rows),
            "audible": all(r["peak"] > audible for r in rows)}
