"""RTPGHI (manne.synth.rtpghi): the vectorised heap against a plain heapq loop, the phase of a
stationary sinusoid, and the instrument's ``rtpghi`` method on the bundled model (pitch, steadiness,
nothing below 20 Hz, and a phase much closer to the intended magnitude than random phase).
"""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from manne.errors import ParameterError
from manne.synth.instrument import Synth
from manne.synth.pitch import cents
from manne.synth.rtpghi import RTPGHI, PhaseGradientOverlapAdd, heap_integrate

SR = 44100


@pytest.fixture(scope="module")
def ae(default_ae):
    """The bundled default model."""
    return default_ae


def slow_heap_integrate(p, c, along_time, fgrad):
    """Průša's heap integration on one frame, as written: pop the largest key; a previous-frame
    entry gives its bin the phase along time, a current-frame entry gives its neighbours theirs."""
    n = len(c)
    phase = np.full(n, np.nan)
    heap = [(-p[m], "time", m) for m in range(n) if c[m] > -np.inf]
    heapq.heapify(heap)
    while heap:
        _, kind, m = heapq.heappop(heap)
        if kind == "time":
            if np.isnan(phase[m]):
                phase[m] = along_time[m]
                heapq.heappush(heap, (-c[m], "freq", m))
            continue
        for j in (m - 1, m + 1):
            if 0 <= j < n and c[j] > -np.inf and np.isnan(phase[j]):
                phase[j] = phase[m] + 0.5 * (fgrad[m] + fgrad[j]) * (j - m)
                heapq.heappush(heap, (-c[j], "freq", j))
    return phase


def test_the_vectorised_heap_is_the_heap():
    rng = np.random.default_rng(3)
    for _ in range(300):
        n = int(rng.integers(1, 80))
        p, c = rng.normal(size=n), rng.normal(size=n)
        out = rng.random(n) < 0.25  # below tol: left out, they split the frame into runs
        p[out] = c[out] = -np.inf
        along_time, fgrad = rng.uniform(-np.pi, np.pi, n), rng.normal(size=n)
        np.testing.assert_allclose(heap_integrate(p, c, along_time, fgrad),
                                   slow_heap_integrate(p, c, along_time, fgrad), atol=1e-9)


def test_a_stationary_partial_advances_at_its_frequency_and_keeps_its_lobe_in_phase():
    """Bin 100.3: the peak's phase advance per hop gives its frequency within 0.02 bin (the Gaussian
    approximation of the Hann lobe), and the lobe's five bins share one phase (no time shift)."""
    n_fft, hop = 4096, 128
    ola = PhaseGradientOverlapAdd(n_fft=n_fft, hop_length=hop, sr=SR)
    pos = 100.3
    S = np.abs(ola.partial_spectrum(np.array([pos * ola.bin_hz]), np.array([1.0]), np.zeros(1)))
    r = RTPGHI(n_fft=n_fft, hop_length=hop)
    phases = np.array([r.phase(S) for _ in range(20)])
    step = np.angle(np.exp(1j * np.diff(phases[5:, 100])))
    est = np.median(step) * n_fft / (2 * np.pi * hop) % (n_fft / hop)  # bins, modulo the hop's ambiguity
    assert abs(est - pos % (n_fft / hop)) < 0.02
    lobe = np.angle(np.exp(1j * (phases[-1, 98:103] - phases[-1, 100])))
    np.testing.assert_allclose(lobe, 0.0, atol=1e-9)


def test_the_magnitude_of_a_real_signal_comes_back_with_its_phase():
    """Struck tones (instant attack, 30 ms decay): the STFT magnitude alone, frame by frame, gives a
    signal whose STFT is within 15 % of it (spectral convergence); a random phase is off by ~70 %.
    The decay makes every partial's phase slope across its lobe matter (the frequency direction)."""
    from manne.dsp import hann

    n_fft, hop = 1024, 128
    t = np.arange(SR // 2) / SR
    y = np.zeros_like(t)
    for t0, f in [(0.02, 440.0), (0.15, 660.0), (0.27, 523.0), (0.33, 1250.0)]:
        on = t >= t0
        y += on * np.exp(-(t - t0) * on / 0.03) * np.sin(2 * np.pi * f * (t - t0))
    w = hann(n_fft).astype(np.float64)

    def stft(x):  # frame j: x[j hop : j hop + n_fft], the first len(y) samples zero-padded
        x = np.concatenate([x[: len(y)], np.zeros(n_fft)])
        return np.array([np.abs(np.fft.rfft(w * x[i : i + n_fft])) for i in range(0, len(y), hop)])

    S = stft(y)
    frames = np.concatenate([S, np.zeros((n_fft // hop, S.shape[1]))])  # then flush the overlap-add
    ola = PhaseGradientOverlapAdd(n_fft=n_fft, hop_length=hop, sr=SR)
    out = np.concatenate([ola.pghi_frame(s) for s in frames])  # frame j lands on samples j hop ...
    rng = np.random.default_rng(0)
    ola.reset()
    noise = np.concatenate([ola._add(np.fft.irfft(s * np.exp(2j * np.pi * rng.random(len(s))), n=n_fft), "rtpghi")
                            for s in frames])

    def sc(x):
        return np.linalg.norm(stft(x) - S) / np.linalg.norm(S)

    assert sc(out) < 0.15
    assert sc(noise) > 0.5


def test_silence_and_bad_tolerance():
    r = RTPGHI(n_fft=512, hop_length=128)
    assert np.isfinite(r.phase(np.zeros(257))).all()
    with pytest.raises(ParameterError, match="tol=0 must be between 0 and 1"):
        RTPGHI(n_fft=512, hop_length=128, tol=0)


@pytest.mark.parametrize("note", [48, 60, 72, 84])  # C3 .. C6
def test_a_held_note_plays_its_exact_pitch(ae, note):
    import librosa

    s = Synth(ae, method="rtpghi")
    s.note_on(note, 100)
    y = s.render(0.5)[int(0.2 * SR):]
    f = float(np.median(librosa.yin(y, fmin=30.0, fmax=4200.0, sr=SR, frame_length=4096)))
    assert abs(cents(f, note)) < 25


def test_a_steady_note_is_steady_with_nothing_below_20hz_and_its_phase_beats_random_phase(ae):
    """The figures of ``manne bench synth``: the 20 ms RMS after the decay within 15 % of its mean,
    and the STFT of the output against the intended magnitude (spectral convergence) far closer
    than the noise method's random phase gets."""
    from manne.benchmarks.figures import tone

    noise = tone(ae, method="noise", seconds=2.0)
    for note in (48, 60, 72):
        t = tone(ae, method="rtpghi", note=note, seconds=2.0)
        assert t["envelope_dev"] < 0.15, t
        assert t["below_20hz"] < 1e-4, t
        assert t["spectral_convergence"] < min(0.1, 0.25 * noise["spectral_convergence"]), (t, noise)


def test_blocks_of_any_size_concatenate_and_a_switch_to_rtpghi_sounds(ae):
    def play(sizes, method="rtpghi"):
        s = Synth(ae, method=method)
        s.note_on(60, 100)
        s.note_on(67, 90)
        return s, np.concatenate([s.process(n) for n in sizes])

    _, whole = play([8000])
    np.testing.assert_array_equal(play([1, 127, 128, 129, 1000, 4097, 2518])[1], whole)
    s, _ = play([4096], method="harmonic")
    s.set_method("rtpghi")
    y = s.process(8192)
    assert np.isfinite(y).all() and np.abs(y[4096:]).max() > 0.01
