#!/usr/bin/env python3
"""Input-to-output latency of the live timbre transfer (``manne synth --input``), end to end.

    .venv/bin/python scripts/transfer_latency.py                          # bundled model, 3 runs
    .venv/bin/python scripts/transfer_latency.py --runs 5 --buffer 512 --json out/latency.json
    .venv/bin/python scripts/transfer_latency.py --model trained/cello -- --offset 0,0,0.3,0,0,0,0,0

How it measures
---------------
It starts its own PulseAudio daemon (a temporary ``XDG_RUNTIME_DIR``) with a stereo null sink
``xlat``, a remap source ``xlat_l`` (the left channel of ``xlat``'s monitor) and a remap sink
``xlat_r`` (which plays into ``xlat``'s right channel). The transfer runs as
``manne synth MODEL --input pulse --device pulse`` with ``PULSE_SOURCE=xlat_l PULSE_SINK=xlat_r``:
it hears the left channel and answers on the right. A stereo test file, tones on the left and
silence on the right, is played into ``xlat`` with ``paplay`` while ``parec`` records
``xlat.monitor``: one recording on one clock holds the input as it entered the sink (left) and
the transfer's output as it came back (right). Nothing is fed back: the transfer hears only the left.

The latency is the lag of the right channel behind the left: the peak of their normalised
cross-correlation (the transfer resynthesises with the input's own phase, so its output correlates
with its input) in each 1 s window of the input, the median of the windows that correlate above 0.5. It includes PortAudio's and PulseAudio's input and output
buffering on top of the engine's delay (``n_fft - gcd(buffer, hop)`` plus the buffering between the
input and output streams, which the command prints).

Needs pulseaudio, pactl, paplay, parec (``sudo apt-get install pulseaudio pulseaudio-utils
libasound2-plugins``), NumPy and soundfile. Every process it starts is stopped on exit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the repository: tools/

from tools.procs import SetupError  # noqa: E402
from tools.pulse import PROTOCOL, private_env, start_daemon  # noqa: E402

SR = 44100


def tones(seconds: float, *, sr: int = SR, seed: int = 0) -> np.ndarray:
    """Harmonic notes with sharp attacks, a new pitch every 0.4 s; shape (n,), float32, peak 0.4."""
    rng = np.random.default_rng(seed)
    n_note = int(0.4 * sr)
    t = np.arange(n_note) / sr
    out = []
    for _ in range(int(np.ceil(seconds / 0.4))):
        f0 = 440.0 * 2 ** ((int(rng.integers(45, 80)) - 69) / 12)
        y = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 9) if k * f0 < sr / 2)
        out.append(y * np.exp(-4.0 * t))
    y = np.concatenate(out)[: int(seconds * sr)]
    return (0.4 * y / np.abs(y).max()).astype(np.float32)


def window_lags(left: np.ndarray, right: np.ndarray, *, sr: int = SR, max_lag: float = 0.5,
                window: float = 1.0) -> list[tuple[int, float]]:
    """Lag of ``right`` behind ``left`` in each ``window``-second stretch of ``left`` where it sounds: the
    peak of their cross-correlation over lags 0..``max_lag`` s, as (lag in samples, normalised peak 0..1)."""
    n_win, n_lag = int(window * sr), int(max_lag * sr)
    out = []
    for a in range(0, len(left) - n_win - n_lag + 1, n_win):
        x, y = left[a : a + n_win].astype(np.float64), right[a : a + n_win + n_lag].astype(np.float64)
        if np.sqrt(np.mean(x * x)) < 1e-3:
            continue
        n = 1 << int(np.ceil(np.log2(len(y) + len(x))))
        cc = np.fft.irfft(np.fft.rfft(y, n) * np.conj(np.fft.rfft(x, n)), n)[: n_lag + 1]
        energy = np.concatenate(([0.0], np.cumsum(y * y)))
        local = energy[np.arange(n_lag + 1) + n_win] - energy[: n_lag + 1]  # right's energy under each lag
        r = cc / np.sqrt(np.sum(x * x) * np.maximum(local, 1e-12))
        k = int(np.argmax(r))
        out.append((k, float(r[k])))
    return out


def start_pulse(runtime: Path) -> dict:
    env = private_env(runtime)
    try:
        start_daemon(env, [PROTOCOL, "--load=module-null-sink sink_name=xlat channels=2",
                           "--load=module-remap-source source_name=xlat_l master=xlat.monitor channels=1 channel_map=mono "
                           "master_channel_map=front-left remix=no",
                           "--load=module-remap-sink sink_name=xlat_r master=xlat channels=1 channel_map=mono "
                           "master_channel_map=front-right remix=no"])
    except SetupError as exc:
        raise SystemExit(str(exc)) from None
    return env


def stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def one_run(env: dict, wav: Path, *, model: str, buffer: int, seconds: float, extra: list[str], work: Path) -> dict:
    """Run the transfer once while the test file plays; the recording's lags and the command's report."""
    cmd = [sys.executable, "-m", "manne.cli", "synth", model, "--input", "pulse", "--device", "pulse",
           "--buffer", str(buffer), "--seconds", f"{seconds + 4:.1f}", *extra]
    log = work / "synth.log"
    synth = rec = None
    try:
        with open(log, "w") as fh:
            synth = subprocess.Popen(cmd, env=dict(env, PULSE_SOURCE="xlat_l", PULSE_SINK="xlat_r"), stdout=fh,
                                     stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 30
        while "live transfer:" not in log.read_text(errors="replace"):
            if synth.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the transfer did not start:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        time.sleep(1.0)  # the input stream delivers its first buffers
        raw = work / "rec.raw"
        with open(raw, "wb") as fh:
            rec = subprocess.Popen(["parec", "-d", "xlat.monitor", "--channels=2", "--format=float32le", f"--rate={SR}",
                                    "--latency-msec=10"], env=env, stdout=fh)
            time.sleep(0.3)
            subprocess.run(["paplay", "-d", "xlat", str(wav)], env=env, check=True, timeout=seconds + 20)
            time.sleep(0.7)
            stop(rec)
        synth.wait(timeout=seconds + 30)
    finally:
        stop(rec)
        stop(synth)
    text = log.read_text(errors="replace")
    x = np.fromfile(raw, dtype=np.float32)
    x = x[: len(x) // 2 * 2].reshape(-1, 2)
    lags = window_lags(x[:, 0], x[:, 1])
    good = [k for k, peak in lags if peak > 0.5]
    lines = [line for line in text.splitlines() if line.startswith(("live transfer:", "stopped after"))]
    return {"lag": int(np.median(good)) if good else None, "windows": len(lags), "clear": len(good),
            "lags": [k for k, _ in lags], "report": lines}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(ROOT / "trained" / "default"))
    p.add_argument("--buffer", type=int, default=256)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", type=float, default=4.0, help="length of the test signal")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("extra", nargs="*", help="more options for `manne synth` after --")
    args = p.parse_args(argv)
    missing = [t for t in ("pulseaudio", "pactl", "paplay", "parec") if shutil.which(t) is None]
    if missing:
        raise SystemExit(f"{', '.join(missing)} not found: sudo apt-get install pulseaudio pulseaudio-utils libasound2-plugins")
    import soundfile as sf

    # the daemon may still be writing its runtime files as it exits: never fail the measurement on them
    with tempfile.TemporaryDirectory(prefix="manne-xlat-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        runtime = work / "rt"
        runtime.mkdir(mode=0o700)
        y = tones(args.seconds)
        wav = work / "test.wav"
        sf.write(wav, np.stack([y, np.zeros_like(y)], axis=1), SR)
        env = start_pulse(runtime)
        try:
            runs = [one_run(env, wav, model=args.model, buffer=args.buffer, seconds=args.seconds, extra=args.extra,
                            work=work) for _ in range(args.runs)]
        finally:
            subprocess.run(["pulseaudio", "-k"], env=env, capture_output=True)
            deadline = time.monotonic() + 5  # -k only asks: wait until the daemon has gone
            while (runtime / "pulse" / "pid").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
    for i, r in enumerate(runs, 1):
        ms = "no clear lag" if r["lag"] is None else f"{r['lag']} samples ({1e3 * r['lag'] / SR:.1f} ms)"
        print(f"run {i}: {ms}, {r['clear']} of {r['windows']} windows clear; windows {r['lags']}")
        for line in r["report"]:
            print(f"    {line}")
    found = [r["lag"] for r in runs if r["lag"] is not None]
    result = {"buffer": args.buffer, "sr": SR, "runs": runs,
              "median_samples": int(np.median(found)) if found else None,
              "median_ms": round(1e3 * float(np.median(found)) / SR, 1) if found else None,
              "load_average": os.getloadavg()}
    if found:
        print(f"input to output: median {result['median_samples']} samples ({result['median_ms']} ms) over "
              f"{len(found)} runs; load average {result['load_average'][0]:.2f}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
