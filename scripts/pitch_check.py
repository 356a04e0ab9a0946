#!/usr/bin/env python
"""Does every key play its own pitch? Every MIDI note C1-C8 at random slider positions, measured by
``librosa.pyin`` (an estimator independent of the synth's own f0 estimate).

    .venv/bin/python scripts/pitch_check.py                      # the bundled model, 3 positions a note
    .venv/bin/python scripts/pitch_check.py trained/mine --positions 5 --method coherent

Prints the error in cents (median, p95, max), the share within 25 cents and the share with the right
pitch class (manne 0.1 had 66 % right at random sliders).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", nargs="?", help="model directory (default: the bundled one)")
    ap.add_argument("--positions", type=int, default=3, help="random slider positions per note (default 3)")
    ap.add_argument("--method", default="harmonic")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    import librosa

    from manne.io.settings import default_model_dir
    from manne.model.forward import Autoencoder
    from manne.synth.instrument import Synth

    ae = Autoencoder.load(args.model or default_model_dir())
    rng = np.random.default_rng(args.seed)
    lo, hi = ae.latent_range
    cents, right, t0 = [], [], time.perf_counter()
    for note in range(24, 109):  # C1 .. C8
        hz = librosa.midi_to_hz(note)
        for _ in range(args.positions):
            synth = Synth(ae, method=args.method)
            synth.set_z(rng.uniform(lo, hi))
            synth.note_on(note, 100)
            y = synth.render(0.6)[int(0.2 * synth.sr):]  # past the attack
            f0, voiced, _ = librosa.pyin(y, fmin=max(25.0, hz / 1.6), fmax=min(5000.0, hz * 1.6), sr=synth.sr,
                                         frame_length=4096)
            f = float(np.nanmedian(f0[voiced])) if voiced.any() else float("nan")
            cents.append(1200 * np.log2(f / hz) if np.isfinite(f) else np.inf)
            right.append(bool(np.isfinite(f)) and int(round(librosa.hz_to_midi(f))) % 12 == note % 12)
    a = np.abs(np.array(cents))
    print(f"{len(a)} notes (C1-C8, {args.positions} slider positions each, {args.method}): |cents| median "
          f"{np.median(a):.1f}, p95 {np.percentile(a, 95):.1f}, max {a.max():.1f}; within 25 cents {np.mean(a <= 25):.1%}; "
          f"right pitch class {np.mean(right):.1%} ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
