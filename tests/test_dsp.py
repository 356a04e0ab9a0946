"""The analysis against slow obvious references, and chroma on tones of known pitch."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft

from manne import dsp
from manne.errors import ParameterError

from conftest import SR, tone


def slow_stft_magnitude(y, n_fft, hop_length):
    """Frame by frame: zero-pad n_fft//2 each side, Hann window, scipy rfft, abs."""
    window = np.array([0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft) for n in range(n_fft)])
    yp = np.concatenate([np.zeros(n_fft // 2), y, np.zeros(n_fft // 2 + n_fft)])
    frames = []
    for t in range(1 + len(y) // hop_length):
        seg = yp[t * hop_length : t * hop_length + n_fft]
        frames.append(np.abs(scipy.fft.rfft(seg * window)))
    return np.array(frames)


def test_stft_matches_reference():
    rng = np.random.default_rng(1)
    y = rng.standard_normal(SR // 2).astype(np.float32) * 0.1
    S = dsp.stft_magnitude(y, n_fft=4096, hop_length=1024, chunk=7)
    ref = slow_stft_magnitude(y.astype(np.float64), 4096, 1024)
    assert S.shape == ref.shape == (1 + len(y) // 1024, 2049)
    np.testing.assert_allclose(S, ref, atol=2e-4, rtol=1e-4)


def test_stft_of_a_sine_peaks_at_its_bin():
    f = 440.0
    y = np.sin(2 * np.pi * f * np.arange(SR) / SR).astype(np.float32)
    S = dsp.stft_magnitude(y)
    k = np.argmax(S[10])
    assert abs(k * SR / 4096 - f) < SR / 4096


def test_normalize_frames_keeps_gain():
    S = np.abs(np.random.default_rng(0).standard_normal((5, 2049))).astype(np.float32)
    S[2] = 0
    Sn, gain = dsp.normalize_frames(S)
    np.testing.assert_allclose(Sn.max(axis=1), [1, 1, 0, 1, 1])
    np.testing.assert_allclose(Sn * gain[:, None], S, rtol=1e-6)


def test_loud_frames_threshold_is_relative_to_peak():
    gain = np.array([1.0, 0.1, 0.01, 0.001, 0.0])
    assert dsp.loud_frames(gain, silence_db=30).tolist() == [True, True, False, False, False]
    assert dsp.loud_frames(gain, silence_db=50).tolist() == [True, True, True, False, False]
    assert not dsp.loud_frames(np.zeros(3), silence_db=60).any()


@pytest.mark.parametrize("midi", [45, 48, 55, 60, 61, 66, 70, 76, 83])
def test_chroma_of_known_pitch(midi):
    y = tone(midi, 0.5)
    S = dsp.stft_magnitude(y)
    fb = dsp.chroma_filter(sr=SR, n_fft=4096)
    notes = dsp.chroma_argmax(S[2:-2], fb)
    assert (notes == midi % 12).all(), f"midi {midi}: got {set(notes.tolist())}"


def test_chroma_is_per_frame_not_across_frames():
    """Two notes in one file: each frame gets its own label (the original scripts took the max over frames)."""
    y = np.concatenate([tone(60, 0.5), tone(67, 0.5)])
    S = dsp.stft_magnitude(y)
    notes = dsp.chroma_argmax(S, dsp.chroma_filter(sr=SR, n_fft=4096))
    assert notes[3] == 0 and notes[-4] == 7


def test_chroma_filter_matches_slow_loop():
    fb = dsp.chroma_filter(sr=SR, n_fft=4096)
    S = np.abs(np.random.default_rng(2).standard_normal((3, 2049))).astype(np.float32)
    slow = np.array([[sum(S[t, k] ** 2 * fb[c, k] for k in range(2049)) for c in range(12)] for t in range(3)])
    np.testing.assert_allclose(dsp.chroma(S, fb), slow, rtol=1e-4)
    band = fb.sum(axis=0) > 0
    np.testing.assert_allclose(fb[:, band].sum(axis=0), 1.0, rtol=1e-5)


def test_chroma_ties_go_to_lowest_class():
    fb = np.eye(12, 2049, dtype=np.float32)
    S = np.zeros((1, 2049), dtype=np.float32)
    S[0, [3, 7]] = 1.0
    assert dsp.chroma_argmax(S, fb)[0] == 3


def test_first_order_difference_restarts_each_clip():
    S = np.arange(12, dtype=np.float32).reshape(6, 2) ** 2
    clip = np.array([0, 0, 0, 1, 1, 2])
    D = dsp.first_order_difference(S, clip)
    for t in range(6):
        want = S[t] - S[t - 1] if t > 0 and clip[t] == clip[t - 1] else 0
        np.testing.assert_allclose(D[t], want)


def test_note_index():
    assert dsp.note_index("C") == 0 and dsp.note_index("f#") == 6 and dsp.note_index("Bb") == 10
    assert dsp.note_index(11) == 11 and dsp.note_index("4") == 4
    with pytest.raises(ParameterError, match="H"):
        dsp.note_index("H")
    with pytest.raises(ParameterError, match="12"):
        dsp.note_index(12)


def test_resample_keeps_pitch():
    y = np.sin(2 * np.pi * 1000 * np.arange(22050) / 22050).astype(np.float32)
    z = dsp.resample(y, orig_sr=22050, target_sr=SR)
    assert len(z) == SR
    spec = np.abs(np.fft.rfft(z))
    assert abs(np.argmax(spec) - 1000) <= 1
