"""``manne synth [MODEL_DIR]``: open the synth window on a model and play it live.

The model loads with the NumPy forward pass (:mod:`manne.model.forward`), never TensorFlow, so the first
sound comes within a second of the command.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from manne.commands.live import add_live_options, run_live
from manne.io.settings import DEFAULT_MODEL, default_model_dir
from manne.synth.limits import (BLOCK_DEFAULT, BLOCK_MAX, BLOCK_MIN, BUFFER_DEFAULT, BUFFER_MAX, BUFFER_MIN, METHOD_DEFAULT,
                                METHODS, check_block, check_buffer)


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("synth", help="play a model live in a window",
                       description="Open the synth window: one slider per latent neuron, a note keyboard "
                       "(keys A W S E D F T G Y H U J), recording and rendering to WAV, presets. "
                       "Starts playing at once.")
    p.add_argument("model", nargs="?", metavar="MODEL_DIR",
                   help=f"model directory (default: {DEFAULT_MODEL} in the repository or the current folder)")
    p.add_argument("--device", help="output device, index or name (see `manne devices`; default: the system's)")
    p.add_argument("--buffer", type=int, default=BUFFER_DEFAULT,
                   help=f"frames per audio buffer, {BUFFER_MIN}..{BUFFER_MAX} (default {BUFFER_DEFAULT}: lowest latency)")
    p.add_argument("--hop", type=int, default=BLOCK_DEFAULT,
                   help=f"samples per synthesis block, {BLOCK_MIN}..{BLOCK_MAX}: events and timbre changes land on block "
                   f"boundaries (default {BLOCK_DEFAULT}, {1e3 * BLOCK_DEFAULT / 44100:.1f} ms)")
    p.add_argument("--method", "--phase", dest="method", choices=METHODS, default=METHOD_DEFAULT,
                   help=f"synthesis method (default {METHOD_DEFAULT}): harmonic (wavetables at the exact pitch), noise (the "
                   "paper's noise-phase inverse STFT), coherent (inverse STFT with the phase locked to the partials)")
    p.add_argument("--hold", action="store_true", help="hold mode: a key starts a drone that lasts until the next key")
    from manne.control import add_options as add_control_options

    add_control_options(p)  # --midi [PORT], --midi-api, --osc [PORT], --osc-host: play from MIDI and OSC
    p.add_argument("--preset", metavar="FILE", help="start from a preset saved by the synth (.json)")
    add_live_options(p)  # --input DEVICE: live timbre transfer instead of the window
    return p


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

    if args.input is not None or args.gain or args.offset or args.seconds is not None:
        return run_live(args)
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
    check_buffer(args.buffer, name="--buffer")
    check_block(args.hop, name="--hop")
    from manne.control import check_options, open_inputs

    check_options(args)  # mido, python-rtmidi, python-osc: one line with the pip command, before the window opens
    device = int(args.device) if args.device is not None and args.device.strip().isdigit() else args.device
    try:
        from manne.gui import window as gui
    except ImportError as exc:  # tkinter is a separate system package on some Linux distributions
        raise ManneError(f"Tk is not available ({exc}); install your Python's tkinter (e.g. python3-tk)") from exc
    return gui.main(model, device=device, buffer=args.buffer, block=args.hop, method=args.method, hold=args.hold,
                    preset=args.preset, inputs=lambda session: open_inputs(session, args))
