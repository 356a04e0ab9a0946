"""``manne follow MODEL --target curve.csv -o out.wav``: play a path through the timbre space whose
brightness follows a target curve, and say how closely it did."""

from __future__ import annotations

import argparse
from manne.io.files import check_new


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("follow", help="synthesise a sound whose brightness follows a target curve (CSV)",
                       description="The CSV has a header time,centroid (seconds, Hz) and optionally flatness (0-1), "
                       "one row per point (linearly interpolated between). A path through the timbre space is chosen "
                       "(nearest candidates with a smoothness cost, by dynamic programming) whose sound follows it; it "
                       "is played on the instrument, the output's centroid measured and the tracking error printed.")
    p.add_argument("model", help="model directory")
    p.add_argument("--target", required=True, help="CSV file: time,centroid[,flatness]")
    p.add_argument("-o", "--output", required=True, help="WAV file to write")
    p.add_argument("--note", default="C4", help="the note: a name with its octave (C4, F#2, Bb3), a MIDI number (60) "
                   "or a pitch class (E, 0-11) played in octave 4; default C4")
    p.add_argument("--smooth", type=float, default=0.5,
                   help="cost of a jump across the whole latent range, against a factor e of brightness error "
                        "(default 0.5; 0: nearest point each step; at most 1000)")
    p.add_argument("--force", action="store_true", help="overwrite the output")
    return p


def run(args) -> int:
    import sys
    import time
    from pathlib import Path

    import numpy as np

    from manne.errors import ParameterError
    from manne.synth.automation import note_option
    from manne.synth.pitch import note_name
    from manne.timbre.follow import SMOOTH_MAX, read_target

    note = note_option(args.note)
    if not (np.isfinite(args.smooth) and 0 <= args.smooth <= SMOOTH_MAX):
        raise ParameterError(f"--smooth {args.smooth:g} must be from 0 to {SMOOTH_MAX:g}")
    out = Path(args.output)
    check_new([out], force=args.force)
    target = read_target(args.target)

    from manne.io.audio import write_wav
    from manne.model.forward import Autoencoder
    from manne.synth.instrument import Synth
    from manne.timbre.follow import follow, measure_centroid, render_path
    from manne.timbre.plane import plane_of_model_dir

    t0 = time.perf_counter()
    ae = Autoencoder.load(args.model)
    got = follow(ae, target, plane_of_model_dir(ae, args.model), note=note, smooth=args.smooth)
    lo, hi = got.reach
    if not got.inside.all():
        print(f"manne follow: warning: {np.mean(~got.inside):.0%} of the target lies outside what the model plays "
              f"for {note_name(note)} ({lo:.0f}-{hi:.0f} Hz); there it stays at the nearest end", file=sys.stderr)
    synth = Synth(ae, noise=False)  # what follow models and measures: the partials
    y = render_path(synth, got.times, got.z, note=note)
    write_wav(out, y, sr=synth.sr, force=args.force)
    measured = measure_centroid(y, got.times, sr=synth.sr, n_fft=ae.analysis.n_fft)
    ok = got.inside & (got.times >= 0.1)  # past the note's attack
    print(f"wrote {out}: {len(y) / synth.sr:.1f} s of {note_name(note)} following {args.target} "
          f"({len(target.time)} points, {len(got.times)} steps) in {time.perf_counter() - t0:.1f} s")
    if not ok.any():
        print(f"no tracking error to report: the target is reachable ({lo:.0f}-{hi:.0f} Hz) only during the "
              "note's first 0.1 s, its attack")
        return 0
    err = np.abs(measured[ok] / got.target[ok] - 1)
    path_err = np.abs(got.centroid[ok] / got.target[ok] - 1)
    print(f"centroid error where the target is reachable ({lo:.0f}-{hi:.0f} Hz): median {np.median(err):.1%}, "
          f"90th percentile {np.percentile(err, 90):.1%} (measured on the output; the chosen codes' "
          f"median {np.median(path_err):.1%})")
    return 0
