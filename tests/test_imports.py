"""Lazy imports: the real-time path and the command line load no heavy library they do not use.

Each check runs in a fresh interpreter (this one has long since imported TensorFlow for the tiny
model) and lists what the imports pulled into ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("tensorflow", "keras", "librosa", "scipy", "matplotlib")
LIVE = ("pyaudio", "tkinter")  # loaded by the stream's and the window's functions, never at import


def loaded(code: str, watch: tuple[str, ...]) -> list[str]:
    """The modules of ``watch`` (and their submodules) in ``sys.modules`` after running ``code``."""
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps(sorted({{m for m in sys.modules if m.split('.')[0] in {list(watch)!r}}})))")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_synth_package_imports_no_heavy_library():
    code = "import manne.synth, manne.synth.instrument, manne.synth.stream, manne.synth.presets"
    assert loaded(code, HEAVY + LIVE) == []


@pytest.mark.parametrize("module", ["automation", "blas", "controls", "envelope", "instrument", "presets", "stream",
                                    "limiter", "limits", "pitch", "recorder", "spectral", "voices", "wavetable"])
def test_every_synth_module_imports_no_heavy_library(module):
    assert loaded(f"import manne.synth.{module}", HEAVY + LIVE) == []


def test_first_sound_path_imports_no_heavy_library(tiny_model):
    code = ("import sys\nfrom manne.model.forward import Autoencoder\nfrom manne.synth.instrument import Synth\n"
            f"s = Synth(Autoencoder.load({str(tiny_model)!r})); s.note_on(60); s.process(512)")
    assert loaded(code, HEAVY + LIVE) == []


def test_limits_and_the_synth_commands_import_no_numpy():
    """argparse reads choices and defaults from manne.synth.limits when the command line starts: no NumPy needed."""
    code = ("import manne.synth.limits, manne.commands.render, manne.commands.synth, manne.commands.devices, "
            "manne.benchmarks.synth")
    assert loaded(code, ("numpy",) + HEAVY + LIVE) == []
