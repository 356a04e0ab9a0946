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
    from manne.corpus import load_corpus
    from manne.errors import CorpusError
    from manne.model.forward import Autoencoder
    from manne.model.evaluate import evaluate

    ae = Autoencoder.load(args.model)
    path = args.corpus or ae.info.get("corpus", {}).get("path")
    if not path:
        raise CorpusError(f"{args.model} does not name its corpus; give a CORPUS")
    corpus = load_corpus(path)
    res = evaluate(ae, corpus)
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
