"""The measurement tools (tools/, run through scripts/): onset detection on signals whose onset is known, the
latency analysis and report of a capture made here (``--from-raw``, through the script as a user runs it),
and the soak's MIDI traffic played into a real session."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest

from tools.keypress import SR
from tools.keypress.capture import chunk_lateness, load_raw, save_raw
from tools.keypress.onset import onset_change, onset_energy
from tools.keypress.report import analyze, report

ROOT = Path(__file__).resolve().parent.parent
PRESSES = (1.0, 2.0, 3.0)  # seconds into the capture
LATENCY = 0.025  # from the press to the sound
DELAY = 0.005  # parec's: every chunk arrives this long after its last sample


def tone(f: float, n: int, *, phase: float = 0.0) -> np.ndarray:
    return (0.3 * np.sin(phase + 2 * np.pi * f * np.arange(n) / SR)).astype(np.float32)


def capture(kind: str, t0: float = 1000.0) -> dict:
    """A capture as :func:`tools.keypress.main.run_trials` returns it: a note from silence (``energy``) or a
    drone whose pitch moves (``change``) ``LATENCY`` after each press, stamped in 256-sample chunks."""
    n = int(4.0 * SR)
    y = tone(220.0, n) if kind == "change" else np.zeros(n, dtype=np.float32)
    presses = []
    for i, at in enumerate(PRESSES):
        s, e = int((at + LATENCY) * SR), int((at + 0.3 + LATENCY) * SR)
        if kind == "energy":
            y[s:e] = tone(220.0, e - s)
        else:
            y[s:] = tone((330.0, 247.0, 370.0)[i], n - s)
        presses.append(("a", t0 + at - 0.003, t0 + at, t0 + at + 0.3 - 0.003, t0 + at + 0.3))
    ends = np.minimum(np.arange(256, n + 256, 256), n)  # each chunk's end
    t = np.empty(n)
    for end in ends:
        t[end - 256 : end] = t0 + DELAY + (end - 1) / SR - (end - 1 - np.arange(end - 256, end)) / SR
    meta = {"command": ["manne", "synth"], "buffer": "256", "keys": ["a"], "press": "xdotool", "hold_s": 0.3,
            "gap_s": 0.7, "parec_latency_msec": 5.0, "parec_chunk_interval_ms_median": 5.8, "window_after_s": 1.0,
            "display": ":99", "pulse_latencies": {}, "t_launch": t0}
    return {"y": y, "t": t, "presses": presses, "meta": meta}


def test_energy_onset_is_the_first_loud_millisecond():
    y = np.zeros(SR, dtype=np.float32)
    y[30000:] = tone(440.0, SR - 30000)
    k = onset_energy(y, start=20000, stop=SR)
    assert 30000 <= k <= 30000 + SR // 1000  # within the 1 ms RMS window
    assert onset_energy(y, start=0, stop=29000) is None  # silence until then
    assert onset_energy(np.zeros(SR, dtype=np.float32), start=20000, stop=SR) is None


def test_change_onset_is_where_the_spectrum_moves_half_way():
    y = tone(220.0, SR)
    y[30000:] = tone(330.0, SR - 30000)
    k, contrast = onset_change(y, start=25000, stop=40000, end=40000)
    assert abs(k - 30000) <= 128 and contrast > 3
    k, contrast = onset_change(tone(220.0, SR), start=25000, stop=40000, end=40000)  # nothing changes
    assert k is None


def test_chunk_lateness_sees_a_late_chunk_but_not_a_constant_delay():
    raw = capture("energy")
    assert chunk_lateness(raw["t"], sr=SR)["max_ms"] == pytest.approx(0.0, abs=1e-3)
    t = raw["t"].copy()
    t[256 * 100 : 256 * 101] += 0.010  # one chunk delivered 10 ms late
    late = chunk_lateness(t, sr=SR)
    assert late["max_ms"] == pytest.approx(10.0, abs=0.1) and late["median_ms"] == pytest.approx(0.0, abs=0.1)


@pytest.mark.parametrize("kind, slack", [("energy", 0.0015), ("change", 0.004)])
def test_the_analysis_finds_every_press_latency(kind, slack, capsys):
    args = Namespace(onset=kind, rise_db=20.0, floor_db=-60.0, fraction=0.5)
    res = analyze(capture(kind), args)
    assert res["trials_run"] == 3 and res["no_onset"] == 0
    for row in res["trials"]:
        assert LATENCY + DELAY - 0.001 <= row["latency_ms"] / 1e3 <= LATENCY + DELAY + slack, row
        assert row["latency_from_start_ms"] == pytest.approx(row["latency_ms"] + 3.0, abs=1e-6)
    report(res)
    out = capsys.readouterr().out
    assert "median:" in out and "trials: 3" in out


def test_keypress_latency_from_raw_runs_as_a_script(tmp_path):
    """``python scripts/keypress_latency.py --from-raw``: the thin entry point runs the tools package."""
    raw = tmp_path / "run.npz"
    save_raw(raw, capture("energy"))
    back = load_raw(raw)
    assert back["presses"] == capture("energy")["presses"] and np.array_equal(back["y"], capture("energy")["y"])
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "keypress_latency.py"), "--from-raw", str(raw),
                          "--json", str(tmp_path / "out.json")], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    figures = json.loads((tmp_path / "out.json").read_text())
    assert figures["summary"]["from_press_end"]["median_ms"] == pytest.approx(1e3 * (LATENCY + DELAY), abs=1.5)
    bad = subprocess.run([sys.executable, str(ROOT / "scripts" / "keypress_latency.py"), "--from-raw", "nothing.npz"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert bad.returncode == 2 and "--from-raw nothing.npz: no such file" in bad.stderr


def test_the_soaks_midi_traffic_plays_a_session(session):
    from manne.control.midi import handle_message
    from tools.soak.traffic import midi_traffic

    stop, sent = threading.Event(), [0]
    sender = threading.Thread(target=midi_traffic, args=(lambda m: handle_message(session, m), stop, 2000.0, sent))
    sender.start()
    stop.wait(0.3)
    stop.set()
    sender.join(timeout=10)
    c = session.counts
    assert sent[0] > 50 and c.midi + c.midi_ignored >= sent[0]  # every message counted (and the closing note-offs)
    assert session.state().held == frozenset()  # the sender lets go of every note it held


@pytest.mark.parametrize("script", ["keypress_latency.py", "control_soak.py", "render_corpora.py"])
def test_every_tool_script_answers_help(script):
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--help"], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0 and "usage:" in res.stdout, res.stderr
