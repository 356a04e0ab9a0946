"""Options and inputs at and past their limits: one line naming the value and the rule (no traceback,
no empty output folder), numbers the user typed, a performance's fault not blamed on the model, and
OSC's malformed datagrams counted, never printed.
"""

from __future__ import annotations

import socket
import struct
import time

import numpy as np
import pytest
import soundfile as sf

from faults import one_line_error, run


# ---- tracebacks that were: --dpi, --seed -----------------------------------------------------------

@pytest.mark.parametrize("command", ["map", "plot"])
@pytest.mark.parametrize("dpi", ["0", "-5", "100000"])
def test_a_dpi_out_of_range_is_one_line_and_makes_no_folder(command, dpi, tiny_model, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(capsys, command, tiny_model, "-o", out, f"--dpi={dpi}")
    one_line_error(code, err, f"manne {command}: error: --dpi {dpi} must be from 20 to 600")
    assert code == 2 and not out.exists()


def test_render_refuses_a_negative_seed(tiny_model, tmp_path, capsys):
    code, _, err = run(capsys, "render", tiny_model, "-o", tmp_path / "r.wav", "--seed=-1")
    one_line_error(code, err, "--seed -1 must be from 0 to 4294967295")
    assert not (tmp_path / "r.wav").exists()


@pytest.mark.parametrize("hop", [33, 48, 100])
def test_render_hop_that_does_not_divide_the_frame_names_what_was_typed(hop, tiny_model, tmp_path, capsys):
    code, _, err = run(capsys, "render", tiny_model, "-o", tmp_path / "r.wav", "--hop", hop)
    one_line_error(code, err, f"--hop {hop} must divide the model's n_fft=4096: 32, 64, 128, 256, 512, 1024")
    assert "hop_length" not in err


# ---- bad input that exited 0 ---------------------------------------------------------------------

@pytest.mark.parametrize("sr", [1, 4000])
@pytest.mark.parametrize("command", ["transfer", "morph"])
def test_audio_below_8_khz_is_refused(command, sr, tiny_model, tone_dir, tmp_path, capsys):
    low = tmp_path / "low.wav"
    sf.write(low, np.linspace(-0.5, 0.5, max(sr, 64), dtype=np.float32), sr)
    args = [low] if command == "transfer" else [low, tone_dir / "tone_00_48.wav"]
    code, _, err = run(capsys, command, tiny_model, *args, "-o", tmp_path / "o.wav")
    one_line_error(code, err, f"{low}: sample rate {sr} Hz; manne reads audio at 8000 Hz or more")
    assert not (tmp_path / "o.wav").exists()


@pytest.mark.parametrize("smooth", ["1e308", "1001", "-1", "nan"])
def test_follow_smooth_out_of_range(smooth, tiny_model, tmp_path, capsys):
    (tmp_path / "t.csv").write_text("time,centroid\n0,700\n1,1100\n")
    code, _, err = run(capsys, "follow", tiny_model, "--target", tmp_path / "t.csv", "-o", tmp_path / "f.wav",
                       "--smooth", smooth)
    one_line_error(code, err, f"--smooth {float(smooth):g} must be from 0 to 1000")
    assert "RuntimeWarning" not in err


# ---- clearer messages -----------------------------------------------------------------------------

def test_a_huge_follow_target_is_named_briefly(tiny_model, tmp_path, capsys):
    (tmp_path / "t.csv").write_text("time,centroid\n0,700\n1,1e300\n")
    code, _, err = run(capsys, "follow", tiny_model, "--target", tmp_path / "t.csv", "-o", tmp_path / "f.wav")
    line = one_line_error(code, err, "centroid 1e+300 Hz (point 2) is out of range", "at most 24000 Hz")
    assert len(line) < 300


@pytest.mark.parametrize("option", ["--offset", "--gain"])
def test_transfer_takes_a_list_that_starts_negative(option, tiny_model, tone_dir, tmp_path, capsys):
    code, out, err = run(capsys, "transfer", tiny_model, tone_dir / "tone_00_48.wav", "-o", tmp_path / "t.wav",
                         option, "-0.3,0")
    assert code == 0, err
    assert ("offsets -0.3,0" if option == "--offset" else "gains -0.3,0") in out


def test_render_z_that_starts_negative_is_checked_against_the_range(tiny_model, tmp_path, capsys):
    code, _, err = run(capsys, "render", tiny_model, "-o", tmp_path / "r.wav", "--z", "-0.3,0.5")
    one_line_error(code, err, "--z -0.3,0.5: z1=-0.3 is outside the model's latent range")
    assert "expected one argument" not in err


@pytest.mark.parametrize("velocity", ["nan", "inf", "1e400", "0.5"])
def test_an_automation_velocity_that_is_no_velocity(velocity, tiny_model, tmp_path, capsys):
    (tmp_path / "a.csv").write_text(f"0,on,60,{velocity}\n1,off,60\n")
    code, _, err = run(capsys, "render", tiny_model, "-o", tmp_path / "r.wav", "--automation", tmp_path / "a.csv")
    one_line_error(code, err, f"velocity {velocity} must be from 1 to 127")


def test_a_note_on_every_millisecond_is_not_blamed_on_the_model(tmp_path, capsys):
    """Low notes restarted every 1 ms play the first millisecond of their waveform over and over: a DC
    offset. The bundled model plays each of them well alone, so the performance is named, not the model."""
    from manne.io.settings import default_model_dir

    rows = [f"{i / 1000:.3f},on,{21 + i % 8},127" for i in range(3000)]
    (tmp_path / "flood.csv").write_text("\n".join(rows) + "\n")
    code, _, err = run(capsys, "render", default_model_dir(), "-o", tmp_path / "r.wav", "--volume", "1",
                       "--automation", tmp_path / "flood.csv")
    one_line_error(code, err, f"--automation {tmp_path / 'flood.csv'}: the output sits at a constant offset",
                   "plays its first note alone well: 3000 note-ons, the closest 1.0 ms apart")
    assert "damaged" not in err and not (tmp_path / "r.wav").exists()


# ---- OSC: what python-osc cannot parse is counted, never printed ----------------------------------

def test_osc_empty_and_unidentified_datagrams_are_counted_not_printed(session, capfd):
    from manne.control.osc import OscIn

    junk_bundle = b"#bundle\0" + b"\0" * 7 + b"\1" + struct.pack(">i", 4) + b"abcd"  # one element, not OSC
    with OscIn(session, port=0) as osc:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for data in (b"", junk_bundle):
            sock.sendto(data, (osc.host, osc.port))
        deadline = time.monotonic() + 5
        while session.counts.osc_malformed < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        sock.close()
    assert session.counts.osc_malformed == 2 and session.counts.osc == 0
    assert "Could not identify content type" in session.counts.last_problem
    assert capfd.readouterr().err == ""
