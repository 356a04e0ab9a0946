"""``manne synth [MODEL_DIR]``: open the synth window on a model and play it live.

The model loads with the NumPy forward pass (:mod:`manne.model.forward`), never TensorFlow, so the first
sound comes within a second of the command.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_MODEL = Path("trained") / "default"


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("synth", help="play a model live in a window",
                       description="Open the synth window: one slider per latent neuron, a note keyboard "
                       "(keys A W S E D F T G Y H U J), recording and rendering to WAV, presets. "
                       "Starts playing at once.")
    p.add_argument("model", nargs="?", metavar="MODEL_DIR",
                   help=f"model directory (default: {DEFAULT_MODEL} in the repository or the current folder)")
    p.add_argument("--device", help="output device, index or name (see `manne devices`; default: the system's)")
    from manne.synth.controls import BLOCK_MAX, BLOCK_MIN, METHODS

    p.add_argument("--buffer", type=int, default=256, help="frames per audio buffer, 256..2048 (default 256: lowest latency)")
    p.add_argument("--hop", type=int, default=128,
                   help=f"samples per synthesis block, {BLOCK_MIN}..{BLOCK_MAX}: events and timbre changes land on block "
                   "boundaries (default 128, 2.9 ms)")
    p.add_argument("--method", "--phase", dest="method", choices=METHODS, default="harmonic",
                   help="synthesis: harmonic (wavetables at the exact pitch, default), noise (the paper's noise-phase "
                   "inverse STFT), coherent (inverse STFT with the phase locked to the partials)")
    p.add_argument("--hold", action="store_true", help="hold mode: a key starts a drone that lasts until the next key")
    p.add_argument("--preset", metavar="FILE", help="start from a preset saved by the synth (.json)")
    return p


def default_model_dir() -> Path:
    """``trained/default`` beside the package (a source checkout), else in the current folder."""
    import manne

    repo = Path(manne.__file__).resolve().parent.parent / DEFAULT_MODEL
    here = Path.cwd() / DEFAULT_MODEL
    return repo if repo.is_dir() or not here.is_dir() else here


def check_display(environ=None, platform: str | None = None) -> None:
    """Raise ManneError when an X11/Wayland platform has no display to open a window on."""
    from manne.errors import ManneError

    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "cygwin", "darwin")):
        return
    if not environ.get("DISPLAY") and not environ.get("WAYLAND_DISPLAY"):
        raise ManneError("no display: the synth needs a desktop session (for headless use, try `manne render`)")


def run(args) -> int:
    from manne.errors import ManneError, ModelError, ParameterError

    check_display()
    if args.preset and not Path(args.preset).is_file():
        raise ParameterError(f"--preset {args.preset}: no such file")
    model = Path(args.model) if args.model else None
    if model is None and args.preset:  # a preset names its model: play that one
        from manne.synth.presets import load_preset

        saved = Path(load_preset(args.preset).model)
        model = saved if saved.is_dir() else None
    model = model or default_model_dir()
    if not model.is_dir():
        raise ModelError(f"no model at {model}; train one with `manne train` or pass MODEL_DIR")
    from manne.synth.controls import BLOCK_MAX, BLOCK_MIN
    from manne.synth.stream import BUFFER_MAX, BUFFER_MIN

    if not BUFFER_MIN <= args.buffer <= BUFFER_MAX:
        raise ParameterError(f"--buffer {args.buffer} must be from {BUFFER_MIN} to {BUFFER_MAX} frames")
    if not BLOCK_MIN <= args.hop <= BLOCK_MAX:
        raise ParameterError(f"--hop {args.hop} must be from {BLOCK_MIN} to {BLOCK_MAX} samples")
    device = int(args.device) if args.device is not None and args.device.strip().isdigit() else args.device
    try:
        from manne.gui import window as gui
    except ImportError as exc:  # tkinter is a separate system package on some Linux distributions
        raise ManneError(f"Tk is not available ({exc}); install your Python's tkinter (e.g. python3-tk)") from exc
    return gui.main(model, device=device, buffer=args.buffer, block=args.hop, method=args.method, hold=args.hold,
                    preset=args.preset)
