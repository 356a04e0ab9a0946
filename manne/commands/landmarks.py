"""``manne landmarks MODEL [CORPUS]``: where each recording (and folder) of a corpus sits in the model's timbre space."""

from __future__ import annotations

import argparse
import time
from manne.io.files import check_new


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("landmarks", help="locate a corpus' recordings in a model's timbre space (landmarks.json)",
                       description="Encode every frame of CORPUS (default: the corpus the model was trained on) and "
                       "write the mean and spread of the codes of each source file and folder into MODEL/landmarks.json. "
                       "Training does this by itself; use it for a model trained before, or to add other recordings "
                       "(analysed with `manne corpus`).")
    p.add_argument("model", help="model directory")
    p.add_argument("corpus", nargs="?", help="corpus file (default: the model's own, from its config.json)")
    p.add_argument("--force", action="store_true", help="replace an existing landmarks.json")
    return p


def run(args) -> int:
    from pathlib import Path

    from manne.corpus import load_corpus
    from manne.model.forward import Autoencoder
    from manne.model.modeldir import corpus_path
    from manne.timbre import landmarks

    out = Path(args.model) / landmarks.FILE
    check_new([out], force=args.force, verb="replace")
    t0 = time.perf_counter()
    ae = Autoencoder.load(args.model)  # NumPy only: reads config.json (its corpus too) and weights.npz once
    path = args.corpus or corpus_path(args.model, ae.info)
    corpus = load_corpus(path)
    marks = landmarks.compute(ae, corpus)
    landmarks.write(args.model, marks, latent=ae.latent)
    n_f = sum(m.kind == "folder" for m in marks)
    print(f"wrote {out}: {len(marks) - n_f} files and {n_f} folders from {corpus.n_frames} frames of {path} "
          f"in {time.perf_counter() - t0:.1f} s")
    return 0
