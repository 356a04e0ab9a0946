"""The live timbre transfer, ``manne synth [MODEL] --input DEVICE``: its options and its run (no window).

Not a subcommand of its own: :mod:`manne.commands.synth` adds :func:`add_live_options` to its parser
and hands a run with ``--input`` to :func:`run_live`; :mod:`manne.commands.transfer` (the offline
transfer of a file) reads its ``--gain``/``--offset`` with the same :func:`per_neuron` type. Both
commands import this module and it imports neither, so the commands form no import loop.
"""

from __future__ import annotations

import argparse

__all__ = ["per_neuron", "add_live_options", "run_live"]


def per_neuron(text: str) -> list[float]:
    """The ``--gain``/``--offset`` argument type: comma-separated numbers, one per neuron (``"1,0.5"``)."""
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated numbers, one per neuron") from None


def add_live_options(p: argparse.ArgumentParser) -> None:
    """The synth command's live-transfer options (``--input``, ``--gain``, ``--offset``, ``--seconds``)."""
    g = p.add_argument_group("live timbre transfer (no window)",
                             "--input plays the input device through the model instead of the instrument: every "
                             "frame is encoded with its own note, moved by --gain/--offset, decoded and resynthesised "
                             "with the input's phase (as `manne transfer`). --device and --buffer apply.")
    g.add_argument("--input", metavar="DEVICE", help="input device, index or name (see `manne devices`)")
    g.add_argument("--gain", type=per_neuron, metavar="G1,..,Gd", help="per-neuron gains (default all 1)")
    g.add_argument("--offset", type=per_neuron, metavar="O1,..,Od", help="per-neuron offsets (default all 0)")
    g.add_argument("--seconds", type=float, help="stop after this many seconds (default: run until Ctrl-C)")


def _device(text):
    return int(text) if text is not None and text.strip().isdigit() else text


def run_live(args) -> int:
    """``manne synth [MODEL] --input DEVICE``: live timbre transfer until Ctrl-C or ``--seconds``."""
    import math
    import time
    from pathlib import Path

    from manne.errors import ModelError, ParameterError
    from manne.io.settings import default_model_dir
    from manne.synth.limits import check_buffer

    if args.input is None:
        raise ParameterError("--gain, --offset and --seconds belong to the live transfer: give --input DEVICE too")
    model = Path(args.model) if args.model else default_model_dir()
    if not model.is_dir():
        raise ModelError(f"no model at {model}; train one with `manne train` or pass MODEL_DIR")
    check_buffer(args.buffer, name="--buffer")
    if args.seconds is not None and not (math.isfinite(args.seconds) and args.seconds > 0):
        raise ParameterError(f"--seconds {args.seconds:g} must be a number above 0")

    from manne.model.forward import Autoencoder
    from manne.synth.duplex import AudioInOut
    from manne.synth.transfer import LiveTransfer
    from manne.timbre.transfer import check_moves

    ae = Autoencoder.load(model)
    gain, offset = check_moves(args.gain, args.offset, ae.latent)
    engine = LiveTransfer(ae, gain=gain, offset=offset, block=args.buffer)
    sr = engine.sr
    with AudioInOut(engine, input=_device(args.input), output=_device(args.device), buffer=args.buffer) as audio:
        lat_in, lat_out = audio.latency
        print(f"live transfer: {audio.input['name']!r} -> {audio.output['name']!r}, {sr} Hz, buffer {args.buffer}: "
              f"delay {engine.delay} samples ({1e3 * engine.delay / sr:.1f} ms) + the devices' "
              f"{1e3 * lat_in:.1f} ms in and {1e3 * lat_out:.1f} ms out (PortAudio's figures); gains "
              f"{','.join(f'{v:g}' for v in gain)}; offsets {','.join(f'{v:g}' for v in offset)}"
              + ("" if args.seconds else "; Ctrl-C stops"), flush=True)
        t0 = time.monotonic()
        lags = []
        try:
            while args.seconds is None or time.monotonic() - t0 < args.seconds:
                time.sleep(0.05)
                if engine.pushed:
                    lags.append(engine.lag)
                if not audio.active:
                    break
        except KeyboardInterrupt:
            pass
        took = time.monotonic() - t0
    lag = sorted(lags)[len(lags) // 2] if lags else engine.lag
    why = f"; last error {engine.last_error}" if engine.last_error else ""
    print(f"stopped after {took:.1f} s: {engine.frames} frames ({engine.passed} quiet, passed through), delay "
          f"{lag} samples ({1e3 * lag / sr:.1f} ms, median) with the buffering between the streams, "
          f"{engine.underruns} underruns, {engine.skips} skips, callback load {100 * engine.cpu_load:.0f} %{why}")
    return 0
