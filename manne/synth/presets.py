"""Synth presets: a model, a latent position, a note, a volume and a synthesis method (key "phase"), saved as JSON.

A preset file looks like::

    {"version": 1, "model": "/path/to/trained/default", "z": [0.31, 0.72],
     "note": "E", "volume": 0.8, "phase": "noise"}

``model`` is stored as given; a relative path is read relative to the preset file's folder.
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
from manne.synth.limits import METHODS, PHASE_DEFAULT, VOLUME_DEFAULT, check_latent_range, check_method, check_volume

__all__ = ["Preset", "validate", "save_preset", "load_preset", "PRESET_VERSION", "PHASE_MODES", "REQUIRED_KEYS"]

PRESET_VERSION = 1
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
    """

    model: str
    z: tuple[float, ...]
    note: str = "C"
    volume: float = VOLUME_DEFAULT
    phase: str = PHASE_DEFAULT
    version: int = field(default=PRESET_VERSION)

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", str(self.model))
        object.__setattr__(self, "z", tuple(float(v) for v in self.z))
        object.__setattr__(self, "note", NOTE_NAMES[note_index(self.note)])
        object.__setattr__(self, "volume", float(self.volume))

    @property
    def note_index(self) -> int:
        """The note as a pitch class, 0-11 (C=0)."""
        return note_index(self.note)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "model": self.model, "z": list(self.z), "note": self.note,
                "volume": self.volume, "phase": self.phase}


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
    if not isinstance(d["model"], str) or not d["model"]:
        raise ParameterError(f"{where}: model={d['model']!r} must be a model directory path")
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
    return Preset(model=d["model"], z=z, note=note, volume=volume, phase=phase)


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
    except (ManneError, KeyError, TypeError, ValueError):
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
        If the file is missing, not JSON, or a field breaks its rule (the message names both).
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"{path}: no such preset file")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{path}: not a valid JSON preset ({exc})") from exc
    if isinstance(d, dict) and isinstance(d.get("model"), str) and d["model"]:
        model = Path(d["model"]).expanduser()
        if not model.is_absolute():
            model = path.parent / model
        d = {**d, "model": str(model)}
    if ae is not None:
        return validate(d, where=str(path), latent=ae.latent, latent_range=ae.latent_range)
    latent = _model_latent(Path(d["model"])) if isinstance(d, dict) and isinstance(d.get("model"), str) and d["model"] else None
    return validate(d, where=str(path), latent=latent)
