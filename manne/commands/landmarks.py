"""``manne landmarks MODEL [CORPUS]``: where each recording (and folder) of a corpus sits in the model's timbre space."""

from __future__ import annotations

import argparse
import time


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("landmarks", help="locate a corpus' recordings in a model's timbre space (landmarks.json)",
                       description="Encode every frame of CORPUS (default: the corpus the model was trained on) and "
                       "write the mean and spread of the codes of each source file and folder into MODEL/landmarks.json. "
                       "Training does this by itself; use it for a model trained before, or to add other recordings "
                       "(analysed with `manne corpus`) to those already there (--force).")
    p.add_argument("model", help="model directory")
    p.add_argument("corpus", nargs="?", help="corpus file (default: the model's own, from its config.json)")
    p.add_argument("--force", action="store_true", help="add to an existing landmarks.json (a name already there "
                   "is refused: see --replace)")
    p.add_argument("--replace", action="store_true", help="add to an existing landmarks.json, replacing the landmarks "
                   "of the same name (or the whole file, if it is damaged)")
    return p


def run(args) -> int:
    from pathlib import Path

    from manne.corpus import load_corpus
    from manne.errors import ModelError, OutputExistsError
    from manne.io.files import check_writable
    from manne.model.forward import Autoencoder
    from manne.model.modeldir import corpus_path
    from manne.timbre import landmarks

    out = Path(args.model) / landmarks.FILE
    if out.exists() and not (args.force or args.replace):
        raise OutputExistsError(f"{out} exists; --force adds these recordings' landmarks to it "
                                "(--replace also replaces those of the same name)")
    t0 = time.perf_counter()
    ae = Autoencoder.load(args.model)  # NumPy only: reads config.json (its corpus too) and weights.npz once
    check_writable(out)  # a read-only model: refused before the work
    path = args.corpus or corpus_path(args.model, ae.info)
    try:
        old = landmarks.read(args.model, latent=ae.latent)
    except ModelError as exc:
        if not args.replace:
            raise exc if "--replace" in str(exc) else ModelError(f"{exc}; --replace writes it anew") from exc
        old = []  # damaged: --replace writes it anew
    corpus = load_corpus(path)
    landmarks.check_names(old, landmarks.names(corpus), replace=args.replace, where=str(out))  # before the encoding
    marks = landmarks.compute(ae, corpus)
    merged = landmarks.merge(old, marks, replace=args.replace)
    landmarks.write(args.model, merged, latent=ae.latent)
    n_f = sum(m.kind == "folder" for m in marks)
    kept = len(merged) - len(marks)
    print(f"wrote {out}: {len(marks) - n_f} files and {n_f} folders from {corpus.n_frames} frames of {path} "
          f"in {time.perf_counter() - t0:.1f} s" + (f"; kept {kept} landmarks already there" if kept else ""))
    return 0
