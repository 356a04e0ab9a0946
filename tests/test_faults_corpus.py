"""Faults of ``manne corpus``: a full disk, a folder that cannot take the file, Ctrl-C during the save,
a killed run's leftovers, and the files a user's music folder really holds (hidden files, macOS
``._`` files, links to folders, a link loop, pipes and devices, a damaged MP3).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
import soundfile as sf

import manne.corpus
from manne.corpus import load_corpus
from manne.io.files import atomic_path

from conftest import SR, tone, write_tones
from faults import file_size_limited, one_line_error, run, stale_name, temporaries


@pytest.fixture
def takes(tmp_path):
    d = tmp_path / "takes"
    write_tones(d, [60, 62, 64, 65, 67, 69], seconds=0.6)
    return d


def corpus(capsys, *argv):
    return run(capsys, "corpus", *argv, "--val", "0.2", "--test", "0.2", "-q")


# ---- writing -------------------------------------------------------------------------------------

def test_full_disk_names_the_corpus_and_leaves_nothing(takes, tmp_path, capsys):
    out = tmp_path / "c.npz"
    with file_size_limited(100_000):
        code, _, err = corpus(capsys, takes, "-o", out)
    line = one_line_error(code, err, f"manne corpus: error: {out}: File too large")
    assert code == 1 and ".part" not in line
    assert not out.exists() and temporaries(tmp_path) == []


def test_full_disk_over_an_existing_corpus_keeps_it(takes, tmp_path, capsys):
    out = tmp_path / "c.npz"
    code, _, err = corpus(capsys, takes, "-o", out)
    assert code == 0, err
    before = out.read_bytes()
    with file_size_limited(100_000):
        code, _, err = corpus(capsys, takes, "-o", out, "--force")
    one_line_error(code, err, f"{out}: File too large")
    assert out.read_bytes() == before and temporaries(tmp_path) == []


def test_a_folder_that_cannot_take_the_file_fails_before_the_analysis(takes, tmp_path, capsys, monkeypatch):
    def analysis_must_not_run(*args, **kwargs):
        raise AssertionError("the analysis ran before the output folder was checked")

    monkeypatch.setattr(manne.corpus, "build", analysis_must_not_run)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = corpus(capsys, takes, "-o", blocker / "c.npz")
    one_line_error(code, err, f"manne corpus: error: {blocker}: not a folder")


def test_silence_db_must_be_a_number(takes, tmp_path, capsys):
    code, _, err = corpus(capsys, takes, "-o", tmp_path / "c.npz", "--silence-db", "nan")
    one_line_error(code, err, "--silence-db nan must be a positive number")


def test_a_killed_runs_temporary_corpus_is_removed_by_the_next_run(takes, tmp_path, capsys):
    out = tmp_path / "c.npz"
    stale = stale_name(out)
    stale.write_bytes(b"\0" * 100_000)  # what a SIGKILL during the save leaves (636 MB for a real corpus)
    mine = tmp_path / ".c.npz.notes.part"
    mine.write_text("a user's file that only looks like ours")
    code, _, err = corpus(capsys, takes, "-o", out)
    assert code == 0, err
    assert not stale.exists() and mine.exists()


def test_ctrl_c_during_a_write_completes_it_then_discards_it(tmp_path):
    """Ctrl-C is held while the file is written (a zip interrupted mid-write failed in its own clean-up
    with 'seek of closed file'), then raised: no file, no temporary."""
    out = tmp_path / "c.npz"
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(out) as tmp:
            with open(tmp, "wb") as fh:
                os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C in the middle of the save
                np.savez(fh, S=np.zeros((100, 100), np.float32))
            written = tmp.stat().st_size
    assert written > 40_000  # the write was not cut short
    assert not out.exists() and temporaries(tmp_path) == []


_PRESS_IN_THE_SAVE = """
import signal, sys
import numpy as np
from manne.cli import main
savez = np.savez
def pressed(*args, **kwargs):
    signal.raise_signal(signal.SIGINT)  # the user presses Ctrl-C as the corpus is being written
    return savez(*args, **kwargs)
np.savez = pressed
sys.exit(main(sys.argv[1:]))
"""


def test_sigint_during_the_save_is_one_line_and_leaves_nothing(tone_dir, tmp_path):
    """A real SIGINT in a real run, always inside the save (sent from the save itself, so where it
    lands does not depend on timing): the write finishes, then the command stops."""
    out = tmp_path / "c.npz"
    res = subprocess.run([sys.executable, "-c", _PRESS_IN_THE_SAVE, "corpus", str(tone_dir), "-o", str(out), "-q"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 130 and res.stderr.strip() == "manne corpus: interrupted", res.stderr
    assert not out.exists() and temporaries(tmp_path) == []


# ---- what a music folder holds ---------------------------------------------------------------------

def test_hidden_and_macos_resource_files_are_skipped(takes, tmp_path, capsys):
    (takes / "._tone_00_60.wav").write_bytes(b"\x00\x05\x16\x07 AppleDouble resource fork")
    (takes / ".hidden.wav").write_bytes(b"not audio")
    (takes / ".Trash").mkdir()
    (takes / ".Trash" / "deleted.wav").write_bytes(b"not audio either")
    out = tmp_path / "c.npz"
    code, _, err = corpus(capsys, takes, "-o", out)
    assert code == 0, err
    assert sorted(os.path.basename(s) for s in load_corpus(out).sources) == sorted(p.name for p in takes.glob("tone_*.wav"))


def test_linked_folders_are_followed_once_and_a_loop_ends(tmp_path, capsys):
    music = tmp_path / "music"
    write_tones(music / "own", [60, 62, 64], seconds=0.6)
    write_tones(tmp_path / "elsewhere", [65, 67, 69], seconds=0.6)
    (music / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (music / "own" / "up").symlink_to(music, target_is_directory=True)  # a loop
    (music / "again").symlink_to(music / "own", target_is_directory=True)  # the same folder twice
    (music / "gone.wav").symlink_to(tmp_path / "deleted.wav")  # a broken link: not a file, skipped
    out = tmp_path / "c.npz"
    code, _, err = corpus(capsys, music, "-o", out, "--split", "segment")
    assert code == 0, err
    names = sorted(os.path.basename(s) for s in load_corpus(out).sources)
    assert names == sorted(p.name for p in [*(music / "own").glob("*.wav"), *(tmp_path / "elsewhere").glob("*.wav")])


def _no_wait(capsys, *argv):
    """``manne corpus ARGV`` in a thread; fail if it waits (on a pipe) instead of answering."""
    result = {}
    worker = threading.Thread(target=lambda: result.update(r=corpus(capsys, *argv)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    return result.get("r")


def test_a_named_pipe_is_refused_without_waiting(takes, tmp_path, capsys):
    fifo = takes / "live.wav"
    os.mkfifo(fifo)
    for inputs in ([takes], [fifo]):
        res = _no_wait(capsys, *inputs, "-o", tmp_path / "c.npz")
        if res is None:
            with open(fifo, "wb"):  # release the reader
                pass
            pytest.fail(f"manne corpus {inputs} waited on a named pipe")
        one_line_error(res[0], res[2], f"{fifo}: a named pipe, not an audio file")


def test_a_device_is_refused(tmp_path, capsys):
    code, _, err = corpus(capsys, "/dev/null", "-o", tmp_path / "c.npz")
    one_line_error(code, err, "/dev/null: a device, not an audio file")


def test_a_damaged_mp3_that_decodes_short_is_reported(takes, tmp_path, capsys):
    whole = tmp_path / "whole.mp3"
    sf.write(whole, tone(60, 2.0), SR, format="MP3")
    data = whole.read_bytes()
    (takes / "cut.mp3").write_bytes(data[: len(data) // 3])  # its header still announces 2 s
    out = tmp_path / "c.npz"
    code, _, err = corpus(capsys, takes, "-o", out)
    assert code == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # the decoder's own complaints are not shown
    assert f"manne corpus: warning: {takes / 'cut.mp3'}: decoded 0." in lines[0]
    assert "of the 2.00 s its header announces (the file is damaged)" in lines[0]
    assert any(s.endswith("cut.mp3") for s in load_corpus(out).sources)


# ---- what already held: every format, depth, layout and rate; damaged FLAC and OGG -------------------

FORMATS = [("wav", "PCM_U8"), ("wav", "PCM_16"), ("wav", "PCM_24"), ("wav", "PCM_32"), ("wav", "FLOAT"), ("wav", "DOUBLE"),
           ("flac", "PCM_16"), ("flac", "PCM_24"), ("ogg", "VORBIS"), ("mp3", "MPEG_LAYER_III"), ("aiff", "PCM_16")]


@pytest.mark.parametrize("ext, subtype, channels, rate", [
    (ext, subtype, channels, rate) for ext, subtype in FORMATS for channels, rate in ((1, 8000), (2, 44100), (6, 96000))
    if not (ext == "mp3" and rate > 48000)])  # (MP3 has no 96 kHz)
def test_every_format_depth_layout_and_rate_reads(ext, subtype, channels, rate, tmp_path):
    from manne.io.audio import load

    y = tone(69, 0.5, sr=rate)
    path = tmp_path / f"a.{ext}"
    sf.write(path, np.stack([y] * channels, axis=1), rate, subtype=subtype)
    warnings = []
    out = load(path, sr=SR, warn=warnings.append)
    assert abs(len(out) - SR // 2) < 0.06 * SR and np.isfinite(out).all() and warnings == []
    assert 0.4 < np.abs(out).max() < 0.6


@pytest.mark.parametrize("ext", ["flac", "ogg", "wav"])
@pytest.mark.parametrize("damage, words", [
    ("empty", "file holds no samples"),
    ("short", "shorter than one frame"),
    ("truncated", "cannot decode audio"),
    ("garbage", "cannot decode audio"),
])
def test_damaged_flac_ogg_and_wav_are_one_line(ext, damage, words, takes, tmp_path, capsys):
    bad = takes / f"bad.{ext}"
    if damage == "empty":
        sf.write(bad, np.zeros(0, np.float32), SR)
    elif damage == "short":
        sf.write(bad, tone(60, 0.05), SR)
    else:
        sf.write(bad, tone(60, 0.6), SR)
        data = bad.read_bytes()
        bad.write_bytes(data[:30] if damage == "truncated" else data[:12] + bytes(range(256)) * 8)
    if ext == "flac" and damage == "empty":  # libsndfile cannot open a FLAC without frames at all
        words = "cannot decode audio"
    out = tmp_path / "c.npz"
    code, _, err = corpus(capsys, takes, "-o", out)
    one_line_error(code, err, f"{bad}", words)
    assert not out.exists()


def test_nan_samples_in_a_float_wav_are_one_line(takes, tmp_path, capsys):
    y = tone(60, 0.6)
    y[100] = np.nan
    sf.write(takes / "nan.wav", y, SR, subtype="FLOAT")
    code, _, err = corpus(capsys, takes, "-o", tmp_path / "c.npz")
    one_line_error(code, err, "nan.wav: 1 samples are NaN or Inf")
