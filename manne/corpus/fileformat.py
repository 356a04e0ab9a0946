"""The corpus file: one ``.npz``, written atomically, read back with every field checked.

=============== ======================= =====================================================
key             shape, dtype            meaning
=============== ======================= =====================================================
``S``           (n_frames, n_bins) f32  magnitude frames, each divided by its own max
``gain``        (n_frames,) f32         the max each frame was divided by
``note``        (n_frames,) i8          pitch class of ``pitch``, 0-11 (C=0)
``pitch``       (n_frames,) f32         fractional MIDI pitch: pYIN's, the chroma's class where unvoiced
``clip``        (n_frames,) i32         clip id; a clip is a file or a contiguous segment
``frame``       (n_frames,) i32         frame index within the source file
``split``       (n_frames,) i8          0 train, 1 validation, 2 test (constant per clip)
``clip_source`` (n_clips,) i32          index into ``sources`` of each clip
``sources``     (n_sources,) str        the audio files, as given
``meta``        () str                  JSON: format version, analysis, split settings, hash
=============== ======================= =====================================================

Format versions
---------------
1
    Notes labelled by manne's own chroma filterbank (before librosa). Not read: its labels
    differ from version 2's on up to ~6 % of the frames of real instruments, and the mesh labels
    decoded spectra with version 2's filterbank. :func:`load_corpus` refuses it with the
    ``manne corpus`` command that rebuilds it from its sources.
2
    Notes labelled by ``librosa.filters.chroma`` (A440) restricted to ``fmin..fmax``
    (:func:`manne.corpus.analysis.chroma_filter`); frames as in version 1. Not read: a chroma
    argmax labels a note by its strongest partial (a trumpet's C4 as G), and there is no pitch for
    the register-aware model; refused with the rebuild command.
3
    Each frame's fractional MIDI ``pitch`` from ``librosa.pyin`` (the chroma's class in the octave
    of the nearest pitched frame where unvoiced; ``meta["pitch_labels"]`` counts each), and
    ``note`` its pitch class.
"""

from __future__ import annotations

import json
import numbers
import os
import shlex
import struct
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Sequence

import numpy as np

from manne.corpus.analysis import Analysis
from manne.corpus.build import Corpus
from manne.errors import AudioFileError, CorpusError, ParameterError
from manne.io.audio import find_audio
from manne.io.files import atomic_path

FORMAT_VERSION = 3

_KEYS = {
    "S": np.floating,
    "gain": np.floating,
    "note": np.integer,
    "pitch": np.floating,
    "clip": np.integer,
    "frame": np.integer,
    "split": np.integer,
    "clip_source": np.integer,
    "sources": np.str_,
    "meta": np.str_,
}

# what a damaged file raises from the zip container, the .npy headers (parsed as Python literals) and data
_DAMAGE = (ValueError, KeyError, UnicodeDecodeError, EOFError, RecursionError, SyntaxError, tokenize.TokenError,
           zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error)


def save(corpus: Corpus, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write a corpus to ``path`` (``.npz``), atomically, stamped with :data:`FORMAT_VERSION`.

    Raises
    ------
    ParameterError
        If ``path`` does not end in ``.npz``.
    OutputExistsError
        If ``path`` exists and ``force`` is false.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ParameterError(f"corpus output {path} must end in .npz")
    meta = {"format_version": FORMAT_VERSION, **{k: v for k, v in corpus.meta.items() if k != "format_version"}}
    with atomic_path(path, force=force) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                S=corpus.S,
                gain=corpus.gain,
                note=corpus.note,
                pitch=corpus.pitch,
                clip=corpus.clip,
                frame=corpus.frame,
                split=corpus.split,
                clip_source=corpus.clip_source,
                sources=np.asarray(corpus.sources, dtype=str),
                meta=np.asarray(json.dumps(meta)),
            )
    return path


def load_corpus(path: str | os.PathLike) -> Corpus:
    """Read and validate a corpus file.

    Raises
    ------
    CorpusError
        Naming the file and what is wrong: a missing or damaged file (not a zip, a truncated
        member, meta that is not JSON), a missing key, a wrong shape or dtype, labels out of range,
        non-finite frames, a clip in two splits, another format version (version 1: with the
        command that rebuilds it).
    """
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: no such corpus file")
    if not zipfile.is_zipfile(path):
        raise CorpusError(f"{path}: cannot read corpus, the file is not an .npz (zip) archive; it is damaged or not a corpus")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in _KEYS if k not in z.files]
            if missing:
                raise CorpusError(f"{path}: not a manne corpus (missing {', '.join(missing)})")
            arrays = {k: z[k] for k in _KEYS if k != "S"}
            mapped = mapped_member(path, z.zip, "S.npy")
            arrays["S"], crc = (z["S"], None) if mapped is None else mapped
    except _DAMAGE as exc:
        raise CorpusError(f"{path}: cannot read corpus, the file is damaged or not a corpus ({_reason(exc)})") from exc
    for k, kind in _KEYS.items():
        if not np.issubdtype(arrays[k].dtype, kind):
            raise CorpusError(f"{path}: {k} has dtype {arrays[k].dtype}, expected {kind.__name__}")
    meta = _read_meta(path, arrays["meta"])
    sources = [str(s) for s in np.atleast_1d(arrays["sources"])]
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        if isinstance(version, int) and 1 <= version < FORMAT_VERSION:
            raise CorpusError(
                f"{path}: corpus format version {version} labels notes by their chroma and has no pitch; this manne reads "
                f"version {FORMAT_VERSION} (pitch from librosa.pyin). Rebuild it: {rebuild_command(path, meta, sources)}"
            )
        raise CorpusError(f"{path}: corpus format version {version!r}, this manne reads version {FORMAT_VERSION}; "
                          "rebuild it with `manne corpus`, or update manne")
    analysis = _read_analysis(path, meta)
    S = arrays["S"].astype(np.float32, copy=False)
    n = len(S)
    if S.ndim != 2 or S.shape[1] != analysis.n_bins:
        raise CorpusError(f"{path}: S has shape {S.shape}, expected (n_frames, {analysis.n_bins})")
    for k in ("gain", "note", "pitch", "clip", "frame", "split"):
        if arrays[k].shape != (n,):
            raise CorpusError(f"{path}: {k} has shape {arrays[k].shape}, expected ({n},)")
    if n == 0:
        raise CorpusError(f"{path}: corpus holds no frames")
    if not (_finite_rows(path, S, crc) and np.isfinite(arrays["gain"]).all()):
        raise CorpusError(f"{path}: S or gain holds NaN or Inf values")
    pitch = arrays["pitch"].astype(np.float32, copy=False)
    if not np.isfinite(pitch).all() or pitch.min() < 0 or pitch.max() > 140:
        raise CorpusError(f"{path}: pitch must be finite MIDI pitches 0-140")
    note, split, clip, clip_source = arrays["note"], arrays["split"], arrays["clip"], arrays["clip_source"]
    if note.min() < 0 or note.max() > 11:
        raise CorpusError(f"{path}: note labels must be 0-11, found {note.min()}..{note.max()}")
    if split.min() < 0 or split.max() > 2:
        raise CorpusError(f"{path}: split values must be 0-2, found {split.min()}..{split.max()}")
    n_clips = len(clip_source)
    if clip.min() < 0 or clip.max() >= n_clips:
        raise CorpusError(f"{path}: clip ids must be 0..{n_clips - 1}")
    if clip_source.ndim != 1 or clip_source.min() < 0 or clip_source.max() >= len(sources):
        raise CorpusError(f"{path}: clip_source must index the {len(sources)} sources")
    per_clip = np.full(n_clips, -1)
    per_clip[clip] = split
    if (per_clip[clip] != split).any():
        raise CorpusError(f"{path}: a clip has frames in two splits (frame-level leakage)")
    return Corpus(
        S=S,
        gain=arrays["gain"].astype(np.float32, copy=False),
        note=note.astype(np.int8),
        pitch=pitch,
        clip=clip.astype(np.int32),
        frame=arrays["frame"].astype(np.int32),
        split=split.astype(np.int8),
        clip_source=clip_source.astype(np.int32),
        sources=sources,
        analysis=analysis,
        meta=meta,
    )


def mapped_member(path: Path, zf: zipfile.ZipFile, name: str) -> tuple[np.ndarray, tuple[int, int, int]] | None:
    """The ``.npy`` member ``name`` of the ``.npz`` ``path`` as a read-only memory map, or None.

    ``np.savez`` stores members uncompressed, so a member's array lies in the file as it would in a
    ``.npy``: after the zip's local header and the ``.npy`` header. Its pages are the file's (the
    page cache's, not this process's own memory), read as they are touched. None for a compressed
    member, a Fortran-ordered or object array, or a ``.npy`` version without a public header reader
    (the caller reads those into memory). The member's CRC-32 is checked by :func:`_finite_rows`.

    Returns
    -------
    array : np.memmap
    crc : (the zip's CRC-32 of the member, the file offset of the member's start, of its array)

    Raises
    ------
    ValueError
        If the local header or the ``.npy`` header is damaged, or the member is shorter than its array.
    """
    info = zf.getinfo(name)
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            raise ValueError(f"bad local header of {name}")
        n_name, n_extra = struct.unpack("<HH", local[26:30])
        start = info.header_offset + 30 + n_name + n_extra
        fh.seek(start)
        version = np.lib.format.read_magic(fh)
        readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        if version not in readers:
            return None
        shape, fortran, dtype = readers[version](fh)
        offset = fh.tell()
    if fortran or dtype.hasobject:
        return None
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if offset + size != start + info.compress_size:
        raise ValueError(f"{name} holds {start + info.compress_size - offset} bytes of data, its header announces {size}")
    a = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape) if size else np.zeros(shape, dtype)
    return a, (info.CRC, start, offset)


def _finite_rows(path: Path, S: np.ndarray, check: tuple[int, int, int] | None, *, rows: int = 4096) -> bool:
    """Whether every value of ``S`` is finite, a block of ``rows`` rows at a time; with ``check``
    (:func:`mapped_member`'s), the member's CRC-32 is checked on the way (CorpusError naming ``path``
    if it differs), so one pass over the file does both."""
    crc = 0
    if check is not None:
        with open(path, "rb") as fh:
            fh.seek(check[1])
            crc = zlib.crc32(fh.read(check[2] - check[1]))
    finite = True
    for r in range(0, len(S), rows):
        block = np.asarray(S[r : r + rows])
        if check is not None:
            crc = zlib.crc32(memoryview(np.ascontiguousarray(block)).cast("B"), crc)
        finite = finite and bool(np.isfinite(block).all())
    if check is not None and crc != check[0]:
        raise CorpusError(f"{path}: cannot read corpus, the file is damaged or not a corpus "
                          f"(BadZipFile: Bad CRC-32 for file 'S.npy')")
    return finite


def rebuild_command(path: str | os.PathLike, meta: dict, sources: Sequence[str]) -> str:
    """The ``manne corpus`` command line that rebuilds a corpus from its sources, shell-quoted.

    The inputs are the folder holding all the sources when that folder yields exactly them, in
    order (so the file split comes out the same), else the files themselves. The split mode (as
    resolved), fractions, seed and silence threshold come from ``meta``.
    """
    args = ["manne", "corpus", *_rebuild_inputs(sources)]
    for flag, value in (("--split", meta.get("split_mode")), ("--val", meta.get("val")), ("--test", meta.get("test")),
                        ("--seed", meta.get("seed")), ("--silence-db", (meta.get("analysis") or {}).get("silence_db"))):
        if isinstance(value, (str, numbers.Real)) and not isinstance(value, bool):
            args += [flag, str(value)]
    return shlex.join(args + ["-o", str(path), "--force"])


def _rebuild_inputs(sources: Sequence[str]) -> list[str]:
    try:
        root = os.path.commonpath(sources) if len(sources) > 1 else ""
    except ValueError:  # absolute and relative paths mixed
        root = ""
    if root and Path(root).is_dir():
        try:
            found = [f.resolve() for f in find_audio([root])]
        except (AudioFileError, OSError):
            found = []
        if found == [Path(s).resolve() for s in sources]:
            return [root]
    return list(sources)


def _read_meta(path: Path, meta: np.ndarray) -> dict:
    if meta.ndim != 0:
        raise CorpusError(f"{path}: meta has shape {meta.shape}, expected a single JSON string")
    try:
        out = json.loads(str(meta))
    except (ValueError, RecursionError) as exc:
        raise CorpusError(f"{path}: meta is not valid JSON ({_reason(exc)})") from exc
    if not isinstance(out, dict):
        raise CorpusError(f"{path}: meta is a JSON {type(out).__name__}, expected an object")
    return out


def _read_analysis(path: Path, meta: dict) -> Analysis:
    d = meta.get("analysis")
    if not isinstance(d, dict):
        raise CorpusError(f"{path}: meta has no analysis parameters")
    for k, default in Analysis().to_dict().items():
        v = d.get(k, default)
        kind = numbers.Integral if isinstance(default, int) else numbers.Real
        if not isinstance(v, kind) or isinstance(v, bool) or not np.isfinite(v) or v <= 0:
            what = "integer" if kind is numbers.Integral else "number"
            raise CorpusError(f"{path}: analysis {k}={v!r} must be a positive {what}")
    try:
        return Analysis.from_dict(d)
    except ParameterError as exc:
        raise CorpusError(f"{path}: analysis {exc}") from exc


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__
