"""Synth presets: a model, a latent position, a note, a volume and a synthesis method (key "phase"), saved as JSON.

A preset file looks like::

    {"version": 1, "model": "/path/to/trained/default", "z": [0.31, 0.72],
     "note": "E", "volume": 0.8, "phase": "noise", "midi": {"74": "z1", "7": "volume"}}

``model`` is stored as given; a relative path is read relative to the preset file's folder.
``midi`` (optional; absent in older presets, which still load) maps MIDI control change numbers
(0-127) to what they move: a slider ``"z1"`` .. ``"zd"`` (1-based, as the sliders are labelled) or
``"volume"`` (MIDI learn, :mod:`manne.control.session`).
The enums and limits (the synthesis methods, the volume, the latent-range check) are those of
:mod:`manne.synth.limits`. This module imports the standard library and :mod:`manne.dsp` names
only (no Tk, no PyAudio).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from manne.dsp import NOTE_NAMES, note_index
from manne.errors import ManneError, ParameterError
from manne.io.files import atomic_path
from manne.synth.limits import METHOD_DEFAULT, METHODS, VOLUME_DEFAULT, check_latent_range, check_method, check_volume

__all__ = ["Preset", "validate", "save_preset", "load_preset", "check_cc_map", "PRESET_VERSION", "PHASE_MODES",
           "REQUIRED_KEYS"]

PRESET_VERSION = 1
PRESET_MAX_BYTES = 1_000_000  # a preset is a few hundred bytes
PATH_MAX, NAME_MAX = 4096, 255  # the longest path and path component a system takes (Linux; macOS: 1024, 255)
PHASE_MODES = METHODS  # a preset's "phase" is the synthesis method (manne 0.1 saved noise or coherent)
REQUIRED_KEYS = ("model", "z", "note", "volume", "phase")


@dataclass(frozen=True)
class Preset:
    """One synth setting.

    Attributes
    ----------
    model : str, the model directory
    z : tuple of float, shape (latent,)
    note : str, a name from ``NOTE_NAMES`` ("C" .. "B")
    volume : float in [0, 1]
    phase : str, one of ``PHASE_MODES``
    midi : tuple of (int, str), the MIDI-learn map: control change number -> ``"z1"`` .. or ``"volume"``
    """

    model: str
    z: tuple[float, ...]
    note: str = "C"
    volume: float = VOLUME_DEFAULT
    phase: str = METHOD_DEFAULT
    version: int = field(default=PRESET_VERSION)
    midi: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", str(self.model))
        object.__setattr__(self, "z", tuple(float(v) for v in self.z))
        object.__setattr__(self, "note", NOTE_NAMES[note_index(self.note)])
        object.__setattr__(self, "volume", float(self.volume))
        object.__setattr__(self, "midi", check_cc_map(self.midi))

    @property
    def note_index(self) -> int:
        """The note as a pitch class, 0-11 (C=0)."""
        return note_index(self.note)

    def to_dict(self) -> dict[str, Any]:
        d = {"version": self.version, "model": self.model, "z": list(self.z), "note": self.note,
             "volume": self.volume, "phase": self.phase}
        if self.midi:
            d["midi"] = {str(cc): target for cc, target in self.midi}
        return d


def check_cc_map(m: Any, *, latent: int | None = None, where: str = "preset") -> tuple[tuple[int, str], ...]:
    """A MIDI-learn map as sorted ``((cc, target), ...)``; ``m`` is a dict (JSON keys are strings) or pairs.

    ``cc`` is a control change number 0-127; ``target`` is ``"volume"`` or ``"z1"`` .. ``"zd"``
    (``d = latent`` when given). Raises :class:`ParameterError` naming the entry and the rule.
    """
    items = m.items() if isinstance(m, dict) else m
    try:
        items = [(k, v) for k, v in items]
    except (TypeError, ValueError):
        raise ParameterError(f"{where}: midi={m!r} must map control change numbers to targets") from None
    out: dict[int, str] = {}
    for cc, target in items:
        num = int(cc) if isinstance(cc, str) and cc.strip().isdigit() else cc
        if isinstance(num, bool) or not isinstance(num, int) or not 0 <= num <= 127:
            raise ParameterError(f"{where}: midi control {cc!r} must be a control change number from 0 to 127")
        ok = target == "volume" or (isinstance(target, str) and target[:1] == "z" and target[1:].isdigit()
                                    and int(target[1:]) >= 1 and (latent is None or int(target[1:]) <= latent))
        if not ok:
            d = "d" if latent is None else str(latent)
            raise ParameterError(f"{where}: midi control {num} -> {target!r} must be volume or z1 .. z{d}")
        out[num] = target
    return tuple(sorted(out.items()))


def _check_model_path(model: Any, where: str) -> None:
    """A path the system can take: a non-empty string without NUL, at most PATH_MAX long, NAME_MAX a part."""
    if not isinstance(model, str) or not model:
        raise ParameterError(f"{where}: model={str(model)[:60]!r} must be a model directory path")
    if "\0" in model:
        raise ParameterError(f"{where}: model={model[:60]!r} holds a NUL character; it is not a path")
    if len(model.encode("utf-8", "surrogateescape")) > PATH_MAX:
        raise ParameterError(f"{where}: model is a path of {len(model)} characters; a path has at most {PATH_MAX}")
    longest = max(model.split("/"), key=len)
    if len(longest.encode("utf-8", "surrogateescape")) > NAME_MAX:
        raise ParameterError(f"{where}: model has a folder name of {len(longest)} characters; a name has at most {NAME_MAX}")


def _check_z(z: Any, where: str) -> tuple[float, ...]:
    if not isinstance(z, (list, tuple)) or not z:
        raise ParameterError(f"{where}: z={z!r} must be a non-empty list of numbers")
    out = []
    for i, v in enumerate(z):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ParameterError(f"{where}: z[{i}]={v!r} must be a finite number")
        out.append(float(v))
    return tuple(out)


def validate(d: dict, *, where: str = "preset", latent: int | None = None,
             latent_range: Sequence[Sequence[float]] | None = None) -> Preset:
    """Check a preset's fields and return it as a :class:`Preset`.

    Parameters
    ----------
    d : dict, the preset's JSON object
    where : str, names the preset in error messages (usually its path)
    latent : int, optional, the model's number of latent neurons; ``len(z)`` must equal it
    latent_range : array-like, shape (2, latent), optional; each ``z[i]`` must lie within it
        (:func:`manne.synth.limits.check_latent_range`)

    Raises
    ------
    ParameterError
        Naming the field, its value and the rule it breaks.
    """
    if not isinstance(d, dict):
        raise ParameterError(f"{where}: a preset is a JSON object, not {type(d).__name__}")
    version = d.get("version", PRESET_VERSION)
    if version != PRESET_VERSION:
        raise ParameterError(f"{where}: preset version {version!r}; this manne reads version {PRESET_VERSION}")
    missing = [k for k in REQUIRED_KEYS if k not in d]
    if missing:
        raise ParameterError(f"{where}: preset lacks {', '.join(missing)} (needs {', '.join(REQUIRED_KEYS)})")
    _check_model_path(d["model"], where)
    z = _check_z(d["z"], where)
    if latent is not None and len(z) != latent:
        raise ParameterError(f"{where}: z has {len(z)} values; the model has {latent} latent neurons")
    if latent_range is not None:
        check_latent_range(z, latent_range[0], latent_range[1], where=where)
    try:
        if isinstance(d["note"], bool) or not isinstance(d["note"], (str, int)):
            raise ParameterError
        note = NOTE_NAMES[note_index(d["note"])]
    except ParameterError:
        raise ParameterError(f"{where}: note={d['note']!r} is not a note name; use one of {', '.join(NOTE_NAMES)}") from None
    try:
        volume = check_volume(d["volume"])
        phase = check_method(d["phase"], name="phase")
    except ParameterError as exc:
        raise ParameterError(f"{where}: {exc}") from None
    midi = check_cc_map(d.get("midi") or {}, latent=latent if latent is not None else len(z), where=where)
    return Preset(model=d["model"], z=z, note=note, volume=volume, phase=phase, midi=midi)


def save_preset(path: str | os.PathLike, preset: Preset | dict, *, force: bool = True) -> Path:
    """Write a preset as JSON, atomically.

    Parameters
    ----------
    path : the ``.json`` file to write
    preset : a :class:`Preset` or its dict form (checked with :func:`validate`)
    force : overwrite an existing file (default true: the GUI's save dialog already asked)

    Raises
    ------
    ParameterError
        If the preset is invalid.
    OutputExistsError
        If ``path`` exists and ``force`` is false.
    """
    if not isinstance(preset, Preset):
        preset = validate(preset, where=str(path))
    path = Path(path)
    with atomic_path(path, force=force) as tmp:
        tmp.write_text(json.dumps(preset.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def _model_latent(model: Path) -> int | None:
    """The latent size in a model directory's config, or None if it cannot be read."""
    from manne.model.modeldir import read_config

    try:
        return int(read_config(model)["model"]["latent"])
    except (ManneError, OSError, KeyError, TypeError, ValueError):
        return None


def load_preset(path: str | os.PathLike, *, ae=None) -> Preset:
    """Read and check a preset file.

    Parameters
    ----------
    path : the preset's ``.json`` file
    ae : :class:`manne.model.forward.Autoencoder`, optional
        The model the preset will be played on: ``z`` must have ``ae.latent`` values inside
        ``ae.latent_range``. Without it, ``z`` is checked against the model directory the preset
        names, when that directory can be read.

    Returns
    -------
    Preset, with ``model`` resolved against the preset file's folder when it is relative.

    Raises
    ------
    ParameterError
        If the file is missing, not a regular file, over :data:`PRESET_MAX_BYTES`, not JSON (or too
        deeply nested, or a number of thousands of digits), or a field breaks its rule (the message
        names both): whatever its content, a preset raises nothing else (the window catches
        :class:`~manne.errors.ManneError` and ``OSError``).
    """
    path = Path(path)
    if not path.exists():
        raise ParameterError(f"{path}: no such preset file")
    if not path.is_file():  # a folder, or a pipe that would wait for ever
        raise ParameterError(f"{path}: not a regular file; a preset is a .json file")
    if path.stat().st_size > PRESET_MAX_BYTES:
        raise ParameterError(f"{path}: {path.stat().st_size} bytes; a preset is at most {PRESET_MAX_BYTES} (is it a preset?)")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # (ValueError: also a 5000-digit number)
        raise ParameterError(f"{path}: not a valid JSON preset ({str(exc)[:120]})") from exc
    if isinstance(d, dict) and "model" in d:
        _check_model_path(d["model"], str(path))  # before any use of it as a path
        if isinstance(d.get("model"), str):
            try:
                model = Path(d["model"]).expanduser()
            except RuntimeError:  # ~user of no such user: the path as written
                model = Path(d["model"])
            if not model.is_absolute():
                model = path.parent / model
            d = {**d, "model": str(model)}
    if ae is not None:
        return validate(d, where=str(path), latent=ae.latent, latent_range=ae.latent_range)
    latent = _model_latent(Path(d["model"])) if isinstance(d, dict) and isinstance(d.get("model"), str) and d["model"] else None
    return validate(d, where=str(path), latent=latent)
