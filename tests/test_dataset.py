"""The training pipeline and the corpus at any size: tf.data batches against a slow obvious version
of the model's inputs, the corpus file's frames memory-mapped, and the parallel, streaming build
against the serial, in-memory one."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from manne.corpus import build, load_corpus
from manne.model.config import ModelConfig
from manne.model.dataset import model_inputs, training_data

TINY = dict(max_width=64)


def slow_inputs(corpus, cfg: ModelConfig, idx) -> dict[str, np.ndarray]:
    """The model's inputs, frame by frame, from their definitions."""
    rows = {"S": [], "note": [], "register": [], "diff": []}
    for i in idx:
        s = corpus.S[i].astype(np.float64) ** cfg.power
        rows["S"].append(s)
        rows["note"].append(np.eye(12)[corpus.note[i]])
        rows["register"].append([(corpus.pitch[i] - 60.0) / 24.0])
        same_clip = i > 0 and corpus.clip[i - 1] == corpus.clip[i]
        rows["diff"].append(s - corpus.S[i - 1].astype(np.float64) ** cfg.power if same_clip else 0 * s)
    names = ["S"] + (["note"] if cfg.uses_note else []) + (["register"] if cfg.uses_register else []) \
        + (["diff"] if cfg.augment == "diff" else [])
    return {n: np.asarray(rows[n]) for n in names}


CONFIGS = [ModelConfig(**TINY), ModelConfig(augment="diff", skip=False, **TINY), ModelConfig(power=1.0, register=False, **TINY)]


@pytest.mark.parametrize("cfg", CONFIGS, ids=["register", "diff", "paper"])
def test_model_inputs_are_their_definitions(tiny_corpus, cfg):
    corpus = load_corpus(tiny_corpus)
    idx = corpus.indices("train")
    fast, slow = model_inputs(corpus, cfg, idx), slow_inputs(corpus, cfg, idx)
    assert list(fast) == list(slow)
    for name in slow:
        np.testing.assert_allclose(fast[name], slow[name], rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("cfg", CONFIGS, ids=["register", "diff", "paper"])
def test_an_unshuffled_epoch_is_the_inputs_in_order(tiny_corpus, cfg):
    corpus = load_corpus(tiny_corpus)
    idx = corpus.indices("val")
    batches = list(training_data(corpus, cfg, idx, batch=7, shuffle=False, seed=0).as_numpy_iterator())
    assert [len(y) for _, y in batches] == [min(7, len(idx) - i) for i in range(0, len(idx), 7)]
    x = {n: np.concatenate([b[0][n] for b in batches]) for n in batches[0][0]}
    want = model_inputs(corpus, cfg, idx)
    assert list(x) == list(want)
    for name in want:
        np.testing.assert_array_equal(x[name], want[name], err_msg=name)
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]), want["S"])  # the target is S ** power


def test_each_shuffled_epoch_holds_every_frame_once_in_a_new_order_drawn_from_the_seed(tiny_corpus):
    corpus = load_corpus(tiny_corpus)
    cfg = ModelConfig(**TINY)
    idx = corpus.indices("train")
    want = model_inputs(corpus, cfg, idx)
    key = {want["S"][i].tobytes(): i for i in range(len(idx))}  # a frame's row identifies it

    def epochs(seed, n=2):
        ds = training_data(corpus, cfg, idx, batch=16, shuffle=True, seed=seed)
        out = []
        for _ in range(n):
            order, rows = [], []
            for x, y in ds.as_numpy_iterator():
                order += [key[r.tobytes()] for r in x["S"]]
                np.testing.assert_array_equal(y, x["S"])
                rows.append((x, order[-len(y):]))
            out.append(order)
            for x, at in rows:  # every input of a row belongs to its frame
                for name in want:
                    np.testing.assert_array_equal(x[name], want[name][at], err_msg=name)
        return out

    first, second = epochs(0)
    assert sorted(first) == sorted(second) == list(range(len(idx)))
    assert first != second and first != sorted(first)
    assert epochs(0) == [first, second] and epochs(1)[0] != first


def test_the_corpus_frames_are_mapped_from_its_file(tiny_corpus, tmp_path):
    corpus = load_corpus(tiny_corpus)
    assert isinstance(corpus.S, np.memmap) and not corpus.S.flags.writeable
    with np.load(tiny_corpus) as z:
        np.testing.assert_array_equal(corpus.S, z["S"])
        arrays = {k: z[k] for k in z.files}
    packed = tmp_path / "compressed.npz"
    np.savez_compressed(packed, **arrays)  # a member that cannot be mapped is read into memory
    again = load_corpus(packed)
    assert not isinstance(again.S, np.memmap)
    np.testing.assert_array_equal(again.S, corpus.S)
    rows = corpus.frames(corpus.indices("test"))
    assert rows.shape == (len(corpus.indices("test")), corpus.S.shape[1])
    np.testing.assert_array_equal(rows[2:5], corpus.S[corpus.indices("test")[2:5]])
    np.testing.assert_array_equal(np.asarray(rows), corpus.S[corpus.indices("test")])


def test_a_parallel_streaming_build_is_the_serial_in_memory_one(tone_dir, tmp_path, monkeypatch):
    from manne.corpus import workers

    takes = tmp_path / "takes"
    shutil.copytree(tone_dir, takes)
    (takes / "tone_07_broken.wav").write_bytes(b"RIFF\0\0\0\0WAVEfmt nonsense")  # skipped, in its place
    warned: list[str] = []
    serial = build([takes], val=0.15, test=0.15, progress=False, skip_bad=True, warn=warned.append)
    monkeypatch.setattr(workers, "PARALLEL_MIN_BYTES", 0)  # the tones are small: make it run in parallel
    warned_too: list[str] = []
    scratch = tmp_path / "frames.scratch"
    parallel = build([takes], val=0.15, test=0.15, progress=False, skip_bad=True, warn=warned_too.append,
                     jobs=2, scratch=scratch)
    assert isinstance(parallel.S, np.memmap) and scratch.stat().st_size == parallel.S.nbytes
    np.testing.assert_array_equal(parallel.S, serial.S)
    for name in ("gain", "note", "pitch", "clip", "frame", "split", "clip_source"):
        np.testing.assert_array_equal(getattr(parallel, name), getattr(serial, name), err_msg=name)
    assert parallel.sources == serial.sources and parallel.hash == serial.hash
    assert len(warned) == len(warned_too) == 1 and "tone_07_broken.wav" in warned_too[0]
