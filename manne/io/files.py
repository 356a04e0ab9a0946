"""Files a user keeps: atomic writes, JSON and CSV reads that fail with one clear line.

Every file manne writes goes to a temporary name beside its destination and is renamed into
place, so an interrupted run never leaves half a file. Every file manne reads through here turns
the parser's ``ValueError``, ``KeyError`` or ``UnicodeDecodeError`` into a :class:`ManneError`
subclass that names the file and the problem: the error boundary between a user's files and the
code.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from manne.errors import ManneError, OutputExistsError

__all__ = ["atomic_path", "read_json", "write_json", "read_csv_rows", "mute_stderr"]


@contextmanager
def atomic_path(path: str | os.PathLike, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place only on success.

    An interrupted or failed write never leaves a partial file at ``path``.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``force`` is false.
    """
    path = Path(path)
    if path.exists() and not force:
        raise OutputExistsError(f"{path} exists; use --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    # keep the full suffix (".weights.h5", ".keras") so libraries that check it accept the temporary name
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + "".join(path.suffixes), dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the permissions a plain open() would
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def read_json(path: str | os.PathLike, *, error: type[ManneError] = ManneError, what: str = "file") -> Any:
    """Parse a JSON file; any decoding problem raises ``error`` naming the file.

    Parameters
    ----------
    path : the file
    error : the :class:`ManneError` subclass to raise (``ModelError`` for a model directory, ...)
    what : what the file is, for the message (``"training state"``)

    Raises
    ------
    error
        If the file is missing, not UTF-8 or not JSON.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error(f"{p}: no such {what}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{p}: the {what} is not UTF-8 text (byte {exc.start}); it is damaged") from exc
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise error(f"{p}: the {what} is not valid JSON ({str(exc)[:120]})") from exc


def write_json(path: str | os.PathLike, obj: Any, *, force: bool = True) -> Path:
    """Write ``obj`` as indented JSON, atomically; returns the path."""
    text = json.dumps(obj, indent=2) + "\n"
    with atomic_path(path, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def read_csv_rows(path: str | os.PathLike, *, error: type[ManneError] = ManneError, what: str = "CSV file") -> list[list[str]]:
    """All rows of a text CSV file (cells stripped, blank lines and ``#`` comments dropped).

    Raises
    ------
    error
        If the file is missing, not UTF-8 text or holds NUL bytes (a binary file).
    """
    p = Path(path)
    try:
        with open(p, newline="", encoding="utf-8") as fh:
            rows = [[c.strip() for c in row] for row in csv.reader(fh)]
    except FileNotFoundError as exc:
        raise error(f"{p}: no such {what}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise error(f"{p}: the {what} is not CSV text ({str(exc)[:120]})") from exc
    return [r for r in rows if any(r) and not r[0].startswith("#")]


@contextmanager
def mute_stderr() -> Iterator[None]:
    """Mute file descriptor 2 for the block: native libraries (ALSA, JACK, TensorFlow's C++ start-up)
    print pages of chatter there that Python's ``sys.stderr`` cannot catch."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to mute
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
