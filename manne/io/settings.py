"""The musician's own settings, kept between sessions: where recordings and renders go, and the model played by default.

One small JSON file in the user's configuration folder (``$XDG_CONFIG_HOME/manne/settings.json``,
else ``~/.config/manne/settings.json``; ``MANNE_CONFIG`` overrides the whole path). Recordings and
renders default to ``~/Music/manne`` (``~/manne`` where there is no ``~/Music``), never into the
folder the program was started from. A damaged or unreadable settings file is ignored (the
defaults apply) and replaced at the next save: settings are a convenience, never a reason to fail.
The model a command plays when none is named is :data:`DEFAULT_MODEL` (:func:`default_model_dir`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from manne.io.files import write_json

__all__ = ["settings_path", "default_output_folder", "load_settings", "save_settings", "output_folder",
           "remember_output_folder", "DEFAULT_MODEL", "default_model_dir"]

DEFAULT_MODEL = Path("trained") / "default"  # the bundled model, relative to the repository or the current folder


def default_model_dir() -> Path:
    """:data:`DEFAULT_MODEL` beside the package (a source checkout), else in the current folder.

    Returns
    -------
    Path, which may not exist (the commands say so in one line)
    """
    repo = Path(__file__).resolve().parents[2] / DEFAULT_MODEL  # manne/io/settings.py -> the checkout
    here = Path.cwd() / DEFAULT_MODEL
    return repo if repo.is_dir() or not here.is_dir() else here


def settings_path() -> Path:
    """The settings file's path (it may not exist yet)."""
    if os.environ.get("MANNE_CONFIG"):
        return Path(os.environ["MANNE_CONFIG"])
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "manne" / "settings.json"


def default_output_folder() -> Path:
    """``~/Music/manne``, or ``~/manne`` where the home folder has no ``Music``."""
    home = Path(os.path.expanduser("~"))
    return (home / "Music" / "manne") if (home / "Music").is_dir() else (home / "manne")


def load_settings() -> dict:
    """The saved settings, ``{}`` if there are none or they cannot be read."""
    try:
        data = json.loads(settings_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_settings(settings: dict) -> bool:
    """Write ``settings`` atomically; False (and nothing written) if the folder is not writable."""
    path = settings_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, settings, force=True)
    except OSError:
        return False
    return True


def output_folder() -> Path:
    """The folder recordings and renders are offered in: the last one used, else the default; created."""
    saved = load_settings().get("output_folder")
    folder = Path(saved) if isinstance(saved, str) and saved else default_output_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # gone or read-only: the default, else the home folder itself
        folder = default_output_folder()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            folder = Path(os.path.expanduser("~"))
    return folder


def remember_output_folder(path: str | os.PathLike) -> None:
    """Remember the folder of ``path`` (a file just written) for the next dialog."""
    folder = Path(path).expanduser().resolve().parent
    settings = load_settings()
    if settings.get("output_folder") != str(folder):
        settings["output_folder"] = str(folder)
        save_settings(settings)
