"""``manne train corpora/NAME.npz -o trained/NAME``: train an autoencoder on a corpus."""

from __future__ import annotations

import argparse
from pathlib import Path

from manne.model.config import AUGMENTS, BOTTLENECKS, OUTPUTS, PAPER, SCHEDULES, ModelConfig, TrainConfig

_M, _T = ModelConfig(), TrainConfig()
EPOCHS_MAX = 10**6  # the epochs of a --minutes budget without --epochs: the budget decides


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("train", help="train a timbre model on a corpus",
                       description="Train the autoencoder on a corpus. The best weights on validation are saved; "
                       "Ctrl-C stops at the next batch and keeps the best model so far (a --force run keeps the old model and "
                       "its own resumable); a second Ctrl-C stops at once; --resume continues a stopped or killed run.")
    p.add_argument("corpus", help="corpus file (.npz) from `manne corpus`")
    p.add_argument("-o", "--output", required=True, help="model directory to write")
    m = p.add_argument_group("model")
    m.add_argument("--latent", type=int, default=_M.latent, help=f"bottleneck neurons (default {_M.latent})")
    m.add_argument("--bottleneck", default=_M.bottleneck, choices=BOTTLENECKS, help=f"bottleneck activation (default {_M.bottleneck})")
    m.add_argument("--augment", default=_M.augment, choices=AUGMENTS, help=f"input augmentation (default {_M.augment})")
    m.add_argument("--skip", action=argparse.BooleanOptionalAction, default=_M.skip, help="condition the decoder on the note (default on)")
    m.add_argument("--vae", action="store_true", help="train a beta-VAE")
    m.add_argument("--beta", type=float, default=_M.beta, help=f"KL weight of the beta-VAE (default {_M.beta:g})")
    m.add_argument("--power", type=float, default=_M.power,
                   help=f"the model learns S ** POWER (default {_M.power:g}: quiet partials count; 1: the paper's linear magnitudes)")
    m.add_argument("--register", action=argparse.BooleanOptionalAction, default=_M.register,
                   help="give encoder and decoder the note's register (pitch - 60) / 24 beside its class (default on)")
    m.add_argument("--output-activation", default=_M.output, choices=OUTPUTS,
                   help=f"the decoder's output activation (default {_M.output}; the paper's relu)")
    m.add_argument("--paper", action="store_true",
                   help="the paper's model: --power 1 --no-register --output-activation relu")
    m.add_argument("--max-width", type=int, default=_M.max_width, help=f"widest hidden layer (default {_M.max_width}; smaller for quick tests)")
    m.add_argument("--min-width", type=int, default=_M.min_width,
                   help="narrowest hidden layer: the widths halve from --max-width down to it (default "
                   f"{_M.min_width}: down to the bottleneck, as the paper)")
    t = p.add_argument_group("training")
    t.add_argument("--epochs", type=int, default=None,
                   help=f"epochs: the cosine schedule's plan, the others' maximum (default {_T.epochs}; "
                   "with --minutes, no limit but the budget)")
    t.add_argument("--batch", type=int, default=_T.batch, help=f"batch size (default {_T.batch})")
    t.add_argument("--lr", type=float, default=_T.lr, help=f"Adam learning rate (default {_T.lr})")
    t.add_argument("--schedule", default=_T.schedule, choices=SCHEDULES,
                   help=f"learning-rate schedule (default {_T.schedule}: warm-up, then a cosine decay over the planned epochs; "
                   "plateau: halve after patience/2 epochs without improvement)")
    t.add_argument("--minutes", type=float, default=_T.minutes,
                   help="a time budget the cosine schedule plans for: as many epochs as fit, the decay ending with it")
    t.add_argument("--warmup", type=float, default=_T.warmup, help=f"fraction of the cosine plan spent warming up (default {_T.warmup:g})")
    t.add_argument("--min-gain", type=float, default=_T.min_gain,
                   help=f"percent a minute: when validation improves more slowly, anneal and stop (default {_T.min_gain:g}; 0 never)")
    t.add_argument("--patience", type=int, default=_T.patience, help=f"stop after this many epochs without improvement, 0 never (default {_T.patience})")
    t.add_argument("--min-lr", type=float, default=_T.min_lr, help=f"floor of the plateau schedule (default {_T.min_lr:g})")
    t.add_argument("--target-mse", type=float, default=_T.target_mse, help="stop once validation MSE reaches this value")
    t.add_argument("--max-minutes", type=float, default=_T.max_minutes, help="stop after this many minutes of training (the best model is kept)")
    t.add_argument("--seed", type=int, default=_T.seed, help=f"random seed (default {_T.seed})")
    t.add_argument("--resume", action="store_true", help="continue a stopped run in the output directory")
    t.add_argument("--force", action="store_true",
                   help="replace an existing model directory (the old model stays until the new one is complete; "
                   "an interrupted run never replaces it)")
    t.add_argument("--devices", type=int, default=1, help="train on this many GPUs at once (MirroredStrategy; default 1)")
    t.add_argument("--float16", action="store_true", help="store the NumPy weights as float16 (half the size)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def run(args) -> int:
    from manne.model.interrupt import CtrlC

    with CtrlC() as ctrl_c:  # from here on Ctrl-C only sets a flag, checked where training can stop cleanly
        return _run(args, ctrl_c)


def _run(args, ctrl_c) -> int:
    import numpy as np

    from manne.errors import ParameterError
    from manne.model.devices import size_threads

    if args.devices < 1:
        raise ParameterError(f"--devices {args.devices} must be at least 1")
    size_threads()  # before TensorFlow starts
    from manne.corpus import load_corpus
    from manne.model.modeldir import check_output
    from manne.model.train import train

    out = Path(args.output)
    check_output(out, resume=args.resume, force=args.force)
    extra = PAPER if args.paper else {"power": args.power, "register": args.register, "output": args.output_activation}
    model_cfg = ModelConfig(latent=args.latent, bottleneck=args.bottleneck, augment=args.augment, skip=args.skip,
                            vae=args.vae, beta=args.beta, max_width=args.max_width, min_width=args.min_width, **extra)
    epochs = args.epochs if args.epochs is not None else (EPOCHS_MAX if args.minutes else _T.epochs)
    train_cfg = TrainConfig(epochs=epochs, batch=args.batch, lr=args.lr, seed=args.seed,
                            schedule=args.schedule, patience=args.patience, min_lr=args.min_lr,
                            target_mse=args.target_mse, max_minutes=args.max_minutes, minutes=args.minutes,
                            warmup=args.warmup, min_gain=args.min_gain)
    corpus = load_corpus(args.corpus)
    ctrl_c.check()
    if not args.quiet:
        print(f"corpus {args.corpus}: {corpus.n_frames} frames; encoder widths {model_cfg.hidden + [model_cfg.latent]}")
    metrics = train(corpus, args.corpus, out, model_cfg=model_cfg, train_cfg=train_cfg, resume=args.resume,
                    force=args.force, progress=not args.quiet, weights_dtype=np.float16 if args.float16 else np.float32,
                    devices=args.devices)
    print(_report(out, metrics))
    return 130 if metrics["interrupted"] or ctrl_c.pressed else 0  # (a press while the model was written: it was)


def _report(out: Path, m: dict) -> str:
    def f(v):
        return "-" if v is None else f"{v:.3e}"

    state = {"interrupted": "interrupted; best model so far", "patience": "stopped early (no improvement)",
             "target_mse": "reached --target-mse", "max_minutes": "reached --max-minutes",
             "minutes": "done in the --minutes budget", "converged": "converged (annealed and stopped)",
             "diverged": "stopped, training diverged; best model so far"}.get(m.get("stopped"), "done")
    return (f"{state}: wrote {out}  (epochs {m['epochs']}, best {m['best_epoch']}, "
            f"{m['training_seconds']:.0f} s, {m['frames_per_second'] or 0:.0f} frames/s)\n"
            f"validation MSE {f(m['val_mse'])}   test MSE {f(m['test_mse'])}")
