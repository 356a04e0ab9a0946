"""Lazy imports: the real-time path and the command line load no heavy library they do not use.

Each check runs in a fresh interpreter (this one has long since imported TensorFlow for the tiny
model) and lists what the imports pulled into ``sys.modules``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

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


def import_graph(package: Path) -> dict[str, set[str]]:
    """Every module of ``package`` -> the package's modules it imports, at the top or inside a function."""
    root = package.parent
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(here.split(".")[: len(here.split(".")) - node.level + 1] if node.level else [])
                base = ".".join(p for p in (base, node.module or "") if p)
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            for t in targets:
                while t and t not in modules:  # a name imported from a module: the module
                    t = t.rpartition(".")[0]
                if t and t != name:
                    graph[name].add(t)
    return graph


def loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import loops of ``graph``: its strongly connected parts of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while not part or part[-1] != v:
                part.append(stack.pop())
            if len(part) > 1:
                found.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_package_has_no_import_loop():
    """Drawn from every import (a function's too), the package's modules form no loop: what several
    commands share lives below them (the default model in manne.io.settings, the live options in
    manne.commands.live)."""
    graph = import_graph(Path(__file__).resolve().parent.parent / "manne")
    assert "manne.io.settings" in graph["manne.commands.synth"] and "manne.commands.live" in graph["manne.commands.synth"]
    assert loops(graph) == []


def test_the_loop_finder_finds_a_loop():
    assert loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert loops({"a": {"b"}, "b": set()}) == []
