"""``manne bench synth`` on the tiny model with tiny counts: every figure is there and sane.

The benchmark's targets are figures to read, not assertions: on a shared machine only what holds
anywhere is checked (positive times, the harmonic method's response within one 10 ms window,
nothing below 20 Hz, an audible first block).
"""

from __future__ import annotations

import json

import pytest

from manne.benchmarks.synth import DEFAULT_METHODS as METHODS
from manne.cli import main


@pytest.fixture(scope="module")
def figures(tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "synth.json"
    code = main(["bench", "synth", str(tiny_model), "--blocks", "200", "--seconds", "0.5", "--launches", "1",
                 "--offsets", "3", "--no-keras", "--json", str(out)])
    assert code == 0
    return json.loads(out.read_text())


def test_block_cost_covers_every_method_voice_count_and_slider_state(figures):
    got = {(r["method"], r["voices"], r["moving"]) for r in figures["block_cost"]}
    assert got == {(m, v, mv) for m in METHODS for v in (1, 8) for mv in (False, True)}
    for r in figures["block_cost"]:
        assert 0 < r["median_ms"] <= r["p99_ms"], r
        assert 0 < r["cpu_median_ms"] <= r["cpu_p99_ms"], r
        assert r["p99_load"] == pytest.approx(r["p99_ms"] / r["block_ms"])
        assert r["block_ms"] == pytest.approx(1e3 * 128 / 44100)
        assert r["blocks"] == 200
    parts = figures["decode_parts"]
    assert all(parts[k] > 0 for k in ("decode_ms", "f0_ms", "amplitudes_ms", "table_ms")), parts
    assert figures["blas_threads"] in ([1], [])  # [] where BLAS has no thread setting (Accelerate)


def test_render_speed_and_first_sound(figures):
    assert {(r["method"], r["voices"]) for r in figures["render"]} == {(m, v) for m in METHODS for v in (1, 8)}
    assert all(r["x_real_time"] > 1 and r["cpu_x_real_time"] > 0 for r in figures["render"]), figures["render"]
    f = figures["first_sound"]
    assert f["audible"] and f["peak"] > 1e-3, f
    assert 0 < f["median_s"] < 60
    assert set(f["parts_s"]) == {"python", "imports", "load", "synth", "first_block"}
    assert all(v > 0 for v in f["parts_s"].values()), f
    assert sum(f["parts_s"].values()) == pytest.approx(f["median_s"], rel=0.05)


def test_response_of_every_method_and_frame_length(figures):
    got = {(r["method"], r["n_fft"]): r for r in figures["response"]}
    assert set(got) == {("harmonic", 4096), ("coherent", 4096), ("coherent", 1024), ("noise", 4096), ("noise", 1024),
                        ("rtpghi", 4096), ("rtpghi", 1024)}
    for r in got.values():
        assert len(r["samples"]) == 3 and all(n is not None and n > 0 for n in r["samples"]), r
        assert r["median_samples"] <= r["worst_samples"]
        assert r["worst_ms"] == pytest.approx(1e3 * r["worst_samples"] / 44100)
    # a block's wait (< 128) and its crossfade (128): well inside 10 ms
    assert got["harmonic", 4096]["worst_samples"] < 441
    # an inverse STFT follows within about its window: a shorter window, a faster response (rtpghi's
    # is fitted on magnitudes, its phase differing from the references')
    for method in ("coherent", "noise", "rtpghi"):
        assert got[method, 1024]["worst_samples"] < got[method, 4096]["median_samples"] <= 4096 + 1024, method
    # a frame of 1024 responds sooner than one of 4096
    assert got["coherent", 1024]["median_samples"] < got["coherent", 4096]["median_samples"]
    assert figures["targets"]["harmonic_response_ms"]["ok"] is True


def test_tone_of_every_method(figures):
    tones = {t["method"]: t for t in figures["tone"]}
    assert set(tones) == set(METHODS)
    for t in tones.values():
        assert 0 <= t["envelope_dev"] and 0 <= t["below_20hz"] < 1e-3 and t["spectral_convergence"] > 0, t
    # the harmonic and coherent methods play the intended harmonics; the noise phase does not
    assert tones["harmonic"]["spectral_convergence"] < 0.1
    assert tones["harmonic"]["envelope_dev"] < 0.15
    assert tones["noise"]["spectral_convergence"] > tones["coherent"]["spectral_convergence"]


def test_keras_skipped_and_targets_reported(figures):
    assert figures["keras"] == {"skipped": True}
    assert set(figures["targets"]) == {"eight_voices_p99_load", "first_sound_s", "harmonic_response_ms"}


def test_prints_a_table_and_json(tiny_model, capsys):
    code = main(["bench", "synth", str(tiny_model), "--methods", "harmonic", "--blocks", "100", "--seconds", "0.2",
                 "--launches", "1", "--offsets", "1", "--no-keras", "--json"])
    assert code == 0
    out = capsys.readouterr().out
    for words in ("Block cost", "Offline render", "Launch to first sound", "Response to a slider jump",
                  "Tone of a held C4", "skipped (--no-keras)"):
        assert words in out
    fig = json.loads(out[out.index("\n{") :])
    assert [r["method"] for r in fig["response"]] == ["harmonic"]


@pytest.mark.parametrize("opts, words", [(["--blocks", "10"], "--blocks 10 must be at least 100"),
                                         (["--seconds", "0"], "--seconds 0"),
                                         (["--json", "{tmp}/missing/x.json"], "does not exist")])
def test_bad_options_are_one_line_errors(tiny_model, capsys, tmp_path, opts, words):
    opts = [o.format(tmp=tmp_path) for o in opts]  # a folder that surely does not exist (not /nonexistent: some systems have it)
    assert main(["bench", "synth", str(tiny_model), *opts]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
