"""Timbre transfer (issue 9, ANNe): unit gains give the model's reconstruction of the input, a moved
neuron changes the sound, bad inputs get one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from manne.cli import main
from manne.errors import ParameterError


@pytest.mark.parametrize("name", ["bright/bright_55.wav", "dark/dark_60.wav"])
def test_unit_gains_reproduce_the_input_within_the_reconstruction_error(bright_model, bright_dir, name):
    """With unit gains and zero offsets each frame becomes the model's reconstruction at its own gain, and
    the output differs from the input by no more than those reconstructions differ from its frames."""
    import librosa

    from manne.corpus.analysis import chroma_argmax, chroma_filter
    from manne.model.forward import Autoencoder
    from manne.timbre.transfer import check_moves, transfer

    ae = Autoencoder.load(bright_model)
    y, sr = sf.read(bright_dir / name, dtype="float32")
    gain, offset = check_moves(None, None, ae.latent)
    r = transfer(ae, y, gain=gain, offset=offset)
    assert r.y.shape == y.shape and np.isfinite(r.y).all() and r.loud.all()
    # the magnitudes sent to the inverse STFT are exactly the model's reconstruction, at each frame's gain
    g = r.S_in.max(axis=1, keepdims=True)
    S = r.S_in / g
    a = ae.analysis
    note = chroma_argmax(S, chroma_filter(sr=a.sr, n_fft=a.n_fft, fmin=a.fmin, fmax=a.fmax))
    rec = ae.reconstruct(S, note)
    np.testing.assert_allclose(r.S_out / g, rec, rtol=1e-4, atol=1e-5)
    # ... whose error is of the order of the model's own on its test frames
    test_mse = json.loads((bright_model / "metrics.json").read_text())["test_mse"]
    mse = float(np.mean((rec - S) ** 2))
    assert mse < 5 * test_mse, (mse, test_mse)
    # the output keeps the input's phase, so its distance from the input is at most the frames' error (the
    # inverse STFT projects); the same magnitudes with another phase are much further: the bound can fail
    frames_err = float(np.sum((r.S_out - r.S_in) ** 2) / np.sum(r.S_in ** 2))
    out_err = float(np.sum((r.y - y) ** 2) / np.sum(y ** 2))
    assert out_err <= 1.05 * frames_err, (out_err, frames_err)
    X = librosa.stft(y, n_fft=a.n_fft, hop_length=a.hop_length, window="hann", center=True, pad_mode="constant")
    shifted = np.roll(np.angle(X), 1, axis=1)  # each frame given its neighbour's phase
    y_bad = librosa.istft(r.S_out.T * np.exp(1j * shifted), hop_length=a.hop_length, n_fft=a.n_fft, length=len(y))
    assert float(np.sum((y_bad - y) ** 2) / np.sum(y ** 2)) > 1.5 * frames_err


def test_the_command_writes_what_transfer_makes_at_the_input_rate(bright_model, bright_dir, tmp_path, capsys):
    from manne.model.forward import Autoencoder
    from manne.timbre.transfer import check_moves, transfer

    src = bright_dir / "bright" / "bright_55.wav"
    out = tmp_path / "t.wav"
    assert main(["transfer", str(bright_model), str(src), "-o", str(out), "--gain", "1,1", "--offset", "0,0"]) == 0
    said = capsys.readouterr().out
    assert "x real time" in said and "gains 1,1; offsets 0,0" in said and "at 44100 Hz" in said
    ae = Autoencoder.load(bright_model)
    y, _ = sf.read(src, dtype="float32")
    gain, offset = check_moves(None, None, 2)
    r = transfer(ae, y, gain=gain, offset=offset)
    y2, sr2 = sf.read(out, dtype="float32")
    assert sr2 == 44100 and np.allclose(y2, r.y, atol=1e-4)
    # a 22.05 kHz input comes back at 22.05 kHz, as long
    low = tmp_path / "low.wav"
    sf.write(low, y[::2], 22050)
    assert main(["transfer", str(bright_model), str(low), "-o", str(tmp_path / "low-out.wav")]) == 0
    assert "22050 Hz (the model's 44100 Hz resampled back)" in capsys.readouterr().out
    info = sf.info(str(tmp_path / "low-out.wav"))
    assert info.samplerate == 22050 and info.frames == len(y[::2])


def test_moving_a_neuron_changes_the_sound(bright_model, bright_dir):
    from manne.model.forward import Autoencoder
    from manne.timbre.transfer import check_moves, transfer

    ae = Autoencoder.load(bright_model)
    y, _ = sf.read(bright_dir / "dark" / "dark_60.wav", dtype="float32")
    same = transfer(ae, y, gain=np.ones(2), offset=np.zeros(2))
    lo, hi = ae.latent_range
    for gain, offset in (([0.0, 1.0], [0.0, 0.0]),  # z1 to the bottom of its range
                         ([1.0, 1.0], [hi[0] - lo[0], 0.0])):  # z1 to the top
        moved = transfer(ae, y, gain=np.array(gain), offset=np.array(offset))
        d = np.abs(moved.S_out - same.S_out).mean() / same.S_out.mean()
        assert d > 0.05, (gain, offset, d)
        assert np.sqrt(np.mean((moved.y - same.y) ** 2)) > 0.05 * np.sqrt(np.mean(same.y ** 2))
    with pytest.raises(ParameterError, match="--gain has 3 values; the model has 2 neurons"):
        check_moves([1, 1, 1], None, 2)


@pytest.mark.parametrize("extra, make, message", [
    (["--gain", "1,2,3"], "tone", "--gain has 3 values; the model has 2 neurons"),
    (["--offset", "0"], "tone", "--offset has 1 value; the model has 2 neurons"),
    (["--offset", "nan,0"], "tone", "--offset values must be finite"),
    ([], "short", "transfer needs at least 46 ms"),
    ([], "silent", "no frame loud enough"),
    ([], "missing", "missing.wav: no such file"),
    ([], "corrupt", "cannot decode audio"),
])
def test_bad_inputs_are_one_line(bright_model, bright_dir, tmp_path, capsys, extra, make, message):
    path = tmp_path / f"{make}.wav"
    if make == "tone":
        path = bright_dir / "dark" / "dark_48.wav"
    elif make == "corrupt":
        path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    elif make != "missing":
        sf.write(path, np.zeros(500 if make == "short" else 44100, dtype=np.float32), 44100)
    assert main(["transfer", str(bright_model), str(path), "-o", str(tmp_path / "out.wav"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "out.wav").exists()


def test_outputs_are_checked_before_the_model_loads(bright_dir, tmp_path, capsys):
    src = str(bright_dir / "dark" / "dark_48.wav")
    assert main(["transfer", str(tmp_path / "no-model"), src, "-o", str(tmp_path / "out.mp3")]) == 2
    assert "the output must be a .wav file" in capsys.readouterr().err
    (tmp_path / "out.wav").write_bytes(b"keep")
    assert main(["transfer", str(tmp_path / "no-model"), src, "-o", str(tmp_path / "out.wav")]) == 2
    assert "exists; use --force to overwrite it" in capsys.readouterr().err
    assert (tmp_path / "out.wav").read_bytes() == b"keep"
