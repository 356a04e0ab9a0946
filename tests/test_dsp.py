"""The NumPy signal helpers against slow obvious references; the STFT and chroma are in test_analysis.py."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.signal

from manne import dsp
from manne.errors import ParameterError

from conftest import SR


def test_hann_is_periodic():
    for n_fft in (1, 2, 7, 4096):
        w = dsp.hann(n_fft)
        slow = [0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft) for n in range(n_fft)]
        assert w.shape == (n_fft,) and w.dtype == np.float32
        np.testing.assert_allclose(w, slow, atol=1e-7)
    np.testing.assert_allclose(dsp.hann(4096), scipy.signal.get_window("hann", 4096, fftbins=True), atol=1e-7)
    w = dsp.hann(4096)
    ola = sum(np.roll(w, k * 1024) for k in range(4))  # overlap-add at hop n_fft / 4 is flat
    np.testing.assert_allclose(ola, 2.0, atol=1e-6)
    with pytest.raises(ParameterError, match="n_fft=0"):
        dsp.hann(0)


def test_dsp_corpus_and_synth_imports_load_neither_scipy_nor_librosa():
    """librosa and scipy load inside the functions that analyse or resample, never on the real-time path."""
    code = ("import sys, manne.dsp, manne.corpus, manne.synth.instrument; "
            "print([m for m in ('librosa', 'scipy', 'tensorflow') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


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
