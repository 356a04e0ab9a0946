"""``manne transfer MODEL in.wav -o out.wav``: filter a recording through a model's timbre space (ANNe).

The live mode is ``manne synth MODEL --input DEVICE`` (:mod:`manne.commands.live`: a duplex stream, no window).
"""

from __future__ import annotations

import argparse

from manne.commands.live import per_neuron
from manne.io.files import check_new


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
    p.add_argument("--gain", type=per_neuron, metavar="G1,..,Gd", help="per-neuron gains (default all 1)")
    p.add_argument("--offset", type=per_neuron, metavar="O1,..,Od", help="per-neuron offsets (default all 0)")
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
