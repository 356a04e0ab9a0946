"""Descriptor-driven synthesis (issue 9): ``manne follow`` tracks a brightness ramp, on a tiny model
of tones of known brightness and on the bundled model; bad targets get one line."""

from __future__ import annotations

import re

import numpy as np
import pytest

from manne.cli import main


def errors(text: str) -> tuple[float, float]:
    m = re.search(r"median ([\d.]+)%, 90th percentile ([\d.]+)%", text)
    return float(m.group(1)) / 100, float(m.group(2)) / 100


def reach(text: str) -> tuple[float, float]:
    m = re.search(r"reachable \((\d+)-(\d+) Hz\)", text)
    return float(m.group(1)), float(m.group(2))


def test_viterbi_finds_the_cheapest_path_of_all():
    import itertools

    from manne.timbre.follow import viterbi

    rng = np.random.default_rng(3)
    cost, z, span = rng.random((5, 6)), rng.random((6, 3)), np.array([1.0, 2.0, 0.5])
    step = np.sqrt((((z[:, None] - z[None]) / span) ** 2).mean(axis=2))

    def total(path):
        return sum(cost[t, k] for t, k in enumerate(path)) + 0.7 * sum(step[a, b] for a, b in zip(path, path[1:]))

    best = min(itertools.product(range(6), repeat=5), key=total)  # every one of the 6^5 paths
    assert total(viterbi(cost, z, smooth=0.7, span=span)) == pytest.approx(total(best), rel=1e-6)


def test_follow_tracks_a_ramp_on_a_tiny_model(bright_model, tmp_path, capsys):
    from manne.model.forward import Autoencoder
    from manne.synth.instrument import Synth
    from manne.timbre.follow import follow, measure_centroid, played_centroid, read_target, render_path
    from manne.timbre.plane import plane_of_model_dir

    ae = Autoencoder.load(bright_model)
    z = np.random.default_rng(0).uniform(*ae.latent_range, size=(400, 2))
    c, _ = played_centroid(ae, z, 60)
    lo, hi = np.percentile(c, 10), np.percentile(c, 90)  # well inside what the model plays
    assert hi > 1.5 * lo  # a real ramp: the dark and bright tones differ
    target = tmp_path / "ramp.csv"
    target.write_text(f"time,centroid\n0,{lo:.1f}\n3,{hi:.1f}\n")
    # the path: its codes' played centroid (the decoded spectra's harmonics at C4) follows the ramp ...
    got = follow(ae, read_target(target), plane_of_model_dir(ae, bright_model), note=60)
    assert got.inside.all() and got.target[0] == pytest.approx(lo, rel=1e-3)
    assert np.median(np.abs(got.centroid / got.target - 1)) <= 0.10
    again, _ = played_centroid(ae, got.z, 60)  # recomputed from the chosen codes alone
    assert np.allclose(again, got.centroid)
    # ... and so does the centroid measured on what the instrument plays along it
    y = render_path(Synth(ae), got.times, got.z, note=60)
    measured = measure_centroid(y, got.times, sr=44100, n_fft=ae.analysis.n_fft)
    late = got.times >= 0.1
    assert np.median(np.abs(measured[late] / got.target[late] - 1)) <= 0.10
    assert np.corrcoef(measured[late], got.target[late])[0, 1] > 0.9
    # the command does the same and says so
    out = tmp_path / "f.wav"
    assert main(["follow", str(bright_model), "--target", str(target), "-o", str(out), "--note", "C4"]) == 0
    text = capsys.readouterr().out
    med, p90 = errors(text)
    assert med <= 0.10, text
    import soundfile as sf

    y, sr = sf.read(out)
    assert abs(len(y) / sr - 3.2) < 0.05


def test_follow_on_the_bundled_model_tracks_a_ramp_and_a_flatness_column(tmp_path, capsys):
    from manne.io.settings import default_model_dir

    target = tmp_path / "ramp.csv"
    target.write_text("time,centroid,flatness\n0,600,0.001\n2,1200,0.001\n4,700,0.001\n")
    assert main(["follow", str(default_model_dir()), "--target", str(target), "-o", str(tmp_path / "f.wav")]) == 0
    med, p90 = errors(capsys.readouterr().out)
    assert med <= 0.05 and p90 <= 0.15


def test_a_target_partly_outside_is_clipped_with_a_warning_and_wholly_outside_refused(bright_model, tmp_path, capsys):
    target = tmp_path / "t.csv"
    target.write_text("time,centroid\n0,800\n1,20000\n")
    assert main(["follow", str(bright_model), "--target", str(target), "-o", str(tmp_path / "a.wav")]) == 0
    err = capsys.readouterr().err
    assert "manne follow: warning:" in err and "lies outside what the model plays for C4" in err
    target.write_text("time,centroid\n0,800\n0.05,15000\n1,20000\n")  # reachable only in the attack: no error figure
    assert main(["follow", str(bright_model), "--target", str(target), "-o", str(tmp_path / "c.wav")]) == 0
    assert "no tracking error to report" in capsys.readouterr().out
    target.write_text("time,centroid\n0,19000\n1,20000\n")
    assert main(["follow", str(bright_model), "--target", str(target), "-o", str(tmp_path / "b.wav")]) == 2
    err = capsys.readouterr().err
    assert "the target (19000-20000 Hz) lies outside what the model plays for C4" in err and err.count("\n") == 1


@pytest.mark.parametrize("content, message", [
    ("time,brightness\n0,1\n1,2\n", "has no 'centroid' column"),
    ("time,centroid\n0,500\n", "at least 2 rows"),
    ("time,centroid\n0,500\n1,loud\n", "row 3: centroid 'loud' is not a number"),
    ("time,centroid\n0,500\n0,600\n", "increase row by row"),
    ("time,centroid\n0,500\n1,-3\n", "above 0 Hz"),
    ("time,centroid\n0,500\n1e9,600\n", "ends at 1e+09 s; at most 3600 s"),
    ("time,centroid,flatness\n0,500,2\n1,600,0\n", "flatness values must be between 0 and 1"),
    ("time,centroid\n", "at least 2 rows, it has 0"),
    ("", "empty"),
    (b"\x00\xff\xfe binary", "not CSV text"),
])
def test_bad_targets_are_one_line(bright_model, tmp_path, capsys, content, message):
    target = tmp_path / "t.csv"
    (target.write_bytes if isinstance(content, bytes) else target.write_text)(content)
    assert main(["follow", str(bright_model), "--target", str(target), "-o", str(tmp_path / "x.wav")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "x.wav").exists()
