"""``manne render MODEL_DIR --z 0.2,0.7 --note E --seconds 4 -o out.wav``: synthesise to a WAV file.

The render goes through the same :class:`~manne.synth.engine.Engine` as live playing, so a file sounds
like the synth with the same settings. ``--automation FILE.csv`` gives keyframes instead of fixed
settings: columns ``time, z1..zd, note`` (seconds; latent values; a note name like ``E`` or a
number 0-11), with an optional header row; ``z`` is interpolated linearly, the note is held until
the next keyframe.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
from pathlib import Path

FADE_OUT_S = 0.02  # the file ends with a short fade instead of a cut


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("render", help="synthesise audio from a model to a WAV file",
                       description="Render a latent position and note (or an automation file) to a 44.1 kHz 16-bit WAV "
                       "through the same engine as the live synth. The sound fades in over one frame and out over "
                       f"{FADE_OUT_S * 1000:.0f} ms; the file is written under a temporary name and renamed into place.")
    p.add_argument("model", metavar="MODEL_DIR", help="model directory from `manne train`")
    p.add_argument("-o", "--output", required=True, help="WAV file to write")
    p.add_argument("--z", help="latent values, comma-separated, one per latent neuron (e.g. 0.2,0.7); "
                   "default the middle of the model's range")
    p.add_argument("--note", help="note name (C, C#, Db, ... B) or number 0-11; default the model's first note")
    p.add_argument("--seconds", type=float, help="length in seconds (default 4, or the last keyframe's time)")
    p.add_argument("--automation", metavar="FILE.csv", help="keyframes: time, z1..zd, note per row (header optional)")
    p.add_argument("--phase", default="noise", choices=("noise", "coherent"), help="phase mode (default noise)")
    p.add_argument("--volume", type=float, default=0.8, help="master volume 0..1 (default 0.8)")
    p.add_argument("--hop", type=int, default=256, help="synthesis hop in samples, 64..1024 (default 256)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise phase table (default 0)")
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
    check_range(values, lo, hi, where=f"--z {text}")
    return values


def check_range(values, lo, hi, *, where: str) -> None:
    """Raise :class:`ParameterError` if a latent value lies outside the model's range ``[lo, hi]``."""
    from manne.errors import ParameterError

    for i, (v, a, b) in enumerate(zip(values, lo, hi), start=1):
        if not a - 1e-6 <= v <= b + 1e-6:
            raise ParameterError(f"{where}: z{i}={v:g} is outside the model's latent range [{a:g}, {b:g}]")


def read_automation(path: str | os.PathLike, *, latent: int, lo, hi) -> list[tuple]:
    """Keyframes of an automation CSV: rows ``(time_s, z_1, ..., z_latent, note)``.

    A first row whose time is not a number is a header. Blank lines and lines starting with ``#``
    are skipped.

    Raises
    ------
    ParameterError
        If the file is missing or a row is malformed; the message names the line.
    """
    from manne.dsp import note_index
    from manne.errors import ParameterError

    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"--automation {p}: no such file")
    want = latent + 2
    rows = []
    first = True
    with open(p, newline="") as fh:
        for lineno, fields in enumerate(csv.reader(fh), start=1):
            fields = [f.strip() for f in fields]
            if not any(fields) or fields[0].startswith("#"):
                continue
            where = f"{p} line {lineno}"
            is_header, first = first and not _is_number(fields[0]), False
            if is_header:
                if len(fields) != want:
                    raise ParameterError(f"{where}: header has {len(fields)} columns; expected time, z1..z{latent}, note ({want})")
                continue
            if len(fields) != want:
                raise ParameterError(f"{where}: {len(fields)} columns; expected time, z1..z{latent}, note ({want})")
            try:
                t = float(fields[0])
                z = [float(v) for v in fields[1:-1]]
            except ValueError as exc:
                raise ParameterError(f"{where}: {exc}") from None
            if not (math.isfinite(t) and t >= 0):
                raise ParameterError(f"{where}: time {fields[0]} must be a number >= 0")
            if rows and t < rows[-1][0]:
                raise ParameterError(f"{where}: time {t:g} is earlier than the previous keyframe ({rows[-1][0]:g})")
            if not all(math.isfinite(v) for v in z):
                raise ParameterError(f"{where}: z values must be finite numbers")
            check_range(z, lo, hi, where=where)
            try:
                note = note_index(fields[-1])
            except ParameterError as exc:
                raise ParameterError(f"{where}: {exc}") from None
            rows.append((t, *z, note))
    if not rows:
        raise ParameterError(f"--automation {p}: no keyframes (rows of time, z1..z{latent}, note)")
    return rows


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def run(args) -> int:
    from manne.dsp import NOTE_NAMES, note_index
    from manne.errors import OutputExistsError, ParameterError
    from manne.model.forward import read_config

    out = Path(args.output)
    if out.suffix.lower() != ".wav":
        raise ParameterError(f"-o {out}: the output must be a .wav file")
    if out.exists() and not args.force:
        raise OutputExistsError(f"{out} exists; use --force to overwrite it")
    if args.seconds is not None and not (math.isfinite(args.seconds) and 0 < args.seconds <= 3600):
        raise ParameterError(f"--seconds {args.seconds} must be more than 0 and at most 3600")
    if not (math.isfinite(args.volume) and 0 <= args.volume <= 1):
        raise ParameterError(f"--volume {args.volume} must be between 0 and 1")
    if not 64 <= args.hop <= 1024:
        raise ParameterError(f"--hop {args.hop} must be from 64 to 1024 samples")
    if args.automation and (args.z is not None or args.note is not None):
        raise ParameterError("give either --automation or --z/--note, not both")

    info = read_config(args.model)  # ModelError for a missing or incomplete model, before any heavy work
    latent = int(info["model"].get("latent", 8))
    lr = info.get("latent_range") or [[0.0] * latent, [1.0] * latent]
    lo, hi = lr[0], lr[1]
    rows = z = note = None
    if args.automation:
        rows = read_automation(args.automation, latent=latent, lo=lo, hi=hi)
        seconds = args.seconds if args.seconds is not None else rows[-1][0]
        if not seconds > 0:
            raise ParameterError(f"--automation {args.automation}: the last keyframe is at 0 s; give --seconds")
    else:
        z = parse_z(args.z, latent=latent, lo=lo, hi=hi) if args.z is not None else [(a + b) / 2 for a, b in zip(lo, hi)]
        notes = info.get("corpus", {}).get("notes_present") or [0]
        try:
            note = note_index(args.note) if args.note is not None else int(notes[0])
        except ParameterError:
            raise ParameterError(f"--note {args.note!r} is not a note; use a name ({', '.join(NOTE_NAMES)}, or flats "
                                 "like Bb) or a number 0-11") from None
        seconds = args.seconds if args.seconds is not None else 4.0

    import numpy as np

    from manne.io.audio import write_wav
    from manne.synth.engine import Engine
    from manne.model.forward import Autoencoder

    ae = Autoencoder.load(args.model)
    engine = Engine(ae, sr=ae.analysis.sr, hop_length=args.hop, phase=args.phase, volume=args.volume, seed=args.seed)
    if rows is not None:
        y = engine.render_automation(rows, seconds=seconds)
    else:
        engine.set_z(z)
        engine.set_note(note)
        y = engine.render(seconds)
    n_fade = min(len(y), int(FADE_OUT_S * engine.sr))
    if n_fade:
        y[-n_fade:] *= (0.5 + 0.5 * np.cos(np.pi * np.arange(1, n_fade + 1) / n_fade)).astype(np.float32)
    write_wav(out, y, sr=engine.sr, force=args.force)
    peak = float(np.abs(y).max()) if len(y) else 0.0
    rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2))) if len(y) else 0.0

    def db(v):
        return f"{20 * math.log10(v):.1f} dBFS" if v > 0 else "silent"

    what = f"automation {args.automation}" if rows is not None else f"z={','.join(f'{v:g}' for v in z)} note {NOTE_NAMES[note]}"
    print(f"wrote {out} ({len(y) / engine.sr:.2f} s, {engine.sr} Hz; {what}; peak {db(peak)}, RMS {db(rms)})")
    return 0
