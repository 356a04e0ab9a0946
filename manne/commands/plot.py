"""``manne plot MODEL_DIR -o DIR``: embedding, training curves and reconstructions of a model, as PNGs."""

from __future__ import annotations

import argparse
from pathlib import Path
from manne.io.files import check_new

FILES = ("embedding.png", "training.png", "reconstruction.png")


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("plot", help="plot a model's latent embedding, training curves and reconstructions",
                       description="Write embedding.png (training codes coloured by note), training.png (loss per "
                       "epoch) and reconstruction.png (test frames against their reconstructions) into DIR.")
    p.add_argument("model", help="model directory")
    p.add_argument("--corpus", help="corpus file (default: the corpus named in the model's config.json)")
    p.add_argument("-o", "--output", required=True, help="folder to write the PNGs into")
    p.add_argument("--frames", type=int, default=4, help="test frames to reconstruct (default 4)")
    p.add_argument("--dpi", type=int, default=120, help="resolution of the PNGs, 20 to 600 (default 120)")
    p.add_argument("--force", action="store_true", help="overwrite existing PNGs")
    return p


def run(args) -> int:
    from manne.errors import ParameterError
    from manne.inspect.figures import check_dpi
    from manne.model.modeldir import read_config

    out = Path(args.output)
    check_dpi(args.dpi, name="--dpi")  # before anything is made
    if args.frames < 1:
        raise ParameterError(f"--frames {args.frames} must be at least 1")
    check_new([out / f for f in FILES], force=args.force)
    info = read_config(args.model)
    corpus_path = _corpus_path(args.model, args.corpus, info)
    from manne.inspect.examples import Examples
    from manne.model.forward import Autoencoder
    from manne.inspect.plots import use_agg, write_model_plots

    use_agg()
    ae = Autoencoder.load(args.model)
    if corpus_path is None:
        print(f"using {args.model}/examples.npz (the training corpus is not here)")
        examples = Examples.load(Path(args.model) / "examples.npz")
    else:
        from manne.corpus import load_corpus

        corpus = load_corpus(corpus_path)
        ae.check_analysis(corpus.analysis)
        examples = Examples.from_corpus(ae, corpus, frames=max(args.frames, 8))
    for path in write_model_plots(ae, examples, Path(args.model), out, frames=args.frames, dpi=args.dpi):
        print(f"wrote {path}")
    return 0


def _corpus_path(model: str, given: str | None, info: dict) -> Path | str | None:
    """The corpus to plot from (found from any folder), or None to use the model's own examples.npz."""
    from manne.errors import CorpusError
    from manne.model.modeldir import corpus_path

    if given:
        if not Path(given).is_file():
            raise CorpusError(f"--corpus {given}: no such corpus file")
        return given
    try:
        return corpus_path(model, info)
    except CorpusError:
        if (Path(model) / "examples.npz").is_file():
            return None
        raise
