"""``scripts/setup.sh`` installs once: ``setup.sh test`` installs everything ``setup.sh`` (play) and
``setup.sh install`` need, so running one after the other does not reinstall.

The script runs on a copy of the repository's ``setup.sh`` and ``setup.py`` with a stand-in
``.venv/bin/python`` that records pip calls (and runs nothing else), and a PATH without the package
managers (their checks are the machine's business, not this test's).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("bash", "cat", "rm", "grep", "dirname", "uname", "id")


@pytest.fixture
def sandbox(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup.sh", tmp_path / "scripts" / "setup.sh")
    shutil.copy(ROOT / "setup.py", tmp_path / "setup.py")
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    log = tmp_path / "pip.log"
    fake = venv / "python"  # pip calls are logged; pytest and the rest do nothing
    fake.write_text(f'#!/bin/sh\nif [ "$1 $2" = "-m pip" ]; then echo "$@" >> "{log}"; fi\nexit 0\n')
    fake.chmod(0o755)
    (venv / "manne").symlink_to(fake)
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for tool in TOOLS:
        (bin_ / tool).symlink_to(shutil.which(tool))
    (bin_ / "python3").symlink_to(sys.executable)
    return tmp_path, log, {"PATH": str(bin_), "HOME": str(tmp_path)}


def setup(sandbox, mode) -> int:
    """Run ``setup.sh MODE``; the number of pip calls it made."""
    root, log, env = sandbox
    before = len(log.read_text().splitlines()) if log.exists() else 0
    res = subprocess.run(["bash", "scripts/setup.sh", mode], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return len(log.read_text().splitlines()) - before if log.exists() else 0


def test_test_then_play_installs_once(sandbox):
    assert setup(sandbox, "test") > 0
    assert setup(sandbox, "play") == 0
    assert setup(sandbox, "install") == 0
    assert setup(sandbox, "test") == 0


def test_play_then_test_installs_the_test_tools(sandbox):
    assert setup(sandbox, "install") > 0
    assert setup(sandbox, "play") == 0
    assert setup(sandbox, "test") > 0  # pytest and the test extras are not part of play
    assert setup(sandbox, "play") == 0


def test_a_changed_setup_py_reinstalls(sandbox):
    root, _, _ = sandbox
    assert setup(sandbox, "test") > 0
    with open(root / "setup.py", "a") as fh:
        fh.write("# a new dependency\n")
    assert setup(sandbox, "play") > 0
