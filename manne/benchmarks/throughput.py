"""Training throughput: manne's input pipeline against a bare ``model.fit`` on in-memory arrays.

``python -m manne.benchmarks.throughput CORPUS [--epochs N] [--batch B]`` builds the default network
once per feed, warms each up for an epoch (tracing), then alternates them epoch by epoch (``bare``,
``manne``, ``bare``, ...) so both see the same load on a shared machine, and prints one JSON line:
for each feed its frames per second (wall), CPU seconds per 1,000 frames, and system-time share
(system seconds over user + system, and over wall), from ``os.times()`` of this process (all its
threads). ``bare`` is ``model.fit(x, y, batch_size=B, shuffle=True)`` on the training frames copied
into memory as arrays (a second copy of them, which manne avoids); ``manne`` is
:func:`manne.model.dataset.training_data` on the corpus as :func:`~manne.corpus.load_corpus` gives
it (memory-mapped), with the thread sizing and BLAS limit of ``manne train``.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def measure(corpus_path: str, *, epochs: int = 3, batch: int | None = None) -> dict:
    """Figures of both feeds on ``corpus_path`` (see the module docstring)."""
    from manne.model.devices import blas_limited, size_threads

    size_threads()
    from manne.corpus import load_corpus
    from manne.model.config import ModelConfig, TrainConfig
    from manne.model.dataset import model_inputs, training_data
    from manne.model.network import build, keras

    corpus = load_corpus(corpus_path)
    cfg = ModelConfig(n_bins=corpus.analysis.n_bins)
    batch = batch or TrainConfig().batch
    idx = corpus.indices("train")
    fits = {}
    for feed in ("bare", "manne"):
        keras.utils.set_random_seed(0)
        model = build(cfg, seed=0)[0]
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", metrics=["mse"])
        if feed == "bare":
            x = model_inputs(corpus, cfg, idx)
            fits[feed] = (lambda m, x=x: m.fit(x, x["S"], batch_size=batch, epochs=1, shuffle=True, verbose=0), model)
        else:
            data = training_data(corpus, cfg, idx, batch=batch, shuffle=True, seed=0)
            fits[feed] = (lambda m, d=data: m.fit(d, epochs=1, shuffle=False, verbose=0), model)
    totals = {feed: [0.0, 0.0, 0.0] for feed in fits}  # wall, user, system
    with blas_limited(1):
        for feed, (fit, model) in fits.items():
            fit(model)  # trace
        for _ in range(epochs):
            for feed, (fit, model) in fits.items():
                t0, c0 = time.perf_counter(), os.times()
                fit(model)
                t1, c1 = time.perf_counter(), os.times()
                tot = totals[feed]
                tot[0] += t1 - t0
                tot[1] += c1.user - c0.user
                tot[2] += c1.system - c0.system
    frames = epochs * len(idx)
    out = {"frames": len(idx), "epochs": epochs, "batch": batch}
    for feed, (wall, user, system) in totals.items():
        out[feed] = {"frames_per_s": frames / wall, "cpu_s_per_1000": 1000 * (user + system) / frames,
                     "system_share_cpu": system / max(1e-9, user + system), "system_share_wall": system / wall,
                     "wall_s": wall, "user_s": user, "system_s": system}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=None)
    args = p.parse_args(argv)
    print(json.dumps(measure(args.corpus, epochs=args.epochs, batch=args.batch)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
