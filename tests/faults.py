"""Fault injection for the fault suite (``tests/test_faults_*.py``): a full disk, signals, damaged files.

A full disk needs no root: a child process runs under ``RLIMIT_FSIZE`` with ``SIGXFSZ`` ignored, so a
write past the limit fails with ``EFBIG`` ("File too large"), as one onto a full disk fails with
``ENOSPC``; both take the same path through manne (an ``OSError`` from a write).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from manne.cli import main

MANNE = [sys.executable, "-m", "manne.cli"]
TINY_TRAIN = ["--latent", "2", "--max-width", "64", "--batch", "64", "-q"]  # the conftest's tiny model


def file_size_limit(limit: int):
    """A ``preexec_fn`` that limits the files the child writes to ``limit`` bytes (writes past it fail)."""
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@contextmanager
def file_size_limited(limit: int):
    """This process's files limited to ``limit`` bytes for the block (the soft limit, restored after).

    Cheaper than a child process (no second TensorFlow start-up); a child is still needed where a
    failure could crash the interpreter (the HDF5 library on a full disk).
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def manne(*argv, limit: int | None = None, cwd=None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``manne ARGV`` in a child process (optionally under a file-size limit); its output as text."""
    return subprocess.run(MANNE + [str(a) for a in argv], capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          preexec_fn=file_size_limit(limit) if limit else None)


def start(*argv) -> subprocess.Popen:
    """``manne ARGV`` started in a child process, for signals."""
    return subprocess.Popen(MANNE + [str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, proc: subprocess.Popen, *, timeout: float = 120.0, poll: float = 0.02) -> None:
    """Poll ``predicate()`` until it holds; fail if ``proc`` ends first or the time runs out."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"the command ended (status {proc.returncode}) before the fault: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out waiting for the moment of the fault")
        time.sleep(poll)


def run(capsys, *argv) -> tuple[int, str, str]:
    """``manne ARGV`` in this process: exit status, stdout, stderr."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str, *words: str) -> str:
    """Check a failed command: a non-zero exit of its own (not a signal: no segfault), one line on
    stderr holding ``words``, no traceback. Returns the line."""
    assert code > 0, f"exit status {code} (a negative status is a signal: {-code})\n{err}"
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert len(lines) == 1, err
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


_TEMPORARY = re.compile(r"^\..+\.part(\..*)?$")


def temporaries(folder: Path) -> list[str]:
    """manne's temporary files and folders in ``folder`` (and below it)."""
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if _TEMPORARY.match(p.name))


def dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def stale_name(path: Path) -> Path:
    """A temporary name beside ``path`` as a killed manne run (now dead) would have left it."""
    from manne.io.files import temporary_prefix

    prefix = temporary_prefix(path).replace(f"-{os.getpid()}-", f"-{dead_pid()}-")
    return path.parent / f"{prefix}k1ll3d_x.part{''.join(path.suffixes)}"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def model_files(folder: Path) -> dict[str, bytes]:
    """:func:`snapshot` of a model directory without the ``.next/`` of a ``--force`` run that has not replaced it yet."""
    return {name: data for name, data in snapshot(folder).items() if not name.startswith(".next/")}


def copy_model(model: Path, to: Path) -> Path:
    shutil.copytree(model, to)
    return to


@contextmanager
def read_only(folder: Path):
    """``folder`` cannot take new files for the block: ``chmod a-w``, or for root (whom permissions do
    not stop) the immutable attribute (``chattr +i``); skips the test where neither is possible."""
    import pytest

    folder = Path(folder)
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(mode & ~0o222)
        try:
            yield
        finally:
            folder.chmod(mode)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("cannot make a folder read-only for root here (no chattr +i)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def fifo(path: Path) -> Path:
    """A named pipe at ``path`` (in place of a file there): reading it waits for a writer for ever."""
    path = Path(path)
    if path.exists():
        path.unlink()
    os.mkfifo(path)
    return path
