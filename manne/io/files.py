"""Files a user keeps: atomic writes, JSON and CSV reads that fail with one clear line.

Every file manne writes goes to a temporary name beside its destination and is renamed into
place, so an interrupted run never leaves half a file. Every file manne reads through here turns
the parser's ``ValueError``, ``KeyError`` or ``UnicodeDecodeError`` into a :class:`ManneError`
subclass that names the file and the problem: the error boundary between a user's files and the
code.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from manne.errors import ManneError, OutputExistsError

__all__ = ["atomic_path", "temporary_beside", "renamed", "check_room", "check_new", "check_writable", "interrupts_deferred", "stale_temporaries", "remove_stale_temporaries",
           "read_json", "write_json", "read_csv_rows", "mute_stderr"]


# Our temporary names: ".NAME.<host>-<pid>-<random>.part<suffixes>" beside the output. The host and the
# process id say whether the run that made one is still alive; a dead run's are removed (stale_temporaries).
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<host>[0-9a-f]{4})-(?P<pid>\d+)-[A-Za-z0-9_]{8}\.part(\.[^/]*)?$")
# earlier versions named them ".NAME.<random>.part<suffixes>", without a process id: removed once an hour old
_LEGACY_TEMP = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.part(\.[^/]*)?$")
_LEGACY_AGE = 3600.0
_cleaned: set[str] = set()  # folders already cleaned by this process


def _host() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:4]


_NAME_MAX = 255  # bytes in a file name (ext4, APFS, NTFS)
_SUFFIX_MAX = 40  # the suffixes a temporary name keeps (.weights.npz); longer ones are dropped


def _temporary_suffix(path: str | os.PathLike) -> str:
    """The suffixes of ``path`` that its temporary names keep (libraries check ``.keras``, ``.npz``)."""
    suffixes = "".join(Path(path).suffixes)
    if len(suffixes.encode()) > _SUFFIX_MAX:
        suffixes = Path(path).suffix if len(Path(path).suffix.encode()) <= _SUFFIX_MAX else ""
    return suffixes


def temporary_prefix(path: str | os.PathLike) -> str:
    """The start of this process's temporary names for ``path`` (``.NAME.<host>-<pid>-``).

    ``NAME`` is cut short where the whole temporary name (with 8 random characters, ``.part`` and
    the suffixes) would pass 255 bytes, so any legal output name can be written.
    """
    name = Path(path).name
    tail = f".{_host()}-{os.getpid()}-"
    room = _NAME_MAX - 1 - len(tail) - 8 - len(".part") - len(_temporary_suffix(path).encode())
    if len(name.encode()) > room:
        name = name.encode()[:room].decode(errors="ignore")
    return f".{name}{tail}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Temporary files and folders that killed manne runs left in ``folder`` (only manne's own names).

    A name counts when it has manne's temporary pattern and the process that made it, on this host,
    is gone (or, for the names earlier versions gave, when it is more than an hour old).
    """
    folder = Path(folder)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    host, now, out = _host(), time.time(), []
    for name in names:
        m = _TEMP.match(name)
        if m:
            if m["host"] == host and not _alive(int(m["pid"])):
                out.append(folder / name)
        elif _LEGACY_TEMP.match(name):
            try:
                if now - os.lstat(folder / name).st_mtime > _LEGACY_AGE:
                    out.append(folder / name)
            except OSError:
                pass
    return out


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove :func:`stale_temporaries` from ``folder`` (once per folder and process); returns what went."""
    key = os.path.abspath(folder)
    if key in _cleaned:
        return []
    _cleaned.add(key)
    removed = []
    for p in stale_temporaries(folder):
        try:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
        except OSError:  # another run removed it, or it is not ours to remove: leave it
            pass
    return removed


def renamed(exc: OSError, temporary: str | os.PathLike, path: str | os.PathLike) -> OSError:
    """``exc`` naming ``path`` where it names the ``temporary`` that stands for it: users know the output.

    An error naming the temporary file or folder itself, the temporary with a suffix a library added
    (``.npz``), or nothing, names ``path``; one naming a file inside a temporary folder names that file
    inside ``path``. Any other error (and one without an errno) is returned as it is.
    """
    name = exc.filename
    if exc.errno is None or not isinstance(name, (str, bytes, os.PathLike, type(None))):
        return exc
    if name is None:
        target = str(path)
    else:
        tmp, name = os.path.realpath(temporary), os.path.realpath(os.fsdecode(name))
        if name.startswith(tmp + os.sep):
            target = os.path.join(path, os.path.relpath(name, tmp))
        elif name.startswith(tmp):
            target = str(path)
        else:
            return exc
    if target == exc.filename:
        return exc
    return type(exc)(exc.errno, exc.strerror or os.strerror(exc.errno), target)


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) for the block; raise :class:`KeyboardInterrupt` after it if one came.

    A library interrupted inside a write (zipfile, HDF5) can fail in its own clean-up with an error
    that hides the interrupt; holding it makes the write all or nothing. Only in the main thread,
    and only while Python's default handler is in place (otherwise the block runs as it is).
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def temporary_beside(path: str | os.PathLike, *, folder: bool = False) -> Path:
    """Create an empty temporary file (or ``folder``) beside ``path``, named as manne's temporaries are.

    The suffixes of ``path`` are kept (``.weights.h5``, ``.keras``) so libraries that check them
    accept the temporary name. Stale temporaries of killed runs in that folder are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    prefix = temporary_prefix(path)
    try:  # (a folder that cannot take it: the error names the user's file, not the temporary one)
        if folder:
            return Path(tempfile.mkdtemp(prefix=prefix, suffix=".part", dir=path.parent))
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".part" + _temporary_suffix(path), dir=path.parent)
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, str(path)) from exc
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the permissions a plain open() would
    return Path(tmp)


@contextmanager
def atomic_path(path: str | os.PathLike, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place only on success.

    An interrupted or failed write never leaves a partial file at ``path``: Ctrl-C during the block
    is held until it ends (:func:`interrupts_deferred`) and then discards the temporary file, as any
    error does. An :class:`OSError` (a full disk, a file-size limit) names ``path``, not the
    temporary name. Temporary files that killed runs left beside ``path`` are removed first
    (:func:`remove_stale_temporaries`).

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``force`` is false.
    OSError
        Naming ``path``, if it cannot be written.
    """
    path = Path(path)
    check_new([path], force=force)
    tmp_path = temporary_beside(path)
    try:
        with interrupts_deferred():
            yield tmp_path
        os.replace(tmp_path, path)
    except OSError as exc:
        raise renamed(exc, tmp_path, path) from exc
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def check_room(path: str | os.PathLike, nbytes: int) -> None:
    """Refuse, before writing, a file of about ``nbytes`` that the disk (free space) or the file-size
    limit (``ulimit -f``) cannot take: for writers that fail badly when a write fails (HDF5).

    Raises
    ------
    OSError
        ``ENOSPC`` or ``EFBIG``, naming ``path``.
    """
    path = Path(path)
    try:
        st = os.statvfs(path.parent)
        free = st.f_bavail * st.f_frsize
    except (OSError, AttributeError):  # no statvfs: the write itself will tell
        free = None
    if free is not None and nbytes > free:
        raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} (about {nbytes / 1e6:.1f} MB needed, "
                      f"{free / 1e6:.1f} MB free)", str(path))
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    except (ImportError, OSError):
        return
    if soft != resource.RLIM_INFINITY and nbytes > soft:
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG), str(path))


def check_new(paths, *, force: bool, verb: str = "overwrite") -> None:
    """Refuse to replace an existing output unless ``force``: before the work, as the writes would.

    Raises
    ------
    OutputExistsError
        Naming the first of ``paths`` that exists.
    """
    if force:
        return
    for path in paths:
        if Path(path).exists():
            raise OutputExistsError(f"{path} exists; use --force to {verb} it")


def check_writable(path: str | os.PathLike, *, folder: bool = False) -> None:
    """Check, before any work, that ``path`` (a file to write, or with ``folder`` a folder to fill)
    can be written: its nearest existing folder must be a folder that takes a new file.

    Raises
    ------
    OSError
        Naming that folder (permission denied, a read-only or full disk, a file in the way).
    """
    target = Path(path) if folder else Path(path).parent
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(existing))
    try:
        fd, probe = tempfile.mkstemp(prefix=temporary_prefix(target / "write-test"), suffix=".part", dir=existing)
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, str(existing)) from exc
    try:
        os.write(fd, b"\0")
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, str(existing)) from exc
    finally:
        os.close(fd)
        os.unlink(probe)


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
        If the file is missing, not a regular file (a pipe, which would block), not UTF-8 or not JSON.
    """
    p = Path(path)
    if p.exists() and not p.is_file():  # a pipe would block the read forever
        raise error(f"{p}: a pipe, folder or device, not a {what} (reading a pipe would wait for ever)")
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
    if p.exists() and not p.is_file():
        raise error(f"{p}: not a regular file (a folder, pipe or device); give a {what}")
    try:
        with open(p, newline="", encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError as exc:
        raise error(f"{p}: no such {what}") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{p}: the {what} is not CSV text ({str(exc)[:120]})") from exc
    if "\0" in text:
        raise error(f"{p}: the {what} is not CSV text (it holds NUL bytes: a binary file)")
    try:
        rows = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
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
