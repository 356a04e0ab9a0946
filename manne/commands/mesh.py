"""``manne mesh MODEL_DIR --points N -o DIR``: mesh accuracy of a model (the paper's Table V)."""

from __future__ import annotations

import argparse
from pathlib import Path
from manne.io.files import check_new

FILES = ("mesh.csv", "mesh.md", "mesh.png")


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("mesh", help="how often the decoder plays the note it is asked for, over a latent grid",
                       description="Decode a regular grid over the latent range conditioned on each note, label each "
                       "spectrum with its chroma argmax and report the fraction that matches the note. Writes "
                       "mesh.csv, mesh.md and mesh.png (the predicted-note maps; for 3+ neurons a z1-z2 slice).")
    p.add_argument("model", help="model directory")
    p.add_argument("--points", type=int, required=True, help="grid values per latent neuron (e.g. 350 for 2 neurons, 50 for 3)")
    p.add_argument("-o", "--output", required=True, help="folder to write mesh.csv, mesh.md and mesh.png into")
    p.add_argument("--notes", nargs="+", metavar="NOTE", help="conditioning notes (names or 0-11; default all 12)")
    p.add_argument("--octave", type=int, default=4, choices=range(0, 9), metavar="N",
                   help="decode each class in octave N, 0-8 (default 4: C4-B4; the paper's models ignore it)")
    p.add_argument("--batch", type=int, default=4096, help="grid codes per matrix product (default 4096)")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def run(args) -> int:
    from manne.dsp import note_index
    
    from manne.model.modeldir import read_config
    from manne.inspect.mesh import check_grid

    out = Path(args.output)
    check_new([out / f for f in FILES], force=args.force)
    info = read_config(args.model)
    check_grid(args.points, int(info["model"].get("latent", 8)))
    notes = [note_index(n) for n in args.notes] if args.notes else list(range(12))

    from manne.model.forward import Autoencoder
    from manne.inspect.mesh import mesh_accuracy, markdown_table, write_csv, write_markdown

    ae = Autoencoder.load(args.model)
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(notes), unit="note", desc=f"mesh {args.points}^{ae.latent}", leave=False)
    try:
        result = mesh_accuracy(ae, points=args.points, notes=notes, batch=args.batch, octave=args.octave,
                               on_note=None if bar is None else (lambda n: bar.update(1)))
    finally:
        if bar is not None:
            bar.close()
    out.mkdir(parents=True, exist_ok=True)
    write_csv(result, out / "mesh.csv")
    name = Path(args.model).name
    write_markdown({name: result}, out / "mesh.md", title=f"Mesh accuracy (%), {args.points}^{ae.latent} grid")
    written = [out / "mesh.csv", out / "mesh.md"]
    if ae.latent >= 2:
        from manne.inspect import plots

        plots.use_agg()
        drawn = plots.plot_mesh(result)
        written.append(plots.save_figure(drawn.fig, out / "mesh.png"))
    print(markdown_table({name: result}))
    n = args.points**ae.latent
    print(f"{n:,} grid codes x {len(notes)} notes in {result.seconds:.1f} s "
          f"({n * len(notes) / max(result.seconds, 1e-9):,.0f} decodes/s); mean accuracy over the notes present "
          f"{100 * result.mean_accuracy():.1f}%")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
