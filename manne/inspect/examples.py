"""A model's own examples: training codes and a few held-out frames, kept beside the weights.

``manne train`` writes ``examples.npz`` into the model directory so that ``manne plot`` can draw the
embedding and the reconstructions without the corpus (which is large and not shipped with the
bundled default model).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from manne.io.files import atomic_path
from manne.errors import ModelError


@dataclass
class Examples:
    """Training codes and held-out frames of a model.

    Attributes
    ----------
    z : (n_codes, latent) float32, codes of (a subsample of) the training frames
    z_note : (n_codes,) int, their notes
    S : (n_frames, n_bins) float32, held-out frames to reconstruct
    S_note : (n_frames,) int, their notes
    S_label : list of str, where each frame comes from
    split : the split ``S`` was taken from
    """

    z: np.ndarray
    z_note: np.ndarray
    S: np.ndarray
    S_note: np.ndarray
    S_label: list[str]
    split: str

    @classmethod
    def from_corpus(cls, ae, corpus, *, frames: int = 8, max_codes: int = 20000, seed: int = 0) -> "Examples":
        idx = corpus.indices("train")
        z = ae.encode(corpus.S[idx], corpus.note[idx], corpus.clip[idx])
        if len(idx) > max_codes:
            keep = np.sort(np.random.default_rng(seed).choice(len(idx), max_codes, replace=False))
            z, idx = z[keep], idx[keep]
        split = next((s for s in ("test", "val") if len(corpus.indices(s))), "train")
        pick = held_out_frames(corpus, frames, split=split)
        labels = [f"frame {corpus.frame[i]} of {Path(corpus.sources[corpus.clip_source[corpus.clip[i]]]).name}" for i in pick]
        return cls(z.astype(np.float32), corpus.note[idx].astype(np.int64), corpus.S[pick].astype(np.float32),
                   corpus.note[pick].astype(np.int64), labels, split)

    def save(self, path: str | os.PathLike) -> Path:
        with atomic_path(path, force=True) as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, z=self.z.astype(np.float16), z_note=self.z_note.astype(np.int8),
                                    S=self.S.astype(np.float16), S_note=self.S_note.astype(np.int8),
                                    S_label=np.asarray(self.S_label, dtype=str), split=np.asarray(self.split))
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Examples":
        try:
            with np.load(path, allow_pickle=False) as f:
                return cls(f["z"].astype(np.float32), f["z_note"].astype(np.int64), f["S"].astype(np.float32),
                           f["S_note"].astype(np.int64), [str(s) for s in f["S_label"]], str(f["split"]))
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"{path} cannot be read ({exc})") from exc


def held_out_frames(corpus, n: int, *, split: str = "test") -> np.ndarray:
    """Up to ``n`` frame indices of ``split`` for reconstruction plots: first the middle frame of
    each note (so several notes show), then evenly spaced frames; sorted."""
    idx = corpus.indices(split)
    notes = corpus.note[idx]
    pick: list[int] = []
    for note in np.unique(notes):
        sel = idx[notes == note]
        pick.append(int(sel[len(sel) // 2]))
    pick = pick[:n]
    for i in idx[np.linspace(0, len(idx) - 1, min(n, len(idx))).round().astype(int)]:
        if len(pick) >= n:
            break
        if int(i) not in pick:
            pick.append(int(i))
    return np.array(sorted(pick), dtype=np.int64)
