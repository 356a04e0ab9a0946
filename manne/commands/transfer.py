"""``manne transfer MODEL in.wav -o out.wav``: filter a recording through a model's timbre space (ANNe).

The live mode is ``manne synth MODEL --input DEVICE``: :func:`add_live_options` adds its options to
the synth command and :func:`run_live` runs it (a duplex stream, no window).
"""

from __future__ import annotations

import argparse
from manne.io.files import check_new


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} must be comma-separated numbers, one per neuron") from None


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("transfer", help="timbre transfer: re-voice a recording through a model (ANNe)",
                       description="Analyse the input as the corpus was, encode every frame with its own note, scale "
                       "and shift each neuron (z' = gain * z + offset, kept inside the range), decode, restore each "
                       "frame's loudness and resynthesise with the input's own phase. Unit gains and zero offsets give "
                       "the model's reconstruction of the input. Frames more than the analysis' silence_db (50 dB) below "
                       "the loudest pass through unchanged. Writes a mono 16-bit WAV at the input's sample rate. "
                       "The live mode is `manne synth MODEL --input DEVICE`.")
    p.add_argument("model", help="model directory")
    p.add_argument("input", help="audio file (wav, flac, ogg, mp3, aiff; any rate, mono or stereo)")
    p.add_argument("-o", "--output", required=True, help="WAV file to write")
    p.add_argument("--gain", type=_floats, metavar="G1,..,Gd", help="per-neuron gains (default all 1)")
    p.add_argument("--offset", type=_floats, metavar="O1,..,Od", help="per-neuron offsets (default all 0)")
    p.add_argument("--force", action="store_true", help="overwrite the output")
    return p


def _check_paths(args):
    from pathlib import Path

    from manne.errors import AudioFileError, ParameterError

    out = Path(args.output)
    if out.suffix.lower() != ".wav":
        raise ParameterError(f"-o {out}: the output must be a .wav file")
    check_new([out], force=args.force)
    if not Path(args.input).is_file():
        raise AudioFileError(f"{args.input}: no such file")
    return out


def run(args) -> int:
    import time

    import soundfile as sf

    from manne.dsp import resample
    from manne.io.audio import load, write_wav
    from manne.model.forward import Autoencoder
    from manne.timbre.transfer import check_moves, transfer

    start = time.perf_counter()
    out = _check_paths(args)
    ae = Autoencoder.load(args.model)
    gain, offset = check_moves(args.gain, args.offset, ae.latent)
    sr = ae.analysis.sr
    y = load(args.input, sr=sr)
    try:
        in_sr = int(sf.info(str(args.input)).samplerate)
    except Exception:  # decoded above, so this is unexpected: keep the model's rate
        in_sr = sr
    t0 = time.perf_counter()
    r = transfer(ae, y, gain=gain, offset=offset)
    took = time.perf_counter() - t0
    y_out = r.y if in_sr == sr else resample(r.y, orig_sr=sr, target_sr=in_sr)
    write_wav(out, y_out, sr=in_sr, force=args.force)
    seconds = len(y) / sr
    rate = f"{in_sr} Hz" if in_sr == sr else f"{in_sr} Hz (the model's {sr} Hz resampled back)"
    print(f"wrote {out}: {seconds:.1f} s at {rate}, {int(r.loud.sum())} of {len(r.loud)} frames through the model "
          f"(gains {','.join(f'{v:g}' for v in gain)}; offsets {','.join(f'{v:g}' for v in offset)}); "
          f"transfer {took:.2f} s, {seconds / took:.0f}x real time ({time.perf_counter() - start:.1f} s with loading)")
    return 0


# ---- live: manne synth --input DEVICE --------------------------------------------------------

def add_live_options(p: argparse.ArgumentParser) -> None:
    """The synth command's live-transfer options (``--input``, ``--gain``, ``--offset``, ``--seconds``)."""
    g = p.add_argument_group("live timbre transfer (no window)",
                             "--input plays the input device through the model instead of the instrument: every "
                             "frame is encoded with its own note, moved by --gain/--offset, decoded and resynthesised "
                             "with the input's phase (as `manne transfer`). --device and --buffer apply.")
    g.add_argument("--input", metavar="DEVICE", help="input device, index or name (see `manne devices`)")
    g.add_argument("--gain", type=_floats, metavar="G1,..,Gd", help="per-neuron gains (default all 1)")
    g.add_argument("--offset", type=_floats, metavar="O1,..,Od", help="per-neuron offsets (default all 0)")
    g.add_argument("--seconds", type=float, help="stop after this many seconds (default: run until Ctrl-C)")


def _device(text):
    return int(text) if text is not None and text.strip().isdigit() else text


def run_live(args) -> int:
    """``manne synth [MODEL] --input DEVICE``: live timbre transfer until Ctrl-C or ``--seconds``."""
    import math
    import time
    from pathlib import Path

    from manne.commands.synth import default_model_dir
    from manne.errors import ModelError, ParameterError
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
