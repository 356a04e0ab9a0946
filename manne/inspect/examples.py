"""A model's own examples: training codes and a few held-out frames, kept beside the weights.

``manne train`` writes ``examples.npz`` into the model directory so that ``manne plot`` can draw the
embedding and the reconstructions without the corpus (which is large and not shipped with the
bundled default model).
"""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from manne.io.files import atomic_path
from manne.errors import ModelError

_ARRAYS = ("z", "z_note", "S", "S_note", "S_label", "split")


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
    S_pitch : (n_frames,) float32, their MIDI pitches (a file written before pitches: octave 4)
    """

    z: np.ndarray
    z_note: np.ndarray
    S: np.ndarray
    S_note: np.ndarray
    S_label: list[str]
    split: str
    S_pitch: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.S_pitch is None:
            self.S_pitch = np.asarray(self.S_note, dtype=np.float32) + 60.0

    @classmethod
    def from_corpus(cls, ae, corpus, *, frames: int = 8, max_codes: int = 20000, seed: int = 0,
                    codes: np.ndarray | None = None) -> "Examples":
        """Codes of the training frames (at most ``max_codes``, a seeded subsample) and ``frames``
        held-out frames (from the test split, else val, else train) of ``corpus`` under model ``ae``.
        ``codes``, shape (n_frames, latent): ``ae.encode`` of every frame, where the caller has them already."""
        idx = corpus.indices("train")
        z = ae.encode(corpus.frames(idx), corpus.pitch[idx], corpus.clip[idx]) if codes is None else codes[idx]
        if len(idx) > max_codes:
            keep = np.sort(np.random.default_rng(seed).choice(len(idx), max_codes, replace=False))
            z, idx = z[keep], idx[keep]
        split = next((s for s in ("test", "val") if len(corpus.indices(s))), "train")
        pick = held_out_frames(corpus, frames, split=split)
        labels = [f"frame {corpus.frame[i]} of {Path(corpus.sources[corpus.clip_source[corpus.clip[i]]]).name}" for i in pick]
        return cls(z.astype(np.float32), corpus.note[idx].astype(np.int64), corpus.S[pick].astype(np.float32),
                   corpus.note[pick].astype(np.int64), labels, split, corpus.pitch[pick].astype(np.float32))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the examples to ``path`` as a compressed ``.npz`` (float16 arrays), atomically."""
        with atomic_path(path, force=True) as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, z=self.z.astype(np.float16), z_note=self.z_note.astype(np.int8),
                                    S=self.S.astype(np.float16), S_note=self.S_note.astype(np.int8),
                                    S_label=np.asarray(self.S_label, dtype=str), split=np.asarray(self.split),
                                    S_pitch=self.S_pitch.astype(np.float32))
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Examples":
        """Read :meth:`save`'s ``examples.npz``.

        Raises
        ------
        ModelError
            If the file is missing, is not an ``.npz`` archive (truncated, damaged, another format),
            lacks one of its arrays, or its arrays do not fit together; the message names the file.
        """
        p = Path(path)
        if not p.is_file():
            raise ModelError(f"{p}: no such examples file; `manne train` writes it beside the weights")
        try:
            with open(p, "rb") as fh:
                magic = fh.read(6)
            if magic.startswith(b"\x93NUMPY"):
                raise ModelError(f"{p}: a single .npy array, not an examples archive (.npz) of {', '.join(_ARRAYS)}")
            if not magic.startswith(b"PK"):
                what = "empty" if not magic else "another kind of file"
                raise ModelError(f"{p}: not an examples archive (.npz, a zip file): the file is {what}")
            npz = np.load(p, allow_pickle=False)
        except (zipfile.BadZipFile, EOFError, ValueError) as exc:
            raise ModelError(f"{p}: not an examples archive (.npz): the file is truncated or damaged ({exc})") from exc
        except OSError as exc:
            raise ModelError(f"{p}: the examples file cannot be read ({exc})") from exc
        if not isinstance(npz, np.lib.npyio.NpzFile):  # np.load read something else after all
            raise ModelError(f"{p}: not an examples archive (.npz) of {', '.join(_ARRAYS)}")
        with npz:
            missing = [k for k in _ARRAYS if k not in npz.files]
            if missing:
                raise ModelError(f"{p}: the examples file lacks {', '.join(missing)} "
                                 f"(it holds {', '.join(npz.files) or 'nothing'}); re-run `manne train`, or plot with --corpus")
            try:
                a = {k: npz[k] for k in _ARRAYS}
                pitch = npz["S_pitch"].astype(np.float32) if "S_pitch" in npz.files else None
                ex = cls(a["z"].astype(np.float32), a["z_note"].astype(np.int64), a["S"].astype(np.float32),
                         a["S_note"].astype(np.int64), [str(s) for s in a["S_label"]], str(a["split"]), pitch)
            except (zipfile.BadZipFile, EOFError, OSError, ValueError, TypeError, zlib.error) as exc:
                raise ModelError(f"{p}: the examples file is damaged: its arrays cannot be read ({exc})") from exc
        ex._check(p)
        return ex

    def _check(self, path: Path) -> None:
        """Raise ModelError naming ``path`` unless the arrays have the shapes :class:`Examples` documents."""
        problems = []
        if self.z.ndim != 2 or self.z_note.shape != self.z.shape[:1]:
            problems.append(f"z has shape {self.z.shape} and z_note {self.z_note.shape}; need (n, latent) and (n,)")
        if self.S.ndim != 2 or self.S_note.shape != self.S.shape[:1]:
            problems.append(f"S has shape {self.S.shape} and S_note {self.S_note.shape}; need (n, n_bins) and (n,)")
        elif len(self.S_label) != len(self.S):
            problems.append(f"S_label has {len(self.S_label)} labels for {len(self.S)} frames")
        notes = np.concatenate([self.z_note.ravel(), self.S_note.ravel()])
        if len(notes) and (notes.min() < 0 or notes.max() > 11):
            problems.append(f"notes {notes.min()}..{notes.max()} must be 0-11")
        if self.S_pitch.shape != self.S_note.shape or not (np.isfinite(self.S_pitch).all() and
                                                           (self.S_pitch >= 0).all() and (self.S_pitch <= 140).all()):
            problems.append("S_pitch must be one MIDI pitch 0-140 per frame of S")
        if problems:
            raise ModelError(f"{path}: the examples file is damaged: {'; '.join(problems)}")


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
