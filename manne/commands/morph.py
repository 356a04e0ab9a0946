"""``manne morph MODEL A B -o out.wav``: a path through the timbre space from one sound to another.

A and B are audio files (their frames' codes over time), landmarks (a recording's or folder's name
from ``landmarks.json``) or presets (``.json``); :mod:`manne.timbre.morph` documents the paths.
The codes change every :data:`STEP` samples (11.6 ms, finer than the analysis' 23 ms hop; updating
every 128-sample block instead changes the output by -65 dB and costs 3.5 times as long).
"""

from __future__ import annotations

import argparse

from manne.synth.limits import METHOD_DEFAULT, METHODS, RENDER_SECONDS_MAX
from manne.io.files import check_new

STEP = 512  # samples per latent step
SECONDS_DEFAULT = 6.0
OCTAVE_DEFAULT = 4


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("morph", help="morph from one sound to another through the timbre space, to a WAV",
                       description="A and B are audio files (their codes over time, frame by frame), landmarks of "
                       "the model (a recording's or folder's name from landmarks.json, its label on `manne map`, or a "
                       "unique part of it) or preset .json files. The morph walks from A's codes to B's over --seconds "
                       "and plays them on the instrument; the note follows the sources' own notes (A's pitch classes, "
                       "then B's from half way) unless --note is given.")
    p.add_argument("model", help="model directory")
    p.add_argument("a", help="where the morph starts: audio file, landmark name or preset .json")
    p.add_argument("b", help="where it ends")
    p.add_argument("-o", "--output", required=True, help="WAV file to write")
    p.add_argument("--path", choices=("linear", "spherical"), default="linear",
                   help="linear blend, or turning about the latent range's centre at a constant rate (default linear)")
    p.add_argument("--seconds", type=float, default=SECONDS_DEFAULT,
                   help=f"length of the morph (default {SECONDS_DEFAULT:g}, at most {RENDER_SECONDS_MAX:g}); "
                   "the last note's release follows")
    p.add_argument("--note", help="play this note throughout: a name with its octave (C4, F#2, Bb3), a MIDI number "
                   "(60) or a pitch class (E, 0-11) in --octave; default the sources' notes: an audio file's frames' "
                   "pitch classes (chroma) in the octave of their fundamental, a preset's note, C for a landmark")
    p.add_argument("--octave", type=int,
                   help="play the sources' pitch classes in this octave (4: C4 is middle C); default an audio file's "
                   f"own octaves, octave {OCTAVE_DEFAULT} for presets and landmarks")
    p.add_argument("--method", choices=METHODS, default=METHOD_DEFAULT, help=f"synthesis method (default {METHOD_DEFAULT})")
    p.add_argument("--force", action="store_true", help="overwrite the output")
    return p


def _note(text: str | None, octave: int) -> int | None:
    """The MIDI note of ``--note`` (a pitch class plays in ``octave``), checked against the instrument's range."""
    from manne.synth.automation import note_option

    return None if text is None else note_option(text, octave=octave)


def run(args) -> int:
    import time
    from pathlib import Path

    from manne.errors import ParameterError
    from manne.synth.controls import NOTE_MAX, NOTE_MIN
    from manne.synth.limits import check_render_seconds

    seconds = check_render_seconds(args.seconds, name="--seconds")
    octave = OCTAVE_DEFAULT if args.octave is None else args.octave
    if not (NOTE_MIN <= 12 * (octave + 1) and 12 * (octave + 1) + 11 <= NOTE_MAX):
        raise ParameterError(f"--octave {octave} must be from 1 to 7 (the instrument plays A0 to C8)")
    note = _note(args.note, octave)
    out = Path(args.output)
    if out.suffix.lower() != ".wav":
        raise ParameterError(f"-o {out}: the output must be a .wav file")
    check_new([out], force=args.force)
    t0 = time.perf_counter()
    from manne.model.forward import Autoencoder

    ae = Autoencoder.load(args.model)  # NumPy only: a missing or incomplete model in one line, before anything heavy

    import numpy as np

    from manne.io.audio import write_wav
    from manne.synth.instrument import Synth
    from manne.synth.pitch import note_name
    from manne.timbre.morph import morph_path, note_path, render_morph
    from manne.timbre.sources import source

    a, b = source(args.a, ae, args.model), source(args.b, ae, args.model)
    synth = Synth(ae, method=args.method)
    step = max(1, round(STEP / synth.block)) * synth.block
    n = max(2, int(round(seconds * synth.sr / step)))
    z = morph_path(a, b, n, path=args.path, latent_range=ae.latent_range)
    notes = np.full(n, note) if note is not None else note_path(a, b, n, min_run=int(0.25 * synth.sr / step))
    if notes is None:  # two landmarks: no pitch of their own
        notes = np.zeros(n, dtype=np.int64)
    elif note is None and args.octave is not None:
        notes = notes % 12  # pitch classes, played in --octave
    t1 = time.perf_counter()
    y = render_morph(synth, z, notes, step=step, octave=octave)
    t_render = time.perf_counter() - t1
    write_wav(out, y, sr=synth.sr, force=args.force)
    midi = [int(x) if x > 11 else 12 * (octave + 1) + int(x) for x in notes]
    played = [m for i, m in enumerate(midi) if i == 0 or m != midi[i - 1]]
    names = " ".join(note_name(m) for m in played[:16]) + (f" … ({len(played)} notes)" if len(played) > 16 else "")
    dur = len(y) / synth.sr
    print(f"wrote {out}: {dur:.2f} s, {a.label} -> {b.label}, {args.path} path, {args.method}; notes {names}; "
          f"rendered {dur / t_render:.0f}x real time ({time.perf_counter() - t0:.1f} s in all)")
    return 0
