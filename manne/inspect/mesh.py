"""Mesh accuracy: does the decoder play the note it is asked for, everywhere in the latent space?

A regular grid of ``points`` values per latent neuron (``points ** latent`` codes) spans the model's
``latent_range``. For each note the grid is decoded with the decoder conditioned on that note, and
each decoded spectrum is labelled with the argmax of its chroma, made with the same filterbank as
the corpus analysis (:func:`manne.corpus.analysis.chroma_filter` with the model's analysis
parameters, through its NumPy copy :func:`manne.stft.chroma_filterbank`). The note's *accuracy* is the fraction of grid points whose label equals the note (the
paper's Table V).

Large grids decode their wide layers in bfloat16 with TensorFlow and label the near ties again in
float32 (:mod:`manne.inspect.mesh_fast`); small ones, and the near ties, in NumPy. The decoder's
last layer is evaluated only for the FFT bins the chroma filterbank reads (50 Hz to 5 kHz: 460 of
2049 bins at 44.1 kHz / 4096), which gives the same labels as a full decode at a fraction of the cost; ``tests/test_mesh.py`` checks this against
``Autoencoder.decode`` followed by :func:`manne.corpus.analysis.chroma_argmax`.
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

import numpy as np

from manne import dsp
from manne.io.files import atomic_path, read_csv_rows
from manne.dsp import NOTE_NAMES
from manne.errors import ModelError, ParameterError
from manne.model.decoder import Decoder
from manne.model.forward import Autoencoder
from manne.inspect.mesh_fast import FAST_MIN_CODES, chroma_energies, near_ties
from manne.stft import chroma_filterbank

MAX_GRID = 2_000_000  # grid points; 12 notes of this many decodes take minutes
CSV_HEADER = ["note", "accuracy", "present"]  # the columns of mesh.csv


@dataclass
class MeshResult:
    """Predicted notes over a latent grid, one row per requested note.

    Attributes
    ----------
    ranges : np.ndarray, shape (2, latent)
        Lower and upper bound of each latent neuron the grid spans.
    points : int
        Grid values per neuron; the grid has ``points ** latent`` codes (see :func:`latent_grid`).
    notes : tuple of int
        The notes the decoder was conditioned on, 0-11 (C=0).
    predicted : np.ndarray of int8, shape (len(notes), points ** latent)
        Chroma argmax of each decoded grid point, in :func:`latent_grid` order.
    accuracy : np.ndarray, shape (len(notes),)
        Fraction of grid points whose prediction equals the note.
    present : tuple of int
        Notes of the model's training corpus; the others are shown as "-" in tables.
    seconds : float
        Wall time of the computation.
    """

    ranges: np.ndarray
    points: int
    notes: tuple[int, ...]
    predicted: np.ndarray
    accuracy: np.ndarray
    present: tuple[int, ...]
    seconds: float = 0.0

    @property
    def latent(self) -> int:
        return int(self.ranges.shape[1])

    @property
    def grid(self) -> np.ndarray:
        """The latent codes, shape ``(points ** latent, latent)``."""
        return latent_grid(self.ranges, self.points)

    def accuracy_of(self, note: int | str) -> float:
        """Accuracy of one note (name or 0-11).

        Raises
        ------
        ParameterError
            If the note was not computed.
        """
        n = dsp.note_index(note)
        if n not in self.notes:
            raise ParameterError(f"note {NOTE_NAMES[n]} was not computed; this mesh has {_names(self.notes)}")
        return float(self.accuracy[self.notes.index(n)])

    def mean_accuracy(self, *, present_only: bool = True) -> float:
        """Mean accuracy over the notes of the training corpus (or over all computed notes).

        NaN when no computed note is present.
        """
        sel = [i for i, n in enumerate(self.notes) if n in self.present or not present_only]
        return float(np.mean(self.accuracy[sel])) if sel else float("nan")

    def map(self, note: int | str) -> np.ndarray:
        """Predicted notes of one conditioning note as an array of shape ``(points,) * latent``,
        indexed ``[i_1, ..., i_latent]`` (axis k follows latent neuron k)."""
        n = dsp.note_index(note)
        if n not in self.notes:
            raise ParameterError(f"note {NOTE_NAMES[n]} was not computed; this mesh has {_names(self.notes)}")
        return self.predicted[self.notes.index(n)].reshape((self.points,) * self.latent)


def _names(notes: Iterable[int]) -> str:
    return " ".join(NOTE_NAMES[n] for n in notes) or "no notes"


def check_grid(points: int, latent: int, *, max_grid: int = MAX_GRID) -> int:
    """Check a grid size and return ``points ** latent``.

    Raises
    ------
    ParameterError
        If ``points < 2`` or the grid would exceed ``max_grid`` codes.
    """
    if int(points) != points or points < 2:
        raise ParameterError(f"points={points} must be an integer of at least 2 (a grid needs both ends of each range)")
    if latent < 1:
        raise ParameterError(f"latent={latent} must be at least 1")
    n = int(points) ** int(latent)
    if n > max_grid:
        fit = int(np.floor(max_grid ** (1.0 / latent) + 1e-9))
        raise ParameterError(
            f"points={points} in {latent} dimensions makes {n:,} grid codes, more than {max_grid:,}; "
            f"use --points {fit} or fewer"
        )
    return n


def latent_grid(ranges: np.ndarray, points: int) -> np.ndarray:
    """A regular grid over the box ``ranges``.

    Parameters
    ----------
    ranges : np.ndarray, shape (2, latent)
        Lower bounds (row 0) and upper bounds (row 1), both included.
    points : int
        Values per neuron, at least 2.

    Returns
    -------
    grid : np.ndarray, float32, shape (points ** latent, latent)
        Row ``i_1 * points ** (latent - 1) + ... + i_latent`` holds ``(v_1[i_1], ..., v_latent[i_latent])``,
        so ``grid.reshape((points,) * latent + (latent,))`` is indexed like ``np.meshgrid(..., indexing="ij")``.

    Raises
    ------
    ParameterError
        If ``ranges`` is not (2, latent) and finite, ``points < 2``, or the grid exceeds ``MAX_GRID`` codes.
    """
    ranges = np.asarray(ranges, dtype=np.float64)
    if ranges.ndim != 2 or ranges.shape[0] != 2 or ranges.shape[1] < 1:
        raise ParameterError(f"ranges has shape {ranges.shape}; it must be (2, latent): lower and upper bounds")
    if not np.isfinite(ranges).all():
        raise ParameterError("ranges holds NaN or Inf values")
    d = ranges.shape[1]
    check_grid(points, d)
    axes = [np.linspace(ranges[0, k], ranges[1, k], int(points)) for k in range(d)]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1).astype(np.float32)


def _labeller(ae: Autoencoder) -> tuple[Decoder, np.ndarray]:
    """The model's decoder restricted to the bins the chroma filterbank reads, and that band's
    filterbank transposed, shape (n_band, 12). The filterbank is the corpus analysis' (its NumPy
    copy, :func:`manne.stft.chroma_filterbank`, tested equal: no librosa import here)."""
    a = ae.analysis
    fb = chroma_filterbank(sr=a.sr, n_fft=a.n_fft, fmin=a.fmin, fmax=a.fmax)
    cols = np.flatnonzero(fb.any(axis=0))
    return Decoder.of(ae, cols=cols), np.ascontiguousarray(fb[:, cols].T)


def _label(dec: Decoder, fbT: np.ndarray, z: np.ndarray, note: int, out: np.ndarray, batch: int) -> None:
    """Fill ``out`` (len(z),) with the pitch class the chroma hears in each decoding of codes ``z``
    conditioned on ``note``."""
    for s, S in dec.batches(z, note, batch=batch):
        S *= S
        out[s : s + len(S)] = np.argmax(S @ fbT, axis=1)


def decoded_notes(ae: Autoencoder, z: np.ndarray, note: int, *, batch: int = 4096) -> np.ndarray:
    """The pitch class (0-11) the corpus analysis hears in the decoder's spectrum of each code.

    Parameters
    ----------
    ae : Autoencoder
    z : np.ndarray, shape (m, latent)
    note : int, the conditioning pitch class, 0-11

    Returns
    -------
    labels : np.ndarray, shape (m,), int8; equal to ``note`` where the decoder plays the note asked
    """
    dec, fbT = _labeller(ae)
    dec.check_note(note)
    out = np.empty(len(z), dtype=np.int8)
    _label(dec, fbT, np.asarray(z, dtype=np.float32), int(note), out, batch)
    return out


def mesh_accuracy(
    ae: Autoencoder,
    *,
    points: int,
    notes: Iterable[int | str] = range(12),
    batch: int = 4096,
    ranges: np.ndarray | None = None,
    on_note: Callable[[int], None] | None = None,
    octave: int = 4,
    fast: bool | None = None,
) -> MeshResult:
    """Decode a latent grid conditioned on each note and measure how often the note comes out.

    Parameters
    ----------
    ae : Autoencoder
        A loaded model.
    points : int
        Grid values per latent neuron (at least 2); the grid has ``points ** ae.latent`` codes.
    notes : iterable of int or str
        Conditioning notes, 0-11 or names; default all twelve.
    batch : int
        Grid codes per matrix product of the wide layers; memory is about ``batch`` x 18 kB for a
        full-width model (74 MB at 4096) plus 65,536 x 1 kB for the narrow layers.
    ranges : np.ndarray, shape (2, latent), optional
        Grid bounds; default ``ae.latent_range`` (the slider range).
    on_note : callable, optional
        Called with each note once it is done (for a progress bar).
    octave : int
        The octave each class is decoded in (4: C4-B4); a register-aware model plays each octave
        with its own spectrum, the paper's models ignore it.
    fast : bool, optional
        Decode the wide layers in bfloat16 and label the near ties again in float32
        (:mod:`manne.inspect.mesh_fast`: the same labels in about 60 % of the time); default for
        grids of at least :data:`~manne.inspect.mesh_fast.FAST_MIN_CODES` codes.

    Returns
    -------
    MeshResult
        ``predicted`` has shape ``(len(notes), points ** latent)``.

    Raises
    ------
    ParameterError
        If ``points < 2``, the grid exceeds ``MAX_GRID`` codes, a note is not 0-11, or ``batch < 1``.
    """
    t0 = time.perf_counter()
    note_list = tuple(dsp.note_index(n) for n in notes)
    if not note_list:
        raise ParameterError("notes is empty; give at least one note")
    if len(set(note_list)) != len(note_list):
        raise ParameterError(f"notes {_names(note_list)} repeat a note")
    if batch < 1:
        raise ParameterError(f"batch={batch} must be at least 1")
    ranges = ae.latent_range if ranges is None else np.asarray(ranges, dtype=np.float32)
    if ranges.shape != (2, ae.latent):
        raise ParameterError(f"ranges has shape {ranges.shape}; the model has {ae.latent} latent neurons, so it must be (2, {ae.latent})")
    grid = latent_grid(ranges, points)
    dec, fbT = _labeller(ae)
    if fast is None:
        fast = len(grid) >= FAST_MIN_CODES
    energies = chroma_energies(dec, fbT) if fast else None
    predicted = np.empty((len(note_list), len(grid)), dtype=np.int8)
    for i, note in enumerate(note_list):
        midi = note + 12 * (int(octave) + 1)
        if i > 0 and not dec.skip:
            predicted[i] = predicted[0]  # without the skip connection the decoder ignores the note
        elif energies is not None:
            E = energies(grid, midi)
            predicted[i] = np.argmax(E, axis=1)
            ties = np.flatnonzero(near_ties(E))
            again = np.empty(len(ties), dtype=np.int8)
            _label(dec, fbT, grid[ties], midi, again, batch)
            predicted[i, ties] = again
        else:
            _label(dec, fbT, grid, midi, predicted[i], batch)
        if on_note is not None:
            on_note(note)
    accuracy = (predicted == np.asarray(note_list, dtype=np.int8)[:, None]).mean(axis=1)
    return MeshResult(
        ranges=np.asarray(ranges, dtype=np.float32),
        points=int(points),
        notes=note_list,
        predicted=predicted,
        accuracy=accuracy,
        present=tuple(int(n) for n in ae.notes_present),
        seconds=time.perf_counter() - t0,
    )


def write_csv(result: MeshResult, path: str | os.PathLike) -> Path:
    """Write ``note,accuracy,present`` rows (one per computed note), atomically.

    ``present`` is 1 when the note occurs in the model's training corpus, else 0.
    """
    path = Path(path)
    with atomic_path(path, force=True) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(CSV_HEADER)
            for n, a in zip(result.notes, result.accuracy):
                w.writerow([NOTE_NAMES[n], f"{a:.6f}", int(n in result.present)])
    return path


def read_csv(path: str | os.PathLike) -> dict[str, tuple[float, bool]]:
    """Read :func:`write_csv`'s file: ``{note name: (accuracy, present)}``.

    Raises
    ------
    ModelError
        If the file is missing or not UTF-8 CSV text, its header is not ``note,accuracy,present``,
        or a row has another number of cells, an unknown or repeated note, an accuracy outside
        0-1 or a ``present`` other than 0 or 1; the message names the file and the row.
    """
    rows = read_csv_rows(path, error=ModelError, what="mesh table")
    if not rows or [c.lower() for c in rows[0]] != CSV_HEADER:
        head = ",".join(rows[0]) if rows else "empty"
        raise ModelError(f"{path}: not a mesh table: the header is {head!r}; it must be {','.join(CSV_HEADER)}")
    table: dict[str, tuple[float, bool]] = {}
    for i, row in enumerate(rows[1:], start=1):
        where = f"{path}: row {i}"
        if len(row) != len(CSV_HEADER):
            raise ModelError(f"{where} has {len(row)} cells {','.join(row)!r}; it must be {','.join(CSV_HEADER)}")
        note, acc, present = row
        if note not in NOTE_NAMES:
            raise ModelError(f"{where}: note {note!r} is not one of {' '.join(NOTE_NAMES)}")
        if note in table:
            raise ModelError(f"{where}: note {note} appears twice")
        try:
            a = float(acc)
        except ValueError:
            a = float("nan")
        if not 0 <= a <= 1:
            raise ModelError(f"{where}: accuracy {acc!r} of {note} must be a number from 0 to 1")
        if present not in ("0", "1"):
            raise ModelError(f"{where}: present {present!r} of {note} must be 0 or 1")
        table[note] = (a, present == "1")
    return table


def _cell(result: MeshResult, note: int) -> str:
    if note not in result.notes or note not in result.present:
        return "-"
    return f"{100 * result.accuracy_of(note):.1f}"


def markdown_table(results: MeshResult | Mapping[str, MeshResult]) -> str:
    """Mesh accuracy in percent as a Markdown table like the paper's Table V.

    One column per note (C .. B) and a last column with the mean over the notes of the training
    corpus; notes absent from a model's training corpus (or not computed) show "-".

    Parameters
    ----------
    results : MeshResult, or a mapping of row label to MeshResult
    """
    rows = {"model": results} if isinstance(results, MeshResult) else dict(results)
    head = "| | " + " | ".join(NOTE_NAMES) + " | mean |"
    rule = "|---|" + "---:|" * 13
    lines = [head, rule]
    for label, r in rows.items():
        mean = r.mean_accuracy()
        cells = [_cell(r, n) for n in range(12)] + ["-" if np.isnan(mean) else f"{100 * mean:.1f}"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_markdown(results: MeshResult | Mapping[str, MeshResult], path: str | os.PathLike, *, title: str | None = None) -> Path:
    """Write :func:`markdown_table` (under an optional ``# title``) to ``path``, atomically."""
    path = Path(path)
    text = (f"# {title}\n\n" if title else "") + markdown_table(results) + "\n"
    with atomic_path(path, force=True) as tmp:
        tmp.write_text(text)
    return path


__all__ = ["MAX_GRID", "MeshResult", "check_grid", "latent_grid", "mesh_accuracy", "decoded_notes", "write_csv", "read_csv",
           "markdown_table", "write_markdown"]
