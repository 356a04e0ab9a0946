"""``manne bench synth [MODEL_DIR]``: real-time figures of the synthesis engine.

Measures, for one model and one synthesis hop:

- the compute time per hop (decode, phase, inverse FFT, overlap-add, gain, limiter) against the
  hop's duration, median and 99th percentile: ``z`` moving with a decode every hop
  (``control_hop = hop``, the old worst case); ``z`` moving at the default control rate (one decode
  per control hop, the hops between interpolated), amortised: the time of the hops of one control
  hop divided by their number, synthesised as one block of ``control_hop`` samples (the default
  512-sample buffer is one default control hop; this line carries the goal) and hop by hop;
  ``z`` still (the cached magnitude). ``z`` gets a new target before each timed call; ``set_z``
  itself runs on the control thread and is not timed;
- the decoder's matmul chain alone, single code and batched;
- offline render speed as a multiple of real time, with ``z`` still and with ``z`` moving;
- the time from launching a Python process to its first block of audio;
- the same frames through Keras ``predict``: the model directory's ``model.keras`` when it has one,
  otherwise a decoder rebuilt with :func:`manne.model.network.build` from ``config.json`` and given the
  Dense weights of ``weights.npz``.

Goals: per-hop median < 0.2 ms at the default settings, render >= 300x real time, first sound < 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from manne.synth.limits import CONTROL_HOP, CONTROL_HOP_MAX, HOP_DEFAULT, HOP_MAX, HOP_MIN, check_control_hop, check_hop

DEFAULT_MODEL = Path("trained/default")
GOAL_HOP_MS = 0.2
GOAL_RENDER_X = 300.0
GOAL_FIRST_S = 2.0

_FIRST_SOUND = """
import sys, time, json
t0 = time.time()
from manne.model.forward import Autoencoder
from manne.synth.engine import Engine
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
    p.add_argument("--hop", type=int, default=HOP_DEFAULT,
                   help=f"synthesis hop in samples, {HOP_MIN}..{HOP_MAX} (default {HOP_DEFAULT})")
    p.add_argument("--control-hop", type=int, default=None,
                   help=f"samples between decodes while z moves, a multiple of --hop up to {CONTROL_HOP_MAX} (default: "
                   f"the engine's, {CONTROL_HOP} rounded up to a multiple of --hop)")
    p.add_argument("--hops", type=int, default=3000, help="hops to time (default 3000)")
    p.add_argument("--seconds", type=float, default=20.0, help="length of the render test (default 20 s)")
    p.add_argument("--no-keras", action="store_true", help="skip the Keras comparison (TensorFlow start-up is slow)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON too")
    return p


def _stats(ts) -> tuple[float, float]:
    import numpy as np

    a = np.asarray(ts) * 1e3
    return float(np.median(a)), float(np.percentile(a, 99))


def _time_calls(fn, n: int, *, per: int = 1, setup=None) -> tuple[float, float, tuple[float, float]]:
    """Median and p99 wall-clock ms of ``fn(i)`` for i < n, and median and p99 CPU ms of this thread.

    ``per``: the calls each do this many units of work (hops); the times are divided by it.
    ``setup(i)``: run before each call, untimed (the control thread's part, such as ``set_z``).
    """
    import numpy as np

    wall, cpu = np.empty(n), np.empty(n)
    for i in range(n):
        if setup is not None:
            setup(i)
        c = time.thread_time()
        t = time.perf_counter()
        fn(i)
        wall[i] = time.perf_counter() - t
        cpu[i] = time.thread_time() - c
    med, p99 = _stats(wall / per)
    return med, p99, _stats(cpu / per)


def run(args) -> int:
    from manne.errors import ParameterError

    if args.model is None:
        if not DEFAULT_MODEL.is_dir():
            raise ParameterError(f"no model given and {DEFAULT_MODEL} does not exist; pass MODEL_DIR "
                                 "(e.g. `manne bench synth trained/NAME`)")
        args.model = str(DEFAULT_MODEL)
    check_hop(args.hop, name="--hop")
    if args.hops < 100:
        raise ParameterError(f"--hops {args.hops} must be at least 100")
    if not args.seconds > 0:
        raise ParameterError(f"--seconds {args.seconds} must be positive")
    if args.control_hop is not None:
        check_control_hop(args.control_hop, args.hop, name="--control-hop", hop_name="--hop")

    import numpy as np

    from manne.synth.engine import Engine
    from manne.model.forward import Autoencoder

    ae = Autoencoder.load(args.model)
    H, sr, R = args.hop, ae.analysis.sr, args.hops
    hop_ms = 1e3 * H / sr
    rng = np.random.default_rng(0)
    lo, hi = ae.latent_range
    Z = (lo + (hi - lo) * rng.uniform(size=(R + 200, ae.latent))).astype(np.float32)
    notes = ae.notes_present or [0]
    note = notes[0]
    rows = []  # (measure, median, p99, cpu, unit, goal, ok)

    def engine(**kw) -> Engine:
        e = Engine(ae, hop_length=H, control_hop=args.control_hop, **kw)
        e.set_note(note)
        return e

    default = engine()
    C = default.control_hop
    per = C // H  # hops per control hop
    fig: dict = {"model": args.model, "hop_length": H, "control_hop": C, "hop_ms": hop_ms, "latent": ae.latent,
                 "widths": [L.W.shape[1] for L in ae.decoder]}
    dec = default._decoder

    # the matmul chain alone
    for i in range(200):
        dec.one(Z[i], note)
    med, p99, cpu = _time_calls(lambda i: dec.one(Z[i], note), R)
    fig["decode_ms"] = (med, p99, cpu)
    rows.append(("decode, one code (matmul chain)", med, p99, cpu, "ms", None, None))

    # z moving. set_z runs on the control thread, so it is left out of the times; a new target
    # before each timed call makes every control tick decode (z never settles on random targets).
    # A decode every hop: control_hop = hop, one hop per call
    every = Engine(ae, hop_length=H, control_hop=H)
    every.set_note(note)
    for i in range(200):
        every.set_z(Z[i])
        every.process(H)
    med, p99, cpu = _time_calls(lambda i: every.process(H), R, setup=lambda i: every.set_z(Z[i + 200]))
    fig["hop_decode_ms"] = (med, p99, cpu)
    rows.append((f"hop {H}, decode every hop (control hop {H})", med, p99, cpu, "ms", None, None))

    # the control rate, amortised: the time of the hops of one control hop (one decode, per - 1
    # interpolated hops) per hop, as blocks of control_hop samples (the default buffer, 512, is
    # one default control hop) and hop by hop (a buffer of one hop)
    def warm(e):
        for i in range(200 // per + 1):
            e.set_z(Z[i])
            e.process(C)

    def new_target(e):
        return lambda i: e.set_z(Z[i % R + 200])

    def hop_by_hop(i):
        for _ in range(per):
            by_hop.process(H)

    n_seq = max(100, R // per)
    by_block, by_hop = engine(), engine()
    warm(by_block)
    warm(by_hop)
    d0 = by_block.decodes
    med, p99, cpu = _time_calls(lambda i: by_block.process(C), n_seq, per=per, setup=new_target(by_block))
    decodes = (by_block.decodes - d0) / n_seq
    fig["hop_control_ms"] = (med, p99, cpu)
    fig["decodes_per_control_hop"] = decodes
    rows.append((f"hop {H}, control hop {C}, z moving, {C}-sample blocks: per hop", med, p99, cpu, "ms",
                 f"< {GOAL_HOP_MS} ms", med < GOAL_HOP_MS))
    med, p99, cpu = _time_calls(hop_by_hop, n_seq, per=per, setup=new_target(by_hop))
    fig["hop_control_hop_by_hop_ms"] = (med, p99, cpu)
    rows.append((f"hop {H}, control hop {C}, z moving, hop by hop: per hop", med, p99, cpu, "ms", None, None))

    # z still: the magnitude is cached
    still = engine()
    still.set_z(Z[0])
    still.render(1.0)
    med, p99, cpu = _time_calls(lambda i: still.process(H), R)
    fig["hop_cached_ms"] = (med, p99, cpu)
    rows.append((f"hop {H}, z still (cached magnitude)", med, p99, cpu, "ms", f"< {GOAL_HOP_MS} ms", med < GOAL_HOP_MS))
    rows.append((f"hop duration ({H} samples at {sr} Hz)", hop_ms, None, None, "ms", None, None))
    worst = fig["hop_control_ms"][1]
    rows.append((f"p99 per hop at control hop {C} / hop duration", 100 * worst / hop_ms, None, None, "%", "< 50 %",
                 worst < hop_ms / 2))

    # offline render speed, z still and z moving, at the default control rate
    e2 = engine()
    e2.set_z(Z[0])
    e2.render(0.5)
    c, t = time.thread_time(), time.perf_counter()
    e2.render(args.seconds)
    x_still, x_still_cpu = args.seconds / (time.perf_counter() - t), args.seconds / (time.thread_time() - c)
    fig["render_x"] = (x_still, x_still_cpu)
    rows.append((f"render {args.seconds:g} s, z still", x_still, None, x_still_cpu, "x real time",
                 f">= {GOAL_RENDER_X:g}x", x_still >= GOAL_RENDER_X))
    # z moving: one decode per control hop, decoded in batches (a matrix-matrix product, bound by
    # arithmetic, not memory), so the moving render is bound by the decoder, not by the hop's work
    keys = [(0.0, *Z[0].tolist(), note), (args.seconds, *Z[1].tolist(), notes[-1])]
    for name, key, ch in ((f"control hop {C}", "render_moving_x", args.control_hop),
                          ("decode every hop", "render_moving_every_x", H)):
        e3 = Engine(ae, hop_length=H, control_hop=ch)
        c, t = time.thread_time(), time.perf_counter()
        e3.render_automation(keys)
        x_moving, x_moving_cpu = args.seconds / (time.perf_counter() - t), args.seconds / (time.thread_time() - c)
        fig[key] = (x_moving, x_moving_cpu)
        rows.append((f"render {args.seconds:g} s, z moving (automation), {name}", x_moving, None, x_moving_cpu,
                     "x real time", None, None))

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
    notes_run = [f"control hop {C}: {decodes:.2f} decodes per control hop while z moves "
                 f"({decodes * sr / C:.0f} a second; a decode every hop would be {sr / H:.0f})"]
    batch = np.ascontiguousarray(Z[:R])
    batch_notes = np.full(R, note)
    c, t = time.thread_time(), time.perf_counter()
    dec.many(batch, batch_notes)
    np_batch_ms, np_batch_cpu = 1e3 * (time.perf_counter() - t) / R, 1e3 * (time.thread_time() - c) / R
    rows.append((f"decode, {R} codes batched (NumPy), per code", np_batch_ms, None, np_batch_cpu, "ms", None, None))
    fig["decode_batched_ms"] = np_batch_ms
    notes_run.append(f"z moving renders are bound by the decoder: {np_batch_ms:.3f} ms per batched decode x "
                     f"{sr / C:.0f} decodes a second allows at most {1e3 / (np_batch_ms * sr / C):.0f}x real time "
                     f"(the {GOAL_RENDER_X:g}x goal is for z still)")
    if args.no_keras:
        notes_run.append("Keras comparison skipped (--no-keras)")
    else:
        try:
            decoder, source = _keras_decoder(Path(args.model), ae, notes_run)
            err = _keras_error(decoder, ae, dec, Z, note)
            k_one, k_batch = _keras_times(decoder, ae, Z, note, R)
        except Exception as exc:  # a broken Keras set-up must not hide the other figures
            notes_run.append(f"Keras comparison failed: {type(exc).__name__}: {exc}")
        else:
            fig["keras_source"], fig["keras_max_abs_diff"] = source, err
            fig["keras_one_ms"], fig["keras_batched_ms"] = k_one, k_batch
            notes_run.append(f"Keras decoder: {source}; max |Keras - NumPy| over 64 codes = {err:.1e}")
            rows.append(("Keras predict, one code", k_one, None, None, "ms", None, None))
            rows.append((f"Keras predict, {R} codes batched, per code", k_batch, None, None, "ms", None, None))
            rows.append(("Keras / NumPy, one code", k_one / fig["decode_ms"][0], None, None, "x", None, None))
            rows.append(("Keras / NumPy, batched", k_batch / np_batch_ms, None, None, "x", None, None))

    _print_table(args, ae, rows, notes_run, control_hop=C)
    if args.json:
        print(json.dumps(fig, indent=2))
    return 0


def _keras_decoder(model_dir: Path, ae, notes_run: list[str]):
    """The decoder as a Keras model, and where it came from.

    ``model.keras`` when the directory has one that loads; otherwise the decoder that
    :func:`manne.model.network.build` makes from the ``config.json`` configuration, its Dense layers
    ``dec0 .. decN`` set from ``weights.npz``.
    """
    import numpy as np

    from manne.model.network import build, keras, split_models

    path = model_dir / "model.keras"
    if path.is_file():
        try:
            autoencoder = keras.models.load_model(str(path), compile=False)
            return split_models(autoencoder, ae.config)[1], f"loaded from {path}"
        except Exception as exc:  # fall back to the weights, which every model directory has
            notes_run.append(f"{path} does not load ({type(exc).__name__}: {exc}); rebuilding the decoder instead")
    autoencoder, _, _ = build(ae.config)
    decoder = autoencoder.get_layer("decoder")
    n = len(ae.config.hidden) + 1
    with np.load(model_dir / "weights.npz", allow_pickle=False) as w:
        for i in range(n):
            decoder.get_layer(f"dec{i}").set_weights([w[f"decoder/{i}/W"], w[f"decoder/{i}/b"]])
    return decoder, f"rebuilt from {model_dir / 'config.json'} and weights.npz"


def _keras_inputs(ae, z, note: int) -> list:
    import numpy as np

    from manne.dsp import one_hot

    z = np.atleast_2d(z).astype(np.float32)
    return [z, one_hot(np.full(len(z), note))] if ae.config.skip else [z]


def _keras_error(decoder, ae, dec, Z, note: int) -> float:
    """Max |Keras - NumPy| of the decoded magnitudes of 64 codes (a check that both run the same model)."""
    import numpy as np

    k = np.asarray(decoder.predict(_keras_inputs(ae, Z[:64], note), verbose=0))
    return float(np.abs(k - dec.many(np.ascontiguousarray(Z[:64]), np.full(64, note))).max())


def _keras_times(decoder, ae, Z, note: int, R: int) -> tuple[float, float]:
    """Median ms of one-code ``predict`` and per-code ms of a batched ``predict`` of the decoder."""
    import numpy as np

    for i in range(5):
        decoder.predict(_keras_inputs(ae, Z[i], note), verbose=0)
    ts = []
    for i in range(min(R, 50)):
        t = time.perf_counter()
        decoder.predict(_keras_inputs(ae, Z[i], note), verbose=0)
        ts.append(time.perf_counter() - t)
    one = 1e3 * float(np.median(ts))
    decoder.predict(_keras_inputs(ae, Z[:R], note), verbose=0, batch_size=1024)
    t = time.perf_counter()
    decoder.predict(_keras_inputs(ae, Z[:R], note), verbose=0, batch_size=1024)
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


def _print_table(args, ae, rows, notes_run, *, control_hop: int) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    widths = "-".join(str(L.W.shape[1]) for L in ae.decoder)
    print(f"manne bench synth: {args.model} (latent {ae.latent}, decoder {widths}), hop {args.hop}, "
          f"control hop {control_hop}, {os.cpu_count()} CPUs, load average {load:.1f}")
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
