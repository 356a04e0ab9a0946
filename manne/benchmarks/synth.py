"""``manne bench synth [MODEL_DIR]``: real-time figures of the synthesis engine.

Measures, for one model and one synthesis hop:

- the time of one hop (decode, phase, inverse FFT, overlap-add, gain, limiter) against the hop's
  duration: with ``z`` moving every hop (a decode every hop, the worst case) and with ``z`` still
  (the cached magnitude), median and 99th percentile;
- the decoder's matmul chain alone, single code and batched;
- offline render speed as a multiple of real time, with ``z`` still and with ``z`` moving;
- the time from launching a Python process to its first block of audio;
- the same frames through Keras ``predict`` (when the model directory has ``model.keras``).

Goals: hop median < 0.2 ms, render >= 300x real time, first sound < 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_MODEL = Path("trained/default")
GOAL_HOP_MS = 0.2
GOAL_RENDER_X = 300.0
GOAL_FIRST_S = 2.0

_FIRST_SOUND = """
import sys, time, json
t0 = time.time()
from manne.forward import Autoencoder
from manne.engine import Engine
ae = Autoencoder.load(sys.argv[1])
t1 = time.time()
engine = Engine(ae)
y = engine.process(512)
t2 = time.time()
print(json.dumps({"loaded": t1, "first": t2, "imported": t0, "n": len(y)}))
"""


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("synth", help="real-time synth benchmark (per-hop time, render speed, start-up)",
                       description="Per-hop compute time against the hop's duration, offline render speed, time to "
                       "first sound, and the NumPy decoder against Keras predict.")
    p.add_argument("model", nargs="?", metavar="MODEL_DIR", help=f"model directory (default {DEFAULT_MODEL})")
    p.add_argument("--hop", type=int, default=256, help="synthesis hop in samples, 64..1024 (default 256)")
    p.add_argument("--hops", type=int, default=3000, help="hops to time (default 3000)")
    p.add_argument("--seconds", type=float, default=20.0, help="length of the render test (default 20 s)")
    p.add_argument("--no-keras", action="store_true", help="skip the Keras comparison (TensorFlow start-up is slow)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON too")
    return p


def _stats(ts) -> tuple[float, float]:
    import numpy as np

    a = np.asarray(ts) * 1e3
    return float(np.median(a)), float(np.percentile(a, 99))


def _time_calls(fn, n: int) -> tuple[float, float, tuple[float, float]]:
    """Median and p99 wall-clock ms of ``fn(i)`` for i < n, and median and p99 CPU ms of this thread."""
    import numpy as np

    wall, cpu = np.empty(n), np.empty(n)
    for i in range(n):
        c = time.thread_time()
        t = time.perf_counter()
        fn(i)
        wall[i] = time.perf_counter() - t
        cpu[i] = time.thread_time() - c
    med, p99 = _stats(wall)
    return med, p99, _stats(cpu)


def run(args) -> int:
    from ..errors import ParameterError

    if args.model is None:
        if not DEFAULT_MODEL.is_dir():
            raise ParameterError(f"no model given and {DEFAULT_MODEL} does not exist; pass MODEL_DIR "
                                 "(e.g. `manne bench synth trained/NAME`)")
        args.model = str(DEFAULT_MODEL)
    if not 64 <= args.hop <= 1024:
        raise ParameterError(f"--hop {args.hop} must be from 64 to 1024 samples")
    if args.hops < 100:
        raise ParameterError(f"--hops {args.hops} must be at least 100")
    if not args.seconds > 0:
        raise ParameterError(f"--seconds {args.seconds} must be positive")

    import numpy as np

    from ..engine import Engine
    from ..forward import Autoencoder

    ae = Autoencoder.load(args.model)
    H, sr, R = args.hop, ae.analysis.sr, args.hops
    hop_ms = 1e3 * H / sr
    rng = np.random.default_rng(0)
    lo, hi = ae.latent_range
    Z = (lo + (hi - lo) * rng.uniform(size=(R + 200, ae.latent))).astype(np.float32)
    notes = ae.notes_present or [0]
    note = notes[0]
    rows = []  # (measure, median, p99, cpu, unit, goal, ok)
    fig: dict = {"model": args.model, "hop_length": H, "hop_ms": hop_ms, "latent": ae.latent,
                 "widths": [L.W.shape[1] for L in ae.decoder]}

    engine = Engine(ae, hop_length=H)
    dec = engine._decoder

    # the matmul chain alone
    for i in range(200):
        dec.one(Z[i], note)
    med, p99, cpu = _time_calls(lambda i: dec.one(Z[i], note), R)
    fig["decode_ms"] = (med, p99, cpu)
    rows.append(("decode, one code (matmul chain)", med, p99, cpu, "ms", None, None))

    # a hop with a decode every hop: z moves every hop
    engine.set_note(note)
    for i in range(200):
        engine.set_z(Z[i])
        engine.process(H)

    def moving(i):
        engine.set_z(Z[i + 200])
        engine.process(H)

    med, p99, cpu = _time_calls(moving, R)
    fig["hop_decode_ms"] = (med, p99, cpu)
    rows.append((f"hop {H}, decode every hop", med, p99, cpu, "ms", f"< {GOAL_HOP_MS} ms", med < GOAL_HOP_MS))

    # a hop with z still: the magnitude is cached
    engine.set_z(Z[0])
    engine.render(1.0)
    med, p99, cpu = _time_calls(lambda i: engine.process(H), R)
    fig["hop_cached_ms"] = (med, p99, cpu)
    rows.append((f"hop {H}, cached magnitude", med, p99, cpu, "ms", f"< {GOAL_HOP_MS} ms", med < GOAL_HOP_MS))
    rows.append((f"hop duration ({H} samples at {sr} Hz)", hop_ms, None, None, "ms", None, None))
    worst = fig["hop_decode_ms"][1]
    rows.append(("worst-case p99 hop / hop duration", 100 * worst / hop_ms, None, None, "%", "< 50 %", worst < hop_ms / 2))

    # offline render speed, z still and z moving
    e2 = Engine(ae, hop_length=H)
    e2.set_z(Z[0])
    e2.set_note(note)
    e2.render(0.5)
    c, t = time.thread_time(), time.perf_counter()
    e2.render(args.seconds)
    x_still, x_still_cpu = args.seconds / (time.perf_counter() - t), args.seconds / (time.thread_time() - c)
    fig["render_x"] = (x_still, x_still_cpu)
    rows.append((f"render {args.seconds:g} s, z still", x_still, None, x_still_cpu, "x real time",
                 f">= {GOAL_RENDER_X:g}x", x_still >= GOAL_RENDER_X))
    keys = [(0.0, *Z[0].tolist(), note), (args.seconds, *Z[1].tolist(), notes[-1])]
    e3 = Engine(ae, hop_length=H)
    c, t = time.thread_time(), time.perf_counter()
    e3.render_automation(keys)
    x_moving, x_moving_cpu = args.seconds / (time.perf_counter() - t), args.seconds / (time.thread_time() - c)
    fig["render_moving_x"] = (x_moving, x_moving_cpu)
    rows.append((f"render {args.seconds:g} s, z moving (automation)", x_moving, None, x_moving_cpu, "x real time",
                 None, None))

    # launch to first audio
    env = dict(os.environ)
    t = time.time()
    res = subprocess.run([sys.executable, "-c", _FIRST_SOUND, str(args.model)], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        rows.append(("launch to first audio block", float("nan"), None, None, "s", f"< {GOAL_FIRST_S:g} s", False))
        print(res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "first-sound subprocess failed", file=sys.stderr)
    else:
        out = json.loads(res.stdout.strip().splitlines()[-1])
        first = out["first"] - t
        fig["first_sound_s"] = first
        fig["first_sound_import_s"] = out["imported"] - t
        rows.append(("launch to first audio block", first, None, None, "s", f"< {GOAL_FIRST_S:g} s", first < GOAL_FIRST_S))

    # Keras
    notes_run = []
    keras_path = Path(args.model) / "model.keras"
    batch = np.ascontiguousarray(Z[:R])
    batch_notes = np.full(R, note)
    c, t = time.thread_time(), time.perf_counter()
    dec.many(batch, batch_notes)
    np_batch_ms, np_batch_cpu = 1e3 * (time.perf_counter() - t) / R, 1e3 * (time.thread_time() - c) / R
    rows.append((f"decode, {R} codes batched (NumPy), per code", np_batch_ms, None, np_batch_cpu, "ms", None, None))
    fig["decode_batched_ms"] = np_batch_ms
    if args.no_keras:
        notes_run.append("Keras comparison skipped (--no-keras)")
    elif not keras_path.is_file():
        notes_run.append(f"Keras comparison skipped: {keras_path} does not exist")
    else:
        try:
            k_one, k_batch = _keras_times(keras_path, ae, Z, note, R)
        except Exception as exc:  # a broken or incompatible model.keras must not hide the other figures
            notes_run.append(f"Keras comparison skipped: {type(exc).__name__}: {exc}")
        else:
            fig["keras_one_ms"], fig["keras_batched_ms"] = k_one, k_batch
            rows.append(("Keras predict, one code", k_one, None, None, "ms", None, None))
            rows.append((f"Keras predict, {R} codes batched, per code", k_batch, None, None, "ms", None, None))
            rows.append(("Keras / NumPy, one code", k_one / fig["decode_ms"][0], None, None, "x", None, None))
            rows.append(("Keras / NumPy, batched", k_batch / np_batch_ms, None, None, "x", None, None))

    _print_table(args, ae, rows, notes_run)
    if args.json:
        print(json.dumps(fig, indent=2))
    return 0


def _keras_times(path: Path, ae, Z, note: int, R: int) -> tuple[float, float]:
    """Median ms of one-code ``predict`` and per-code ms of a batched ``predict`` of the decoder."""
    import numpy as np

    from ..dsp import one_hot
    from ..model import keras, split_models

    autoencoder = keras.models.load_model(str(path), compile=False)
    _, decoder = split_models(autoencoder, ae.config)

    def inputs(z):
        z = np.atleast_2d(z).astype(np.float32)
        return [z, one_hot(np.full(len(z), note))] if ae.config.skip else [z]

    for i in range(5):
        decoder.predict(inputs(Z[i]), verbose=0)
    ts = []
    for i in range(min(R, 50)):
        t = time.perf_counter()
        decoder.predict(inputs(Z[i]), verbose=0)
        ts.append(time.perf_counter() - t)
    one = 1e3 * float(np.median(ts))
    decoder.predict(inputs(Z[:R]), verbose=0, batch_size=1024)
    t = time.perf_counter()
    decoder.predict(inputs(Z[:R]), verbose=0, batch_size=1024)
    batched = 1e3 * (time.perf_counter() - t) / R
    return one, batched


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return ""
    if v != v:  # NaN
        return "failed"
    if unit == "ms":
        return f"{v:.3f}"
    if unit in ("x real time", "x"):
        return f"{v:,.0f}x" if v >= 10 else f"{v:.1f}x"
    if unit == "s":
        return f"{v:.2f} s"
    if unit == "%":
        return f"{v:.1f} %"
    return f"{v:g}"


def _print_table(args, ae, rows, notes_run) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    widths = "-".join(str(L.W.shape[1]) for L in ae.decoder)
    print(f"manne bench synth: {args.model} (latent {ae.latent}, decoder {widths}), hop {args.hop}, "
          f"{os.cpu_count()} CPUs, load average {load:.1f}")
    head = ("measure", "median", "p99", "CPU (median / p99)", "goal", "")
    body = []
    for name, med, p99, cpu, unit, goal, ok in rows:
        suffix = " ms" if unit == "ms" else ""
        if isinstance(cpu, tuple):
            cpu_text = f"{_fmt(cpu[0], unit)} / {_fmt(cpu[1], unit)}{suffix}"
        else:
            cpu_text = (_fmt(cpu, unit) + suffix) if cpu is not None else ""
        body.append((name, _fmt(med, unit) + suffix, (_fmt(p99, unit) + suffix) if p99 is not None else "",
                     cpu_text, goal or "",
                     "" if ok is None else ("ok" if ok else "MISSED")))
    w = [max(len(r[i]) for r in [head] + body) for i in range(6)]
    line = "  ".join("-" * x for x in w)
    print(line)
    print("  ".join(h.ljust(x) if i == 0 else h.rjust(x) for i, (h, x) in enumerate(zip(head, w))))
    print(line)
    for r in body:
        print("  ".join(c.ljust(x) if i in (0, 5) else c.rjust(x) for i, (c, x) in enumerate(zip(r, w))))
    print(line)
    print("median, p99: wall-clock time. CPU: this thread's CPU time, which leaves out time the process was\n"
          "preempted: a wall p99 far above the CPU p99 means other programs took the cores, not slow code.")
    for n in notes_run:
        print(f"note: {n}")
