"""``manne evaluate MODEL_DIR [CORPUS]``: validation and test MSE of a trained model."""

from __future__ import annotations

import argparse
import json


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("evaluate", help="print a model's validation and test MSE",
                       description="Validation and test MSE on the model's own corpus, or on another corpus with the same analysis parameters.")
    p.add_argument("model", help="model directory")
    p.add_argument("corpus", nargs="?", help="corpus file (default: the corpus the model was trained on)")
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def run(args) -> int:
    import math

    import numpy as np

    from manne.corpus import load_corpus
    from manne.errors import ModelError
    from manne.model.evaluate import evaluate
    from manne.model.forward import Autoencoder
    from manne.model.modeldir import corpus_path

    ae = Autoencoder.load(args.model)
    path = args.corpus or corpus_path(args.model, ae.info)  # found from any folder
    corpus = load_corpus(path)
    with np.errstate(over="ignore", invalid="ignore"):  # a broken model's overflow is reported below, in one line
        res = evaluate(ae, corpus)
    bad = [name for name in ("val", "test") if res[f"{name}_mse"] is not None and not math.isfinite(res[f"{name}_mse"])]
    if bad:
        raise ModelError(f"{args.model}: the {bad[0]} MSE is {res[f'{bad[0]}_mse']}; the model's output is not finite "
                         "(its weights are damaged: retrain it)")
    res["corpus"] = str(path)
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    own = corpus.hash == ae.info.get("corpus", {}).get("hash")
    print(f"model {args.model} on {path}{' (its own corpus)' if own else ''}")
    for name in ("val", "test"):
        v = res[f"{name}_mse"]
        print(f"  {name:4s} MSE {'-' if v is None else f'{v:.4e}'}  ({res[f'{name}_frames']} frames)")
    return 0
