"""Landmarks: where the user's own recordings sit in the timbre space.

For every source file of a corpus, and for every folder that holds them, the mean and spread
(standard deviation per neuron) of the codes of its frames (each frame encoded with its own
note), with its name and frame count. Training writes them into the model directory as
``landmarks.json``; ``manne landmarks`` makes them for a model trained before, or adds those of
other recordings (:func:`merge`: a name already there is refused, or replaced on request). A landmark is a place to go to: ``manne morph`` starts or ends at one, the window's
XY pad shows them by name.

``landmarks.json``::

    {"version": 1, "latent": 8,
     "landmarks": [{"name": "violin", "kind": "folder", "frames": 812,
                    "mean": [... latent ...], "std": [... latent ...]}, ...]}

Folders come first, then files; names are paths relative to the corpus' common folder, files
without their extension.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path, PurePath
from typing import NamedTuple

import numpy as np

from manne.errors import ModelError, ParameterError
from manne.io.files import read_json, write_json

__all__ = ["Landmark", "FILE", "VERSION", "compute", "names", "check_names", "merge", "write", "read", "find", "short_name"]

FILE = "landmarks.json"
VERSION = 1


class Landmark(NamedTuple):
    """One place in the timbre space: the codes of a recording (``kind="file"``) or a folder of them."""

    name: str
    kind: str  # "file" or "folder"
    frames: int
    mean: np.ndarray  # (latent,)
    std: np.ndarray  # (latent,)


def _names(sources: list[str]) -> tuple[list[str], list[list[str]]]:
    """Each source's short name (relative to the sources' common folder, no extension) and folders."""
    paths = [PurePath(os.path.normpath(s)) for s in sources]
    parents = [str(p.parent) for p in paths]
    try:
        common = PurePath(os.path.commonpath(parents))
    except ValueError:  # absolute and relative paths mixed, or several drives: names keep their whole path
        common = PurePath("")
    names, folders = [], []
    for p in paths:
        try:
            rel = p.relative_to(common)
        except ValueError:
            rel = PurePath(p.name)
        names.append(str(rel.with_suffix("")))
        parts = rel.parts[:-1]
        folders.append(["/".join(parts[: k + 1]) for k in range(len(parts))] or ([common.name] if common.name else []))
    return names, folders


def compute(ae, corpus, *, batch: int = 4096, codes: np.ndarray | None = None) -> list[Landmark]:
    """Landmarks of every source file and folder of ``corpus`` under model ``ae``.

    Parameters
    ----------
    ae : Autoencoder (NumPy forward pass)
    corpus : Corpus, analysed as the model's corpus was (every split is used)
    codes : np.ndarray, shape (n_frames, latent), optional
        ``ae.encode`` of every frame of ``corpus``, where the caller has them already (training)

    Returns
    -------
    list of Landmark, folders first (by name), then files (by name); sources without frames are left out
    """
    ae.check_analysis(corpus.analysis)
    z = ae.encode(corpus.S, corpus.pitch, corpus.clip, batch=batch) if codes is None else codes
    z = np.asarray(z, dtype=np.float64)  # (n_frames, latent)
    source = np.asarray(corpus.clip_source)[corpus.clip]  # (n_frames,) source index of each frame
    names, folders = _names(list(corpus.sources))
    members: dict[tuple[str, str], list[int]] = {}
    for i, (name, dirs) in enumerate(zip(names, folders)):
        members.setdefault(("file", name), []).append(i)
        for d in dirs:
            members.setdefault(("folder", d), []).append(i)
    out = []
    for (kind, name), idx in sorted(members.items(), key=lambda kv: (kv[0][0] != "folder", kv[0][1])):
        rows = np.flatnonzero(np.isin(source, idx))
        if len(rows) == 0:
            continue
        zs = z[rows]
        out.append(Landmark(name, kind, int(len(rows)), zs.mean(axis=0), zs.std(axis=0)))
    return out


def names(corpus) -> set[tuple[str, str]]:
    """The ``(kind, name)`` of every landmark :func:`compute` can make of ``corpus`` (without encoding it)."""
    files, folders = _names(list(corpus.sources))
    return {("file", n) for n in files} | {("folder", d) for dirs in folders for d in dirs}


def check_names(old: list[Landmark], planned: set[tuple[str, str]], *, replace: bool = False,
                where: str = "the model") -> None:
    """Refuse to add landmarks ``planned`` (``(kind, name)``, as :func:`names` gives them) whose names
    are already in ``old``, unless ``replace``.

    Raises
    ------
    ParameterError
        Naming the first few that clash.
    """
    clash = sorted({(m.kind, m.name) for m in old} & set(planned))
    if clash and not replace:
        shown = ", ".join(f"{kind} {name!r}" for kind, name in clash[:4]) + (" …" if len(clash) > 4 else "")
        raise ParameterError(f"{len(clash)} of these landmarks are already in {where} ({shown}); --replace replaces them")


def merge(old: list[Landmark], new: list[Landmark], *, replace: bool = False) -> list[Landmark]:
    """``old`` with ``new`` added, folders first, then files (each by name).

    Raises
    ------
    ParameterError
        If a landmark of ``new`` has the kind and name of one in ``old`` and ``replace`` is false
        (:func:`check_names`); with ``replace`` the new one takes its place.
    """
    taken = {(m.kind, m.name) for m in new}
    check_names(old, taken, replace=replace)
    kept = [m for m in old if (m.kind, m.name) not in taken]
    return sorted(kept + list(new), key=lambda m: (m.kind != "folder", m.name))


def write(model_dir: str | os.PathLike, landmarks: list[Landmark], *, latent: int) -> Path:
    """Write ``landmarks.json`` into ``model_dir`` (atomically, replacing an older one)."""
    doc = {"version": VERSION, "latent": int(latent),
           "landmarks": [{"name": m.name, "kind": m.kind, "frames": m.frames,
                          "mean": [round(float(v), 6) for v in m.mean], "std": [round(float(v), 6) for v in m.std]}
                         for m in landmarks]}
    return write_json(Path(model_dir) / FILE, doc, force=True)


def read(model_dir: str | os.PathLike, *, latent: int | None = None) -> list[Landmark]:
    """The model's landmarks; ``[]`` when it has no ``landmarks.json``.

    Raises
    ------
    ModelError
        If the file is damaged (not JSON, another version, a field of the wrong type or length).
    """
    path = Path(model_dir) / FILE
    if not path.exists():
        return []
    doc = read_json(path, error=ModelError, what="landmarks file")
    try:
        if not isinstance(doc, dict) or doc.get("version") != VERSION:
            raise ValueError(f"version {doc.get('version') if isinstance(doc, dict) else None!r}, "
                             f"this manne reads version {VERSION}")
        d = int(doc["latent"])
        if latent is not None and d != latent:
            raise ValueError(f"it is for {d} neurons, the model has {latent}")
        out = []
        for item in doc["landmarks"]:
            mean, std = (np.asarray(item[k], dtype=np.float64) for k in ("mean", "std"))
            if mean.shape != (d,) or std.shape != (d,) or not (np.isfinite(mean).all() and np.isfinite(std).all()):
                raise ValueError(f"landmark {item.get('name')!r} needs {d} finite mean and std values")
            if item["kind"] not in ("file", "folder"):
                raise ValueError(f"landmark {item.get('name')!r} has kind {item['kind']!r}, not file or folder")
            out.append(Landmark(str(item["name"]), item["kind"], int(item["frames"]), mean, std))
        return out
    except (KeyError, TypeError, ValueError) as exc:
        reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ModelError(f"{path}: damaged landmarks file ({reason}); rebuild it with `manne landmarks {model_dir} --replace`") from exc


def short_name(name: str) -> str:
    """A landmark's label on the map and the pad: the last part of its name without a leading number,
    ``"synth1/000_acoustic_grand_piano"`` -> ``"acoustic grand piano"``."""
    base = name.rsplit("/", 1)[-1]
    head, _, rest = base.partition("_")
    if head.isdigit() and rest:
        base = rest
    return base.replace("_", " ")


def _key(text: str) -> str:
    """``text`` for matching: lower case, runs of spaces, ``_`` and ``-`` as one space."""
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


def find(landmarks: list[Landmark], name: str, *, where: str = "the model") -> Landmark:
    """The landmark called ``name``.

    Tried in order: the exact name; the name or its label (:func:`short_name`) ignoring case and
    treating spaces, ``_`` and ``-`` alike (``"church organ"`` finds ``019_church_organ``), folders
    before files; the only name that contains ``name`` (compared the same way).

    Raises
    ------
    ParameterError
        If none or several match (the message lists the closest names).
    """
    exact = [m for m in landmarks if m.name == name]
    if exact:
        return exact[0]
    key = _key(name)
    same = [m for m in landmarks if key in (_key(m.name), _key(short_name(m.name)))]
    if same:
        return same[0]  # folders come first
    part = [m for m in landmarks if key and key in _key(m.name)]
    if len(part) == 1:
        return part[0]
    if not landmarks:
        raise ParameterError(f"{where} has no landmarks (make them with `manne landmarks MODEL CORPUS`)")
    if part:
        raise ParameterError(f"landmark {name!r} is ambiguous: {', '.join(m.name for m in part[:6])}"
                             f"{' …' if len(part) > 6 else ''}")
    names = {_key(m.name): m.name for m in landmarks}
    close = [names[k] for k in difflib.get_close_matches(key, list(names), n=4, cutoff=0.4)]
    hint = f"; closest: {', '.join(close)}" if close else f"; {len(landmarks)} landmarks, e.g. {landmarks[0].name}"
    raise ParameterError(f"no landmark {name!r} in {where}{hint}")
