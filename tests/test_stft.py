"""manne.stft: the NumPy STFT, inverse STFT and chroma filterbank equal librosa's (the corpus analysis')."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from manne.errors import ParameterError
from manne.stft import chroma_filterbank, istft, stft


def chirp(n: int, sr: int = 44100) -> np.ndarray:
    t = np.arange(n) / sr
    return (0.5 * np.sin(2 * np.pi * (100 * t + 2000 * t * t))).astype(np.float32)


@pytest.mark.parametrize("n, n_fft, hop", [(3 * 44100 + 17, 4096, 1024), (5000, 2048, 512), (3000, 4096, 1024),
                                           (10000, 1024, 300)])
def test_stft_and_istft_equal_librosa_and_round_trip(n, n_fft, hop):
    import librosa

    y = chirp(n)
    X = stft(y, n_fft=n_fft, hop_length=hop)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # librosa warns when n_fft exceeds a short signal
        ref = librosa.stft(y, n_fft=n_fft, hop_length=hop, window="hann", center=True, pad_mode="constant").T
    assert X.shape == ref.shape and X.dtype == np.complex64
    np.testing.assert_allclose(X, ref, atol=1e-6 * np.abs(ref).max())
    Z = X * np.exp(1j * np.linspace(0, 3, X.shape[1]))[None, :]  # an inconsistent spectrum: the projection must agree too
    np.testing.assert_allclose(istft(Z, hop_length=hop, length=n),
                               librosa.istft(Z.T, hop_length=hop, window="hann", center=True, length=n), atol=1e-5)
    np.testing.assert_allclose(istft(X, hop_length=hop, length=n), y, atol=1e-6)


def test_stft_refuses_what_it_cannot_frame():
    with pytest.raises(ParameterError, match="needs a mono signal"):
        stft(np.zeros((10, 2)), n_fft=512, hop_length=128)
    with pytest.raises(ParameterError, match="n_fft=1 must be at least 2"):
        stft(np.zeros(100), n_fft=1, hop_length=1)


@pytest.mark.parametrize("sr, n_fft, fmin, fmax", [(44100, 4096, 50.0, 5000.0), (48000, 2048, 0.0, 8000.0)])
def test_chroma_filterbank_equals_the_analysis_one(sr, n_fft, fmin, fmax):
    from manne.corpus.analysis import chroma_filter

    np.testing.assert_allclose(chroma_filterbank(sr=sr, n_fft=n_fft, fmin=fmin, fmax=fmax),
                               chroma_filter(sr=sr, n_fft=n_fft, fmin=fmin, fmax=fmax), rtol=1e-6, atol=1e-7)
