"""``manne map MODEL -o DIR``: the timbre map, the training codes with the user's recordings by name."""

from __future__ import annotations

import argparse
from manne.io.files import check_new


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("map", help="draw a model's timbre space with its recordings (landmarks) by name",
                       description="Write map.png (the training codes coloured by note, each recording of the corpus "
                       "at the mean of its codes, folders with their spread) and map.csv (the landmarks' coordinates) "
                       "into DIR. The plane is the synth window's XY pad: the two neurons of a 2-neuron model, else the "
                       "first two principal axes of the recordings' landmarks (or of the codes, without landmarks).")
    p.add_argument("model", help="model directory")
    p.add_argument("-o", "--output", required=True, help="folder to write map.png and map.csv into")
    p.add_argument("--dpi", type=int, default=120, help="resolution of the PNG, 20 to 600 (default 120)")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    return p


def run(args) -> int:
    from pathlib import Path

    import numpy as np

    from manne.errors import ModelError
    from manne.inspect.examples import Examples
    from manne.inspect.figures import check_dpi, use_agg
    from manne.inspect.map_plot import write_map
    from manne.model.forward import Autoencoder
    from manne.timbre import landmarks
    from manne.timbre.plane import Plane

    out = Path(args.output)
    check_dpi(args.dpi, name="--dpi")  # before anything is made
    check_new([out / f for f in ("map.png", "map.csv")], force=args.force)
    ae = Autoencoder.load(args.model)
    path = Path(args.model) / "examples.npz"
    if not path.exists():
        raise ModelError(f"{path} is missing: the map needs the model's training codes (train it with `manne train`)")
    ex = Examples.load(path)
    marks = landmarks.read(args.model, latent=ae.latent)
    files = [m.mean for m in marks if m.kind == "file"]
    plane = Plane.of_model(ae.latent_range, codes=ex.z, landmark_means=np.stack(files) if files else None)
    use_agg()
    for p in write_map(ex.z, ex.z_note, marks, plane, out, dpi=args.dpi):
        print(f"wrote {p}")
    if not marks:
        print(f"note: {args.model} has no landmarks.json; `manne landmarks {args.model}` adds the recordings' names")
    return 0
