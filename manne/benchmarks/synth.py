"""``manne bench synth [MODEL_DIR]``: the instrument's real-time figures.

Measures :class:`manne.synth.instrument.Synth` (blocks of 128 samples, 8 voices) for one model, on
one BLAS thread as the live synth runs (:mod:`manne.synth.blas`), with the functions of
:mod:`manne.benchmarks.figures`:

1. the compute time of a block, median and 99th percentile, in ms and as a share of the block's
   duration: 1 and 8 voices sounding, sliders still and sliders moving (a new ``z`` before every
   block), for each method; what a moving slider costs per pitch class;
2. offline render speed (x real time) with 1 and 8 voices, sliders still;
3. launch to first sound: a fresh Python process imports, loads the model, builds a Synth, plays C4
   and makes its first audible 256-sample block (median of several launches, and its parts);
4. the response to a slider jump: samples until the output is 90 % of the way to the new sound,
   median and worst over jump instants spread across one hop of the method; the inverse-STFT
   methods at the model's frame length and at 1024;
5. the tone of a held C4: the 20 ms RMS envelope's largest deviation from its mean, the energy share
   below 20 Hz, and the spectral convergence between the harmonics the voice intends and the
   output's STFT;
6. the NumPy decoder against Keras ``predict`` on one frame: ``model.keras`` when the directory has
   one, otherwise a decoder built from ``config.json`` and given the weights of ``weights.npz``.

Targets: 8 voices under 25 % of the block at p99; first sound within 0.5 s; the harmonic method's
response within 10 ms. ``--json`` prints every figure as JSON, or writes them to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from manne.errors import ParameterError
from manne.io.settings import DEFAULT_MODEL, default_model_dir
from manne.synth.limits import METHODS

DEFAULT_METHODS = ("harmonic", "coherent", "noise", "rtpghi")
TARGET_LOAD = 0.25  # 8 voices: p99 block time / block duration
TARGET_FIRST_S = 0.5
TARGET_RESPONSE_MS = 10.0  # the harmonic method
SHORT_N_FFT = 1024  # the inverse-STFT methods' fast-response frame length


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("synth", help="instrument benchmark: block cost, render speed, first sound, response, tone",
                       description="The instrument's figures: per-block compute time against the block's duration, "
                       "offline render speed, launch to first sound, response to a slider jump, the tone of a held "
                       "note, and the NumPy decoder against Keras predict.")
    p.add_argument("model", nargs="?", metavar="MODEL_DIR", help=f"model directory (default {DEFAULT_MODEL})")
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(DEFAULT_METHODS), metavar="METHOD",
                   help=f"synthesis methods to measure, of {', '.join(METHODS)} (default {' '.join(DEFAULT_METHODS)})")
    p.add_argument("--blocks", type=int, default=2000, help="blocks timed per cost figure (default 2000, at least 100)")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each render (default 10 s)")
    p.add_argument("--launches", type=int, default=5, help="fresh processes timed to first sound (default 5)")
    p.add_argument("--offsets", type=int, default=8, help="slider-jump instants per response figure (default 8)")
    p.add_argument("--no-keras", action="store_true", help="skip the Keras comparison (TensorFlow start-up is slow)")
    p.add_argument("--json", nargs="?", const="-", metavar="PATH",
                   help="print every figure as JSON after the table, or write them to PATH")
    return p


def _check(args) -> Path:
    """Check the arguments before anything heavy loads; the model directory to measure."""
    model = Path(args.model) if args.model is not None else default_model_dir()
    if args.model is None and not model.is_dir():
        raise ParameterError(f"no model given and {model} does not exist; pass MODEL_DIR "
                             "(e.g. `manne bench synth trained/NAME`)")
    for name, value, least in (("--blocks", args.blocks, 100), ("--launches", args.launches, 1),
                               ("--offsets", args.offsets, 1)):
        if value < least:
            raise ParameterError(f"{name} {value} must be at least {least}")
    if not (args.seconds > 0 and args.seconds < 3600):
        raise ParameterError(f"--seconds {args.seconds} must be between 0 and 3600")
    if args.json not in (None, "-"):
        out = Path(args.json)
        if out.is_dir():
            raise ParameterError(f"--json {out} is a directory; give a file name")
        if not out.parent.is_dir():
            raise ParameterError(f"--json {out}: the folder {out.parent} does not exist")
    return model


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def run(args) -> int:
    model_dir = _check(args)
    from manne.benchmarks import figures as F
    from manne.model.forward import Autoencoder
    from manne.synth.blas import blas_threads, limit_blas_threads
    from manne.synth.instrument import BLOCK, MAX_DECODES, nearest_present

    ae = Autoencoder.load(model_dir)
    limit_blas_threads(1)  # as the live synth: a helper BLAS thread waiting for a time slice is a drop-out
    a = ae.analysis
    block = BLOCK
    block_ms = 1e3 * block / a.sr
    widths = "-".join(str(L.W.shape[1]) for L in ae.decoder)
    threads = sorted(set(blas_threads().values()))
    fig: dict = {"model": str(model_dir), "latent": ae.latent, "decoder_widths": [L.W.shape[1] for L in ae.decoder],
                 "sr": a.sr, "block": block, "block_ms": block_ms, "blas_threads": threads, "cpus": os.cpu_count(),
                 "load_average_start": _load(), "methods": list(args.methods)}
    print(f"manne bench synth: {model_dir} (latent {ae.latent}, decoder {widths}); block {block} = {block_ms:.2f} ms "
          f"at {a.sr} Hz; BLAS threads {threads}; {os.cpu_count()} CPUs, load average {_load():.2f}", flush=True)

    # 1. block cost
    rows = []
    fig["block_cost"] = []
    for method in args.methods:
        for voices in (1, 8):
            for moving in (False, True):
                r = F.block_cost(ae, voices=voices, method=method, moving=moving, blocks=args.blocks)
                fig["block_cost"].append(r)
                target = ""
                if voices == 8:
                    target = f"< {TARGET_LOAD:.0%}  " + ("ok" if r["p99_load"] < TARGET_LOAD else "MISSED")
                rows.append((method, str(voices), "moving" if moving else "still",
                             f"{r['median_ms']:.3f} ({r['median_load']:.0%})",
                             f"{r['p99_ms']:.3f} ({r['p99_load']:.0%})",
                             f"{r['cpu_p99_ms']:.3f} ({r['cpu_p99_load']:.0%})", target))
    _section(f"Block cost: ms per {block}-sample block (share of its {block_ms:.2f} ms), {args.blocks} blocks each",
             ("method", "voices", "sliders", "median", "p99", "CPU p99", "target p99 (8 voices)"), rows)
    d = fig["decode_parts"] = F.decode_parts(ae)
    classes = len({int(nearest_present(ae.notes_present)[n % 12]) for n in F.CHORD})
    print(f"a moving slider, per pitch class: decode {d['decode_ms']:.3f} ms ({d['bins']} bins) + f0 "
          f"{d['f0_ms']:.3f} ms + harmonic amplitudes {d['amplitudes_ms']:.3f} ms; per voice: period table "
          f"{d['table_ms']:.3f} ms. The 8-note chord has {classes} pitch classes, {MAX_DECODES} re-decoded a block "
          "while sliders move.")
    print("CPU: this thread's CPU time, without the time other programs held the core: a wall p99 far above it "
          "is the shared machine, not the code.", flush=True)

    # 2. render speed
    rows = []
    fig["render"] = []
    for method in args.methods:
        rs = [F.render_speed(ae, voices=v, method=method, seconds=args.seconds) for v in (1, 8)]
        fig["render"] += rs
        rows.append((method, *(f"{r['x_real_time']:.0f}x (CPU {r['cpu_x_real_time']:.0f}x)" for r in rs)))
    _section(f"Offline render, sliders still: x real time ({args.seconds:g} s each)", ("method", "1 voice", "8 voices"),
             rows)

    # 3. launch to first sound
    try:
        f = F.first_sound(str(model_dir), runs=args.launches)
    except RuntimeError as exc:
        fig["first_sound"] = {"error": str(exc)}
        print(f"\nLaunch to first sound: failed: {exc}", flush=True)
    else:
        fig["first_sound"] = f
        ok = f["median_s"] < TARGET_FIRST_S and f["audible"]
        parts = " + ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in f["parts_s"].items())
        print(f"\nLaunch to first sound (median of {args.launches}): {f['median_s']:.3f} s "
              f"(runs {min(f['runs_s']):.3f} to {max(f['runs_s']):.3f} s), target < {TARGET_FIRST_S:g} s "
              f"{'ok' if ok else 'MISSED'}\n  parts (medians, s): {parts}; first block peak "
              f"{_dbfs(f['peak']):.0f} dBFS{'' if f['audible'] else ' (not audible)'}", flush=True)

    # 4. response to a slider jump
    rows = []
    fig["response"] = []
    for method in args.methods:
        sizes = [None] if method == "harmonic" else sorted({a.n_fft, SHORT_N_FFT}, reverse=True)
        for n_fft in sizes:
            r = F.response(ae, method=method, n_fft=n_fft, offsets=args.offsets)
            fig["response"].append(r)
            target = ""
            if method == "harmonic":
                ok = r["worst_ms"] is not None and r["worst_ms"] < TARGET_RESPONSE_MS
                target = f"< {TARGET_RESPONSE_MS:g} ms  " + ("ok" if ok else "MISSED")
            rows.append((method, "-" if method == "harmonic" else str(r["n_fft"]),
                         _samples(r["median_samples"], a.sr), _samples(r["worst_samples"], a.sr), target))
    _section(f"Response to a slider jump: samples (ms) until 90 % of the new sound, over {args.offsets} jump instants "
             "across one hop", ("method", "n_fft", "median", "worst", "target (worst)"), rows)

    # 5. tone of a held C4
    rows = []
    fig["tone"] = []
    for method in args.methods:
        t = F.tone(ae, method=method)
        fig["tone"].append(t)
        rows.append((method, f"{t['envelope_dev']:.1%}", f"{t['below_20hz']:.1e}", f"{t['spectral_convergence']:.3f}"))
    _section("Tone of a held C4 (after 0.5 s)", ("method", "20 ms RMS max deviation", "energy below 20 Hz",
                                                 "spectral convergence"), rows)

    # 6. NumPy against Keras
    fig["keras"] = {"skipped": True} if args.no_keras else _keras(model_dir, ae)
    k = fig["keras"]
    print()
    if k.get("skipped"):
        print("Decoder against Keras: skipped (--no-keras)")
    elif "error" in k:
        print(f"Decoder against Keras: failed: {k['error']}")
    else:
        print(f"Decoder, one frame of {k['bins']} bins ({k['source']}): NumPy {k['numpy_ms']:.3f} ms, "
              f"Keras predict {k['keras_ms']:.1f} ms ({k['keras_ms'] / k['numpy_ms']:.0f}x); "
              f"max |Keras - NumPy| {k['max_abs_diff']:.1e} over "
              f"{k['frames']} frames (largest magnitude {k['max_abs']:.2f})")
    fig["load_average_end"] = _load()
    print(f"load average at the end: {fig['load_average_end']:.2f}")

    fig["targets"] = _targets(fig)
    if args.json == "-":
        print(json.dumps(fig, indent=2))
    elif args.json is not None:
        from manne.io.files import write_json

        write_json(args.json, fig)
        print(f"figures written to {args.json}")
    return 0


def _targets(fig: dict) -> dict:
    """The targets and whether each was met (None when its figure is missing)."""
    eight = [r["p99_load"] for r in fig["block_cost"] if r["voices"] == 8]
    harmonic = [r["worst_ms"] for r in fig["response"] if r["method"] == "harmonic"]
    first = fig["first_sound"].get("median_s")
    audible = fig["first_sound"].get("audible", False)
    return {"eight_voices_p99_load": {"target": TARGET_LOAD, "worst": max(eight) if eight else None,
                                      "ok": all(x < TARGET_LOAD for x in eight) if eight else None},
            "first_sound_s": {"target": TARGET_FIRST_S, "value": first,
                              "ok": None if first is None else first < TARGET_FIRST_S and audible},
            "harmonic_response_ms": {"target": TARGET_RESPONSE_MS, "worst": harmonic[0] if harmonic else None,
                                     "ok": (harmonic[0] is not None and harmonic[0] < TARGET_RESPONSE_MS)
                                     if harmonic else None}}


def _keras(model_dir: Path, ae, *, frames: int = 16) -> dict:
    """One frame through the NumPy decoder and through Keras ``predict``: times and the largest difference."""
    import numpy as np

    from manne.dsp import one_hot

    try:
        decoder, source = _keras_decoder(model_dir, ae)
        rng = np.random.default_rng(0)
        lo, hi = ae.latent_range
        Z = rng.uniform(lo, hi, size=(frames, ae.latent)).astype(np.float32)
        notes = np.arange(frames) % 12
        dec = ae.prepared_decoder

        def inputs(i: slice) -> list:
            return [Z[i], one_hot(notes[i]).astype(np.float32)] if ae.config.skip else [Z[i]]

        S = np.stack([dec.one(Z[i], int(notes[i])).copy() for i in range(frames)])
        K = np.asarray(decoder.predict(inputs(slice(None)), verbose=0))
        ts = []
        for i in range(203):
            t = time.perf_counter()
            dec.one(Z[i % frames], int(notes[i % frames]))
            ts.append(time.perf_counter() - t)
        tk = []
        for i in range(23):
            t = time.perf_counter()
            decoder.predict(inputs(slice(i % frames, i % frames + 1)), verbose=0)
            tk.append(time.perf_counter() - t)
    except Exception as exc:  # noqa: BLE001 - a broken Keras set-up must not hide the other figures
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"source": source, "frames": frames, "bins": int(S.shape[1]), "max_abs_diff": float(np.abs(K - S).max()),
            "max_abs": float(np.abs(S).max()), "numpy_ms": 1e3 * float(np.median(ts[3:])),
            "keras_ms": 1e3 * float(np.median(tk[3:]))}


def _keras_decoder(model_dir: Path, ae):
    """The decoder as a Keras model, and where it came from: ``model.keras`` when the directory has
    one that loads, otherwise :func:`manne.model.network.build` of the model's configuration with
    the decoder's Dense layers ``dec0 .. decN`` set from the loaded model's (``weights.npz``, read once)."""
    from manne.model.network import build, keras, split_models

    path = model_dir / "model.keras"
    if path.is_file():
        try:
            return split_models(keras.models.load_model(str(path), compile=False), ae.config)[1], f"{path}"
        except Exception:  # noqa: BLE001 - fall back to the weights, which every model directory has
            pass
    _, _, decoder = build(ae.config)
    for i, layer in enumerate(ae.decoder):
        decoder.get_layer(f"dec{i}").set_weights([layer.W, layer.b])
    return decoder, "Keras rebuilt from config.json and weights.npz"


def _dbfs(x: float) -> float:
    import math

    return 20 * math.log10(max(x, 1e-12))


def _samples(n, sr: int) -> str:
    return "not reached" if n is None else f"{n:.0f} ({1e3 * n / sr:.1f} ms)"


def _section(title: str, head: tuple, rows: list[tuple]) -> None:
    """Print a titled table: the first column left-aligned, the others right-aligned."""
    w = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    print(f"\n{title}")
    for r in [head, *rows]:
        print("  ".join(str(c).ljust(x) if i == 0 else str(c).rjust(x) for i, (c, x) in enumerate(zip(r, w))).rstrip())
    sys.stdout.flush()
