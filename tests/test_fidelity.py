"""``manne encode`` and ``manne bench fidelity`` on real notes (FluidSynth renders) and a tiny real model.

The measures are checked against signals whose answer is known: sines of given amplitudes, white
noise of given power, a plain sawtooth computed here with an FFT loop.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from manne.cli import main as cli_main
from manne.corpus.analysis import Frames, stft_magnitude
from manne.timbre import fidelity as F
from manne.timbre.encoding import sustained_notes

SR, N_FFT = 44100, 4096
CELLO = [48, 52, 55, 60, 64]  # C3 E3 G3 C4 E4
SAW = [48, 55, 60, 67]  # C3 G3 C4 G4


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """FluidR3 renders of separate 1 s notes at velocity 80: a cello (program 42) and a sawtooth lead (81)."""
    from tools.soundfont.fluid import render_midi
    from tools.soundfont.notes import single_notes

    d = tmp_path_factory.mktemp("fidelity")
    cello = render_midi(single_notes(CELLO, 80, note_s=1.0, gap_s=0.25), d / "cello.wav", program=42)
    saw = render_midi(single_notes(SAW, 80, note_s=1.0, gap_s=0.25), d / "saw.wav", program=81)
    return {"cello": cello, "saw": saw}


def _frames(pitch, voiced, frame) -> Frames:
    n = len(frame)
    return Frames(np.ones((n, 4), np.float32), np.ones(n, np.float32), np.zeros(n, np.int8),
                  np.asarray(pitch, np.float32), np.asarray(voiced, bool), np.asarray(frame, np.int32), n)


def test_sustained_notes_are_runs_without_attack_and_release():
    # frames 0-11 at C4 (60.1 rounds to 60), 12-16 at D4 (5 frames: too short), 20-29 after a silent gap at E4
    # with an unvoiced frame at 25 (two runs of 5: too short), then 40-48 at F4 (9 frames)
    frame = list(range(0, 17)) + list(range(20, 30)) + list(range(40, 49))
    pitch = [60.1] * 12 + [62.0] * 5 + [64.0] * 10 + [65.2] * 9
    voiced = [True] * len(frame)
    voiced[17 + 5] = False
    notes = sustained_notes(_frames(pitch, voiced, frame))
    assert [n.midi for n in notes] == [60, 65]
    assert notes[0].idx.tolist() == list(range(3, 10))  # 12 frames less 3 of attack and 2 of release
    assert notes[1].idx.tolist() == list(range(27 + 3, 27 + 7))
    assert notes[0].pitch == pytest.approx(60.1)
    # a run broken by a dropped (silent) frame is two runs
    assert sustained_notes(_frames([60.0] * 16, [True] * 16, list(range(8)) + list(range(9, 17)))) != []
    assert sustained_notes(_frames([60.0] * 14, [True] * 14, list(range(7)) + list(range(8, 15)))) == []


def test_harmonic_levels_and_noise_of_known_signals():
    f0 = 25 * SR / N_FFT  # every harmonic at a bin centre: the Hann peak is the amplitude times sum(w) / 2
    t = np.arange(SR) / SR
    amps = np.array([0.5, 1.0, 0.1, 0.01, 0.001])
    y = sum(a * np.sin(2 * np.pi * (k + 1) * f0 * t) for k, a in enumerate(amps))
    S = np.median(stft_magnitude(y.astype(np.float32), n_fft=N_FFT, hop_length=1024)[5:35], axis=0)
    levels = F.harmonic_levels(S, f0, sr=SR, n_fft=N_FFT)
    assert len(levels) == 16  # 16 * 269 Hz is below 10 kHz
    np.testing.assert_allclose(levels[:5], [-6.02, 0.0, -20.0, -40.0, -60.0], atol=0.05)
    assert (levels[5:] == F.FLOOR_DB).all()
    assert len(F.harmonic_levels(S, 1000.0, sr=SR, n_fft=N_FFT)) == 9  # 10 kHz is not below 10 kHz
    # a played note is read at the real note's harmonics, whichever side of 10 kHz its own 10th falls
    assert len(F.harmonic_levels(S, 1001.0, sr=SR, n_fft=N_FFT, n=10)) == 10
    np.testing.assert_allclose(F.harmonic_levels(S, f0, sr=SR, n_fft=N_FFT, n=5), levels[:5])
    assert F.level_error(levels, levels) == 0.0

    # white noise of power sigma**2 reads sigma**2 * sum(w**2) per bin; a unit sine peaks at (sum(w) / 2) ** 2
    rng = np.random.default_rng(0)
    sigma = 1e-3
    y = np.sin(2 * np.pi * f0 * t) + sigma * rng.standard_normal(len(t))
    S = stft_magnitude(y.astype(np.float32), n_fft=N_FFT, hop_length=1024)[5:35]
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)
    expected = 10 * np.log10(sigma ** 2 * np.sum(w ** 2) / (np.sum(w) / 2) ** 2)
    power = np.sqrt(np.mean(S.astype(np.float64) ** 2, axis=0))  # the frames' mean power, as one spectrum
    assert F.noise_level(power, f0, sr=SR, n_fft=N_FFT) == pytest.approx(expected, abs=0.5)
    # no noise: the window's side lobes alone, far below
    assert F.noise_floor(np.zeros(1), f0, sr=SR, n_fft=N_FFT) < expected - 30
    assert np.isnan(F.noise_level(S[0], 30.0, sr=SR, n_fft=N_FFT))  # partials 2.8 bins apart: no bin between

    real = np.array([1.0, 0.5, 1e-4, 0.0])
    assert F.stuck_share(np.array([0.0, 0.2, 0.0, 0.0]), real) == pytest.approx(1 / 2)  # bin 2 is below -60 dB


def _last_line_code(out: str) -> list[float]:
    return [float(v) for v in out.strip().splitlines()[-1].split(",")]


def test_encode_prints_the_code_and_saves_a_preset(tiny_model, recordings, tmp_path, capsys):
    from manne.commands.render import parse_z
    from manne.model.forward import Autoencoder
    from manne.synth.presets import load_preset

    ae = Autoencoder.load(tiny_model)
    assert ae.config.uses_register
    preset = tmp_path / "cello.json"
    assert cli_main(["encode", str(tiny_model), str(recordings["cello"]), "-o", str(preset)]) == 0
    out = capsys.readouterr().out
    assert "5 sustained notes (C3, E3, G3, C4, E4)" in out and "median note G3" in out
    z = _last_line_code(out)
    lo, hi = ae.latent_range
    assert len(z) == ae.latent and all(a <= v <= b for v, a, b in zip(z, lo, hi))
    assert parse_z(out.strip().splitlines()[-1], latent=ae.latent, lo=lo, hi=hi) == pytest.approx(z)  # ready for --z
    p = load_preset(preset, ae=ae)
    assert p.note == "G" and p.z == pytest.approx(z, abs=1e-5)

    # the note given is the pitch of every frame: a register-aware model hears C3 and C5 apart
    codes = {}
    for note in ("C3", "C5"):
        assert cli_main(["encode", str(tiny_model), str(recordings["cello"]), "--note", note]) == 0
        codes[note] = np.array(_last_line_code(capsys.readouterr().out))
    step = 1e-5  # ten times the printed resolution (6 significant digits of values below 1)
    assert np.abs(codes["C3"] - codes["C5"]).max() > step  # one pitch class: only the register differs
    assert np.abs(codes["C3"] - z).max() > step

    assert cli_main(["encode", str(tiny_model), str(recordings["cello"]), "-o", str(preset)]) == 2
    assert "exists; use --force" in capsys.readouterr().err


def test_encode_bad_input(tiny_model, tmp_path, capsys):
    import soundfile as sf

    noise = tmp_path / "noise.wav"
    sf.write(noise, (0.1 * np.random.default_rng(0).standard_normal(2 * SR)).astype(np.float32), SR)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really a wave file")
    for args, message in (([str(noise)], "noise.wav: no sustained note found"),
                          ([str(broken)], "broken.wav: cannot decode audio"),
                          ([str(tmp_path / "none.wav")], "none.wav: no such file"),
                          ([str(noise), "--note", "H9"], "--note 'H9' is not a note"),
                          ([str(noise), "-o", str(tmp_path / "p.txt")], "a preset is a .json file")):
        assert cli_main(["encode", str(tiny_model), *args]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err


def _sawtooth_error_by_fft(levels_real, pitch: float) -> float:
    """The sawtooth's error computed the slow, obvious way: a sawtooth frame, a Hann window, an FFT, a loop."""
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    t = np.arange(N_FFT) / SR
    y = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, int(SR / 2 / f0) + 1))
    X = np.abs(np.fft.rfft(y * (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT))))
    peaks = []
    for k in range(1, 17):
        if k * f0 >= 10000:
            break
        b = int(round(k * f0 * N_FFT / SR))
        peaks.append(max(X[b - 1], X[b], X[b + 1]))
    saw = [max(20 * np.log10(p / max(peaks)), -60.0) for p in peaks]
    return float(np.mean(np.abs(np.asarray(levels_real) - saw)))


def test_bench_fidelity_on_real_notes(tiny_model, recordings, tmp_path, capsys):
    out, png = tmp_path / "figures.json", tmp_path / "errors.png"
    assert cli_main(["bench", "fidelity", str(tiny_model), str(recordings["saw"]), str(recordings["cello"]),
                     "-o", str(out), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "median" in text and "harmonic error (dB): own" in text
    fig = json.loads(out.read_text())
    rows = fig["notes"]
    assert [(r["file"], r["midi"]) for r in rows] == [("saw.wav", m) for m in SAW] + [("cello.wav", m) for m in CELLO]
    for r in rows:
        assert r["keyboard_note"] == "G3"  # nearest the median MIDI: 57.5 for C3 G3 C4 G4 (a tie: the lower), 55
        for mode in ("own", "keyboard"):
            m = r[mode]
            for key in ("rendered_error_db", "decoded_error_db"):
                assert 0 <= m[key] <= 60, (r["name"], mode, key)
            assert -120 < m["noise_rendered_db"] < 0, (r["name"], mode)
            assert m["noise_difference_db"] == pytest.approx(m["noise_rendered_db"] - r["noise_real_db"])
            assert 0 <= m["stuck_share"] <= 1
        assert 0 <= r["sawtooth_error_db"] <= 60 and -120 < r["noise_floor_db"] < r["noise_real_db"] < 0
        # the figures of one note: the rendered note at its own code is the decoded one played, so a
        # note played from the keyboard code of itself gives the same figures
        if r["name"] == r["keyboard_note"]:
            assert r["keyboard"] == r["own"]
    saws = [r for r in rows if r["file"] == "saw.wav"]
    for r in saws:  # the bench's sawtooth (-20 log10 k) against a sawtooth put through the FFT here
        direct = _sawtooth_error_by_fft(r["levels"], r["pitch"])
        assert r["sawtooth_error_db"] == pytest.approx(direct, abs=1.5)  # Hann's worst scalloping: 1.42 dB
    assert np.median([r["sawtooth_error_db"] for r in saws]) < 3.0  # FluidR3's sawtooth lead is a sawtooth
    assert np.median([r["sawtooth_error_db"] for r in rows if r["file"] == "cello.wav"]) > 3.0  # a cello is not
    med = fig["medians"]
    assert med["own_rendered_error_db"] == pytest.approx(np.median([r["own"]["rendered_error_db"] for r in rows]))
    assert fig["worst"]["keyboard_stuck_share"] == max(r["keyboard"]["stuck_share"] for r in rows)
    assert png.stat().st_size > 10_000


def test_plot_fidelity_draws_each_series(tmp_path):
    from manne.inspect.figures import use_agg
    from manne.inspect.fidelity_plot import plot_fidelity

    use_agg()
    row = lambda f, m, e: {"file": f, "midi": m, "sawtooth_error_db": 5.0,  # noqa: E731
                           "own": {"rendered_error_db": e}, "keyboard": {"rendered_error_db": 2 * e}}
    lines = plot_fidelity([row("a.wav", 62, 2.0), row("a.wav", 60, 1.0), row("b.wav", 60, 3.0)])
    assert len(lines) == 6  # own, keyboard and sawtooth for each of two recordings
    np.testing.assert_array_equal(lines[0].get_xdata(), [60, 62])  # sorted by note
    np.testing.assert_array_equal(lines[0].get_ydata(), [1.0, 2.0])
    assert lines[0].axes.get_legend() is not None


def test_bench_fidelity_bad_input(tiny_model, recordings, tmp_path, capsys):
    import soundfile as sf

    noise = tmp_path / "noise.wav"
    sf.write(noise, (0.1 * np.random.default_rng(0).standard_normal(2 * SR)).astype(np.float32), SR)
    taken = tmp_path / "taken.json"
    taken.write_text("{}")
    for args, message in (([str(noise)], "no sustained note in 1 recording"),
                          ([str(tmp_path / "none.wav")], "none.wav: no such file"),
                          ([str(noise), "-o", str(taken)], "taken.json exists; use --force"),
                          ([str(noise), "--plot", str(tmp_path / "x.pdf")], "--plot")):
        assert cli_main(["bench", "fidelity", str(tiny_model), *args]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and err.splitlines()[-1].startswith("manne bench: error"), err
