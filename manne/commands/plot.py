"""``manne plot MODEL_DIR -o DIR``: embedding, training curves and reconstructions of a model, as PNGs."""

from __future__ import annotations

import argparse
from pathlib import Path

FILES = ("embedding.png", "training.png", "reconstruction.png")


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("plot", help="plot a model's latent embedding, training curves and reconstructions",
                       description="Write embedding.png (training codes coloured by note), training.png (loss per "
                       "epoch) and reconstruction.png (test frames against their reconstructions) into DIR.")
    p.add_argument("model", help="model directory")
    p.add_argument("--corpus", help="corpus file (default: the corpus named in the model's config.json)")
    p.add_argument("-o", "--output", required=True, help="folder to write the PNGs into")
    p.add_argument("--frames", type=int, default=4, help="test frames to reconstruct (default 4)")
    p.add_argument("--dpi", type=int, default=120, help="resolution of the PNGs (default 120)")
    p.add_argument("--force", action="store_true", help="overwrite existing PNGs")
    return p


def run(args) -> int:
    from ..errors import OutputExistsError, ParameterError
    from ..forward import read_config

    out = Path(args.output)
    if args.frames < 1:
        raise ParameterError(f"--frames {args.frames} must be at least 1")
    existing = [str(out / f) for f in FILES if (out / f).exists()]
    if existing and not args.force:
        raise OutputExistsError(f"{existing[0]} exists; use --force to overwrite it")
    info = read_config(args.model)
    corpus_path = _corpus_path(args.model, args.corpus, info)

    from ..corpus import load_corpus
    from ..forward import Autoencoder

    ae = Autoencoder.load(args.model)
    corpus = load_corpus(corpus_path)
    for path in write_plots(ae, corpus, Path(args.model), out, frames=args.frames, dpi=args.dpi):
        print(f"wrote {path}")
    return 0


def _corpus_path(model: str, given: str | None, info: dict) -> str:
    from ..errors import CorpusError

    if given:
        if not Path(given).is_file():
            raise CorpusError(f"--corpus {given}: no such corpus file")
        return given
    path = info.get("corpus", {}).get("path")
    if not path:
        raise CorpusError(f"{model}/config.json does not name its corpus; give --corpus CORPUS")
    if not Path(path).is_file():
        raise CorpusError(f"{path}, the corpus {model} was trained on, is missing; give --corpus CORPUS")
    return path


def write_plots(ae, corpus, model_dir: Path, out: Path, *, frames: int = 4, dpi: int = 120) -> list[Path]:
    """Write the embedding, training and reconstruction figures of ``ae`` on ``corpus`` into ``out``.

    training.png is skipped (with a note on stdout) when the model directory has no history.csv.
    """
    import numpy as np

    from .. import plots
    from ..errors import CorpusError

    plots.use_agg()
    diffs = ae.analysis.differences(corpus.analysis)
    if diffs:
        raise CorpusError("the corpus's analysis parameters differ from the model's: " + "; ".join(diffs))
    out.mkdir(parents=True, exist_ok=True)
    written = []
    idx = corpus.indices("train")
    z = ae.encode(corpus.S[idx], corpus.note[idx], corpus.clip[idx])
    d = plots.plot_embedding(z, corpus.note[idx], ranges=ae.latent_range)
    written.append(plots.save_figure(d.fig, out / "embedding.png", dpi=dpi))
    history = model_dir / "history.csv"
    if history.is_file():
        lines = plots.plot_training(history, title=f"training: {model_dir.name}")
        written.append(plots.save_figure(lines[0].figure, out / "training.png", dpi=dpi))
    else:
        print(f"no {history}; skipping training.png")
    test = corpus.indices("test")
    if len(test) == 0:
        test = corpus.indices("val") if len(corpus.indices("val")) else idx
    pick = test[np.linspace(0, len(test) - 1, min(frames, len(test))).round().astype(int)]
    S = corpus.S[pick]
    R = ae.reconstruct(S, corpus.note[pick], corpus.clip[pick])
    d = plots.plot_reconstruction(S, R, sr=ae.analysis.sr, n_fft=ae.analysis.n_fft, note=corpus.note[pick])
    d.fig.suptitle(f"reconstruction of {len(pick)} held-out frames")
    written.append(plots.save_figure(d.fig, out / "reconstruction.png", dpi=dpi))
    return written
