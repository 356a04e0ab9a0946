"""``manne descriptors MODEL -o DIR``: maps of brightness, spread, noisiness and highs over the timbre
space, and what each slider does (stored in the model for the window's slider labels)."""

from __future__ import annotations

import argparse
from manne.io.files import check_new

FILES = ("descriptors.csv", "sensitivity.csv", "centroid.png", "bandwidth.png", "flatness.png", "rolloff.png")


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("descriptors", help="map spectral descriptors over a model's timbre space; label its sliders",
                       description="For each note, decode a grid of --points x --points codes over a plane of the "
                       "timbre space and compute the spectral centroid, bandwidth, flatness and 85 %% rolloff of each "
                       "decoded spectrum (librosa's definitions). The plane is the synth's XY pad: the two neurons of a "
                       "2-neuron model, else the recordings' first two principal axes; --neurons I,J takes a slice "
                       "through two neurons instead, the others at the middle of their range. Writes descriptors.csv "
                       "(note, the point on the plane u,v in 0-1, its code z1..zd, the four descriptors), one map per "
                       "descriptor and sensitivity.csv (per neuron: each descriptor's change over the slider's whole "
                       "travel, relative to its mean, averaged over the notes and 256 random codes, and a word for the "
                       "largest) into DIR. The table and words are also stored as MODEL/descriptors.json, from which "
                       "the window labels its sliders ('z3: brighter'): written when the model has none (or a damaged one), "
                       "replaced only with --relabel.")
    p.add_argument("model", help="model directory")
    p.add_argument("-o", "--output", required=True, help="folder for the CSV files and maps")
    p.add_argument("--points", type=int, default=64, help="grid points per side (default 64; 2 to 400)")
    p.add_argument("--notes", nargs="+", metavar="NOTE", help="pitch classes to map (C D# ...; default all 12)")
    p.add_argument("--octave", type=int, default=4, choices=range(0, 9), metavar="N",
                   help="decode each class in octave N, 0-8 (default 4: C4-B4; the paper's models ignore it)")
    p.add_argument("--neurons", metavar="I,J", help="map a slice through neurons I and J (1-based), the others at the "
                   "middle of their range (default: the XY pad's plane)")
    p.add_argument("--relabel", action="store_true", help="replace the model's descriptors.json (its slider labels) "
                   "with this run's")
    p.add_argument("--force", action="store_true", help="overwrite existing files in DIR")
    return p


def _neurons(text: str | None) -> tuple[int, int] | None:
    from manne.errors import ParameterError

    if text is None:
        return None
    try:
        i, j = (int(x) for x in text.split(","))
    except ValueError:
        raise ParameterError(f"--neurons {text!r} must be two neuron numbers, e.g. 1,3") from None
    return i - 1, j - 1


def run(args) -> int:
    import time
    from pathlib import Path

    import numpy as np

    from manne.dsp import NOTE_NAMES, note_index
    from manne.errors import ModelError, OutputExistsError, ParameterError

    t0 = time.perf_counter()
    if not 2 <= args.points <= 400:
        raise ParameterError(f"--points {args.points} must be from 2 to 400")
    notes = sorted({note_index(n) for n in args.notes}) if args.notes else list(range(12))
    axes = _neurons(args.neurons)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out} is a file; -o needs a folder")
    check_new([out / f for f in FILES], force=args.force)

    from manne.inspect.descriptor_maps import write_descriptor_maps
    from manne.inspect.figures import use_agg
    from manne.io.files import atomic_path, check_writable
    from manne.model.forward import Autoencoder
    from manne.timbre import descriptors, landmarks
    from manne.timbre.plane import Plane, plane_of_model_dir

    ae = Autoencoder.load(args.model)
    stored = Path(args.model) / descriptors.FILE
    damaged = ""  # why the model's descriptors.json cannot be read: it is replaced
    try:
        kept = descriptors.read(args.model, latent=ae.latent) is not None and not args.relabel
    except ModelError as exc:
        kept, damaged = False, str(exc).split(": ", 1)[-1].split("; ")[0]
    if not kept:
        check_writable(stored)  # a read-only model: refused before the work, naming its folder
    if axes is not None:
        if not all(0 <= i < ae.latent for i in axes) or axes[0] == axes[1]:
            raise ParameterError(f"--neurons {args.neurons} must be two different neurons from 1 to {ae.latent}")
        plane = Plane(ae.latent_range, axes=axes)
    else:
        plane = plane_of_model_dir(ae, args.model)
    n = args.points
    t1 = time.perf_counter()
    grid = plane.grid(n).reshape(-1, ae.latent)  # (n * n, latent), row-major in v then u
    values = descriptors.grid_descriptors(ae, grid, notes, octave=args.octave)  # name -> (notes, n * n)
    t_maps = time.perf_counter() - t1
    sens = descriptors.sensitivity(ae, notes=notes)
    out.mkdir(parents=True, exist_ok=True)
    t = np.linspace(0, 1, n)
    uu, vv = np.meshgrid(t, t)
    names = descriptors.NAMES
    with atomic_path(out / "descriptors.csv", force=True) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(",".join(["note", "u", "v", *[f"z{i + 1}" for i in range(ae.latent)], *names]) + "\n")
        body = np.column_stack([uu.ravel(), vv.ravel(), grid])
        for j, note in enumerate(notes):
            cols = np.column_stack([body, *[values[k][j] for k in names]])
            fmt = f"{NOTE_NAMES[note]}," + ",".join(["%.5g"] * cols.shape[1]) + "\n"
            fh.writelines(fmt % tuple(row) for row in cols.tolist())
    words = descriptors.labels(sens)
    with atomic_path(out / "sensitivity.csv", force=True) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write("neuron," + ",".join(f"{k}_per_travel" for k in names) + ",label\n")
        for i, (row, w) in enumerate(zip(sens, words)):
            fh.write(f"z{i + 1}," + ",".join(f"{x:+.4f}" for x in row) + f",{w}\n")
    use_agg()
    marks = [m.mean for m in landmarks.read(args.model, latent=ae.latent) if m.kind == "file"]
    maps = {k: values[k].reshape(len(notes), n, n) for k in names}
    ticks = tuple((float(plane.lo[i]), float(plane.hi[i])) for i in plane.axes) if plane.axes else None
    write_descriptor_maps(maps, notes, out, axes_labels=plane.labels, ticks=ticks,
                          marks=plane.uv(np.stack(marks)) if marks else None, present=ae.notes_present)
    if not kept:  # last: a failure above leaves the model as it was
        descriptors.write(args.model, sens, notes=notes)
    print(f"{len(notes)} notes x {n}x{n} points: {len(notes) * n * n} decoded spectra described in {t_maps:.1f} s "
          f"({time.perf_counter() - t0:.1f} s in all); wrote {', '.join(FILES)} into {out}")
    print("what each slider does (relative change of the descriptor over its whole travel):")
    for i, (row, w) in enumerate(zip(sens, words)):
        print(f"  z{i + 1}: " + "  ".join(f"{k} {x:+.0%}" for k, x in zip(names, row)) + (f"  -> {w}" if w else ""))
    if kept:
        print(f"kept the slider labels in {stored} (--relabel replaces them with these)")
    elif damaged:
        print(f"slider labels stored in {stored}, in place of the damaged one ({damaged})")
    else:
        print(f"slider labels stored in {stored}")
    return 0
