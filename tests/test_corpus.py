"""Corpus building: frames, labels, the split by clip, saving and validated loading."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest
import soundfile as sf

from manne.corpus import SPLIT_MODES, build, load_corpus, save
from manne.corpus.analysis import Analysis
from manne.errors import AudioFileError, CorpusError, OutputExistsError

from conftest import SR, tone, write_tones


def test_frames_are_normalised_and_labelled(tiny_corpus):
    c = load_corpus(tiny_corpus)
    assert c.S.shape[1] == 2049 and c.S.dtype == np.float32
    np.testing.assert_allclose(c.S.max(axis=1), 1.0, rtol=1e-6)
    assert (c.gain > 0).all()
    # C major tones: every label is a white key
    assert set(np.unique(c.note)) <= {0, 2, 4, 5, 7, 9, 11}
    assert c.notes_present("train")
    assert len(c.sources) == 15 and c.hash


def test_labels_follow_each_file_pitch(tone_dir):
    c = build([tone_dir], val=0.15, test=0.15, progress=False)
    for i, src in enumerate(c.sources):
        midi = int(src.rsplit("_", 1)[1].split(".")[0])
        frames = c.note[c.clip_source[c.clip] == i]
        assert (frames == midi % 12).mean() > 0.9, src


def test_split_never_shares_a_clip(tiny_corpus):
    c = load_corpus(tiny_corpus)
    for clip in np.unique(c.clip):
        assert len(np.unique(c.split[c.clip == clip])) == 1
    sets = [set(c.clip_source[np.unique(c.clip[c.split == s])]) for s in range(3)]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert all(sets)


def test_few_files_split_by_contiguous_segments(tmp_path):
    write_tones(tmp_path, [60, 64], seconds=3.0)
    c = build([tmp_path], val=0.2, test=0.2, progress=False)
    assert c.meta["split_mode"] == "segment"
    for s in range(3):
        assert (c.split == s).any()
    for src in range(2):
        rows = np.flatnonzero(c.clip_source[c.clip] == src)
        # within a file, train frames come first, then validation, then test, each one contiguous clip
        assert (np.diff(c.split[rows]) >= 0).all()
        assert (np.diff(c.frame[rows]) > 0).all()
    assert len(np.unique(c.clip)) == 6


def test_folders_decide_the_split(tmp_path):
    for name, pitch in (("train", 60), ("val", 62), ("test", 64)):
        write_tones(tmp_path / name, [pitch])
    c = build([tmp_path], progress=False)
    assert c.meta["split_mode"] == "folders"
    for s, pitch in enumerate((60, 62, 64)):
        assert (c.note[c.split == s] == pitch % 12).mean() > 0.9


def test_any_rate_stereo_flac_and_ogg(tmp_path):
    y = tone(69, 1.0, sr=22050)
    sf.write(tmp_path / "a.flac", np.stack([y, y], axis=1), 22050)
    sf.write(tmp_path / "b.ogg", tone(69, 1.0, sr=48000), 48000)
    sf.write(tmp_path / "c.wav", tone(69, 1.0), SR)
    c = build([tmp_path], val=0, test=0, split_mode="segment", progress=False)
    assert len(c.sources) == 3
    assert (c.note == 9).mean() > 0.9


def test_silent_frames_are_dropped(tmp_path):
    y = np.concatenate([tone(60, 1.0), np.zeros(SR, dtype=np.float32)])
    sf.write(tmp_path / "a.wav", y, SR)
    c = build([tmp_path / "a.wav"], val=0, test=0, split_mode="segment", progress=False)
    n_total = 1 + len(y) // 1024
    assert c.meta["dropped"] > 30 and c.n_frames == n_total - c.meta["dropped"]
    assert c.frame.max() < 48


def test_save_load_round_trip(tiny_corpus, tmp_path):
    c = load_corpus(tiny_corpus)
    out = save(c, tmp_path / "copy.npz")
    d = load_corpus(out)
    np.testing.assert_array_equal(c.S, d.S)
    assert d.hash == c.hash and d.sources == c.sources and d.analysis == c.analysis
    with pytest.raises(OutputExistsError, match="--force"):
        save(c, tmp_path / "copy.npz")


def _rewrite(src, dst, **changes):
    with np.load(src) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    for k in [k for k, v in changes.items() if v is None]:
        del arrays[k]
    np.savez(dst, **arrays)
    return dst


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: {"note": np.full_like(a["note"], 12)}, "note labels"),
        (lambda a: {"S": a["S"][:, :100]}, "shape"),
        (lambda a: {"split": np.where(np.arange(len(a["split"])) % 2, 0, 2).astype(np.int8)}, "two splits"),
        (lambda a: {"S": np.where(a["S"] > 0.5, np.nan, a["S"])}, "NaN"),
        (lambda a: {"meta": np.asarray(json.dumps({**json.loads(str(a["meta"])), "format_version": 99}))}, "version 99"),
        (lambda a: {"gain": None}, "missing gain"),
    ],
)
def test_load_rejects_a_broken_corpus(tiny_corpus, tmp_path, change, message):
    with np.load(tiny_corpus) as z:
        arrays = {k: z[k] for k in z.files}
    bad = _rewrite(tiny_corpus, tmp_path / "bad.npz", **change(arrays))
    with pytest.raises(CorpusError, match=message):
        load_corpus(bad)


def test_load_rejects_a_non_corpus(tmp_path):
    (tmp_path / "x.npz").write_bytes(b"not a zip")
    with pytest.raises(CorpusError, match="cannot read"):
        load_corpus(tmp_path / "x.npz")
    with pytest.raises(CorpusError, match="no such corpus"):
        load_corpus(tmp_path / "missing.npz")


def test_bad_files(tmp_path):
    good = write_tones(tmp_path / "in", [60, 62, 64, 65, 67])
    (tmp_path / "in" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(AudioFileError, match="broken.wav"):
        build([tmp_path / "in"], progress=False)
    warnings = []
    c = build([tmp_path / "in"], skip_bad=True, progress=False, warn=warnings.append)
    assert len(c.sources) == len(good) and "broken.wav" in warnings[0]


def test_too_small_to_split(tmp_path):
    sf.write(tmp_path / "short.wav", tone(60, 4100 / SR), SR)  # one file, five frames
    with pytest.raises(CorpusError, match="too small to split"):
        build([tmp_path], val=0.1, test=0.1, progress=False)


def test_folders_above_the_input_do_not_decide_the_split(tmp_path):
    """Recordings kept under ~/test/... are not all test data: only folders below the input count."""
    root = tmp_path / "test" / "cello"
    write_tones(root, [60, 62, 64, 65, 67, 69, 71, 72, 74, 76])
    c = build([root], val=0.1, test=0.1, progress=False)
    assert c.meta["split_mode"] == "file"
    nested = tmp_path / "takes"
    for name, pitch in (("train", 60), ("val", 62), ("test", 64)):
        write_tones(nested / "train-room" / name, [pitch])  # the deepest named folder wins
    c = build([nested], progress=False)
    assert c.meta["split_mode"] == "folders"
    assert sorted(np.unique(c.split).tolist()) == [0, 1, 2]


# -- damaged files ---------------------------------------------------------------------------------


def _flip_in(member: bytes, offset: int):
    def damage(raw: bytes) -> bytes:
        b = bytearray(raw)
        i = raw.index(member) + offset
        b[i : i + 8] = bytes(x ^ 0xFF for x in b[i : i + 8])
        return bytes(b)
    return damage


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda raw: raw[: len(raw) // 2], "not an .npz"),
        (lambda raw: b"", "not an .npz"),
        (_flip_in(b"\x93NUMPY", 400), "BadZipFile: Bad CRC-32"),  # frame data of S
        (lambda raw: raw.replace(b"{'descr'", b"\x00\x00\x00\x00\x00\x00\x00\x00", 1), "damaged"),  # .npy header
    ],
    ids=["truncated", "empty", "data", "npy-header"],
)
def test_load_names_the_damaged_file(tiny_corpus, tmp_path, damage, message):
    bad = tmp_path / "damaged.npz"
    bad.write_bytes(damage(tiny_corpus.read_bytes()))
    with pytest.raises(CorpusError, match=message) as info:
        load_corpus(bad)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "meta, message",
    [
        (np.asarray("{not json"), "meta is not valid JSON"),
        (np.asarray("[1, 2]"), "meta is a JSON list"),
        (np.asarray(["{}"]), "meta has shape"),
        (np.asarray(b"\xff\xfe{}"), "meta has dtype"),
        (lambda m: {**m, "analysis": {**m["analysis"], "n_fft": "4096"}}, "analysis n_fft='4096'"),
        (lambda m: {**m, "analysis": {**m["analysis"], "sr": -1}}, "analysis sr=-1"),
        (lambda m: {k: v for k, v in m.items() if k != "analysis"}, "no analysis"),
    ],
)
def test_load_rejects_damaged_meta(tiny_corpus, tmp_path, meta, message):
    with np.load(tiny_corpus) as z:
        old = json.loads(str(z["meta"]))
    if callable(meta):
        meta = np.asarray(json.dumps(meta(old)))
    bad = _rewrite(tiny_corpus, tmp_path / "bad.npz", meta=meta)
    with pytest.raises(CorpusError, match=message):
        load_corpus(bad)


# -- corpora of format version 1 -------------------------------------------------------------------


def _as_version_1(path, version=1):
    """The corpus at ``path`` stamped as an older format version (1: before librosa; 2: chroma labels, no pitch)."""
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
    return _rewrite(path, path, meta=np.asarray(json.dumps({**meta, "format_version": version})))


@pytest.mark.parametrize("version", [1, 2])
def test_version_1_is_refused_with_the_command_that_rebuilds_it(tmp_path, monkeypatch, capsys, version):
    from manne.cli import main

    write_tones(tmp_path / "takes", [60, 62, 64, 65, 67, 69, 71, 72, 74, 76])
    monkeypatch.chdir(tmp_path)
    new = build(["takes"], val=0.2, test=0.2, seed=3, analysis=Analysis(silence_db=40.0), progress=False)
    old = _as_version_1(save(new, "old.npz"), version)
    with pytest.raises(CorpusError, match=f"format version {version}") as info:
        load_corpus(old)
    message = str(info.value)
    assert "\n" not in message
    command = message.split("Rebuild it: ", 1)[1]
    assert command == "manne corpus takes --split file --val 0.2 --test 0.2 --seed 3 --silence-db 40.0 -o old.npz --force"
    assert main(shlex.split(command)[1:] + ["-q"]) == 0
    rebuilt = load_corpus(old)
    assert rebuilt.sources == new.sources and rebuilt.hash == new.hash
    np.testing.assert_array_equal(rebuilt.split, new.split)


def test_version_1_rebuild_lists_the_files_when_their_folder_holds_others(tmp_path):
    files = write_tones(tmp_path / "takes", [60, 62, 64, 65, 67])
    (tmp_path / "takes" / "a b.wav").write_bytes((tmp_path / "takes" / files[0].name).read_bytes())
    c = build(files[::-1], val=0, test=0, split_mode="segment", progress=False)
    old = _as_version_1(save(c, tmp_path / "old.npz"))
    with pytest.raises(CorpusError, match="Rebuild it") as info:
        load_corpus(old)
    command = shlex.split(str(info.value).split("Rebuild it: ", 1)[1])
    assert command[2:7] == [str(f) for f in files[::-1]] and command[7:9] == ["--split", "segment"]


def test_split_modes_are_the_cli_choices():
    import argparse

    from manne.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    split = next(a for a in sub.choices["corpus"]._actions if a.dest == "split")
    assert split.choices is SPLIT_MODES
