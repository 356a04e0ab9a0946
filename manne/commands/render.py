"""``manne render MODEL_DIR --z 0.2,0.7 --note E4 --seconds 4 -o out.wav``: synthesise to a WAV file.

The render plays the same :class:`~manne.synth.instrument.Synth` as the live window, so a file
sounds like the synth with the same settings: a note struck at 0 s and released so its release
ends with the file. ``--automation FILE.csv`` plays a written performance instead: slider
keyframes and note events (:mod:`manne.synth.automation` documents the rows; manne 0.1's
``time, z1..zd, note`` files still play).

Every option's limits are those of :mod:`manne.synth.limits`; paths, overwrite rules and values
are checked before the model loads.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from manne.synth.limits import (BLOCK_DEFAULT, RENDER_BLOCK_DEFAULT, BLOCK_MAX, BLOCK_MIN, METHOD_DEFAULT, METHODS, RENDER_SECONDS_DEFAULT,
                                RENDER_SECONDS_MAX, VOLUME_DEFAULT)
from manne.io.files import check_new

FADE_OUT_S = 0.02  # the file ends with a short fade instead of a cut
DC_MAX = 0.1  # |mean| of a render above this (of full scale) is a broken model's offset, not music
# A sine spends 3 % of its time within 0.1 % of its peak; more than half the samples there (after the soft
# limiter, an input over 2.2x full scale) is a broken model's full-scale noise or square wave
FULL_SCALE, FULL_SCALE_SHARE = 0.999, 0.5


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("render", help="synthesise audio from a model to a WAV file",
                       description="Render a latent position and a note (or an automation file of slider keyframes and "
                       "note events) to a 44.1 kHz 16-bit WAV through the same instrument as the live synth. The file "
                       f"ends with a {FADE_OUT_S * 1000:.0f} ms fade; it is written under a temporary name and renamed into place.")
    p.add_argument("model", metavar="MODEL_DIR", help="model directory from `manne train`")
    p.add_argument("-o", "--output", required=True, help="WAV file to write")
    p.add_argument("--z", help="latent values, comma-separated, one per latent neuron (e.g. 0.2,0.7); "
                   "default the middle of the model's range")
    p.add_argument("--note", help="the note: a name with its octave (E4, F#2, Bb3), a MIDI number (64), or a pitch "
                   "class (E, 0-11) played in octave 4; default the model's first note in octave 4")
    p.add_argument("--velocity", type=int, default=100, help="note-on velocity 1-127 (default 100)")
    p.add_argument("--seconds", type=float, help=f"length in seconds, at most {RENDER_SECONDS_MAX:g} "
                   f"(default {RENDER_SECONDS_DEFAULT:g}, or the last keyframe's time)")
    p.add_argument("--automation", metavar="FILE.csv",
                   help="a performance: rows 'time, z1..zd, note', 'time, z, z1..zd', 'time, on, NOTE, VELOCITY', "
                   "'time, off, NOTE', 'time, bend, -1..1', 'time, pedal, 1|0' (header optional)")
    p.add_argument("--method", "--phase", dest="method", default=METHOD_DEFAULT, choices=METHODS,
                   help=f"synthesis method (default {METHOD_DEFAULT})")
    p.add_argument("--volume", type=float, default=VOLUME_DEFAULT, help=f"master volume 0..1 (default {VOLUME_DEFAULT:g})")
    p.add_argument("--hop", type=int, default=RENDER_BLOCK_DEFAULT,
                   help=f"samples per synthesis block, {BLOCK_MIN}..{BLOCK_MAX}, dividing the model's n_fft (a power "
                        f"of two for its 4096): events land on its steps (default {RENDER_BLOCK_DEFAULT}; the live synth "
                        f"plays {BLOCK_DEFAULT})")
    p.add_argument("--seed", type=int, default=0, help="seed of the harmonics' phases and the noise phase, 0 to 2**32-1 (default 0)")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    return p


def parse_z(text: str, *, latent: int, lo, hi) -> list[float]:
    """Latent values from ``"0.2,0.7"``, checked against the count and the model's range.

    Raises
    ------
    ParameterError
        Naming the value and the rule.
    """
    from manne.errors import ParameterError
    from manne.synth.limits import check_latent_range

    items = [s.strip() for s in text.replace(" ", ",").split(",") if s.strip()]
    values = []
    for s in items:
        try:
            v = float(s)
        except ValueError:
            raise ParameterError(f"--z {text}: {s!r} is not a number") from None
        if not math.isfinite(v):
            raise ParameterError(f"--z {text}: {s!r} is not a finite number")
        values.append(v)
    if len(values) != latent:
        raise ParameterError(f"--z {text} has {len(values)} value{'s' * (len(values) != 1)}; "
                             f"the model has {latent} latent neurons, so give {latent}")
    check_latent_range(values, lo, hi, where=f"--z {text}")
    return values


def output_problem(y, *, sr: int) -> str | None:
    """What makes ``y`` no sound a working model plays, or None: NaN or Inf samples, a constant offset
    (DC), or full scale most of the time (what weights out of all proportion play)."""
    import numpy as np

    bad = ~np.isfinite(y)
    if bad.any():
        return f"is NaN or Inf from {int(np.argmax(bad)) / sr:.2f} s ({int(bad.sum())} samples)"
    dc = float(np.mean(y, dtype=np.float64)) if len(y) else 0.0
    if abs(dc) > DC_MAX:
        return f"sits at a constant offset of {dc:+.2f} of full scale (DC)"
    share = float(np.mean(np.abs(y) >= FULL_SCALE)) if len(y) else 0.0
    if share > FULL_SCALE_SHARE:
        return f"is at full scale for {100 * share:.0f} % of its samples"
    return None


def check_output(y, *, sr: int, model: str) -> None:
    """Refuse a render that no working model makes (:func:`output_problem`).

    Raises
    ------
    ModelError
        Naming the model, the first bad sample's time or the offset.
    """
    from manne.errors import ModelError

    problem = output_problem(y, sr=sr)
    if problem is not None:
        raise ModelError(f"{model}: the output {problem}, not a sound; the model is damaged (retrain it); nothing written")


def _blame(y, auto, *, sr: int, fresh, model: str, automation: str) -> None:
    """Refuse a bad render of ``auto`` (:func:`check_output`), blaming the performance, not the model,
    when the model plays the performance's first note alone well on a ``fresh()`` synth (a note-on
    every millisecond restarts each voice's waveform before its first period ends: a train of half
    periods, mostly DC).

    Raises
    ------
    ParameterError
        Naming the automation file and how close its note-ons come, if the note alone plays well.
    ModelError
        As :func:`check_output`, if it does not.
    """
    import numpy as np

    from manne.errors import ParameterError
    from manne.synth.automation import Automation, Event, perform

    problem = output_problem(y, sr=sr)
    if problem is None:
        return
    ons = [e for e in auto.events if e.kind == "on"]
    if ons:
        first = ons[0]
        alone = Automation(auto.times[:1], auto.z[:1], (Event(0.0, "on", first.value, first.velocity),
                                                       Event(0.5, "off", first.value)))
        with np.errstate(over="ignore", invalid="ignore"):
            if output_problem(perform(fresh(), alone, seconds=1.0), sr=sr) is None:
                gap = float(np.diff([e.time for e in ons]).min()) if len(ons) > 1 else float("inf")
                raise ParameterError(f"--automation {automation}: the output {problem}, not a sound, though the model "
                                     f"plays its first note alone well: {len(ons)} note-ons, the closest {1000 * gap:.1f} ms "
                                     "apart, restart the voices faster than they can sound; nothing written")
    check_output(y, sr=sr, model=model)


def run(args) -> int:
    from manne.errors import ParameterError
    from manne.model.modeldir import read_config
    from manne.synth.automation import note_option
    from manne.synth.limits import check_block, check_render_seconds, check_seed, check_volume, default_latent_range

    out = Path(args.output)
    if out.suffix.lower() != ".wav":
        raise ParameterError(f"-o {out}: the output must be a .wav file")
    check_new([out], force=args.force)
    if args.seconds is not None:
        check_render_seconds(args.seconds, name="--seconds")
    check_volume(args.volume, name="--volume")
    check_block(args.hop, name="--hop")
    check_seed(args.seed, name="--seed")
    if not 1 <= args.velocity <= 127:
        raise ParameterError(f"--velocity {args.velocity} must be from 1 to 127")
    if args.automation and (args.z is not None or args.note is not None):
        raise ParameterError("give either --automation or --z/--note, not both")

    info = read_config(args.model)  # ModelError for a missing or incomplete model, before any heavy work
    check_block(args.hop, name="--hop", n_fft=int(info["analysis"]["n_fft"]))  # (read_config checked it)
    latent = int(info["model"].get("latent", 8))
    lo, hi = info.get("latent_range") or default_latent_range(latent)
    auto = z = note = None
    if args.automation:
        from manne.synth.automation import read_automation

        auto = read_automation(args.automation, latent=latent, latent_range=(lo, hi))
        seconds = args.seconds if args.seconds is not None else auto.end
        if not seconds > 0:
            raise ParameterError(f"--automation {args.automation}: everything happens at 0 s; give --seconds")
        check_render_seconds(seconds, name=f"--automation {args.automation}: the last row's time")
    else:
        z = parse_z(args.z, latent=latent, lo=lo, hi=hi) if args.z is not None else [(a + b) / 2 for a, b in zip(lo, hi)]
        notes = info.get("corpus", {}).get("notes_present") or [0]
        note = note_option(args.note if args.note is not None else int(notes[0]))
        seconds = args.seconds if args.seconds is not None else RENDER_SECONDS_DEFAULT

    import numpy as np

    from manne.io.audio import write_wav
    from manne.model.forward import Autoencoder
    from manne.synth.automation import perform, play_note
    from manne.synth.instrument import Synth
    from manne.synth.pitch import note_name

    ae = Autoencoder.load(args.model)
    def fresh() -> Synth:
        return Synth(ae, sr=ae.analysis.sr, block=args.hop, method=args.method, volume=args.volume, seed=args.seed)

    synth = fresh()
    with np.errstate(over="ignore", invalid="ignore"):  # a broken model's overflow is checked below, in one line
        if auto is None:  # one note, struck at 0 and released so that its release ends with the file
            y = play_note(synth, z, note, velocity=args.velocity, seconds=seconds)
        else:
            y = perform(synth, auto, seconds=seconds)
    if args.automation:  # a broken performance is not a broken model
        _blame(y, auto, sr=synth.sr, fresh=fresh, model=args.model, automation=args.automation)
    else:
        check_output(y, sr=synth.sr, model=args.model)
    n_fade = min(len(y), int(FADE_OUT_S * synth.sr))
    if n_fade:
        y[-n_fade:] *= (0.5 + 0.5 * np.cos(np.pi * np.arange(1, n_fade + 1) / n_fade)).astype(np.float32)
    write_wav(out, y, sr=synth.sr, force=args.force)  # refuses an existing file unless --force, as checked above
    peak = float(np.abs(y).max()) if len(y) else 0.0
    rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2))) if len(y) else 0.0

    def db(v):
        return f"{20 * math.log10(v):.1f} dBFS" if v > 0 else "silent"

    if args.automation:
        what = f"automation {args.automation}"
    else:
        what = f"z={','.join(f'{v:g}' for v in z)} note {note_name(note)}"
    print(f"wrote {out} ({len(y) / synth.sr:.2f} s, {synth.sr} Hz; {what}; {args.method}; peak {db(peak)}, RMS {db(rms)})")
    return 0
