"""The key-press latency command line: the trials (every process started and stopped here) and ``main``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tools.keypress import APT_LINE
from tools.keypress.capture import Capture, load_raw, save_raw, write_wav
from tools.keypress.control import control_window
from tools.keypress.onset import END_S, PRE_S
from tools.keypress.pulse import check_sink, pulse_latencies, start_pulse
from tools.keypress.report import analyze, report
from tools.keypress.xserver import XTest, focus, start_xvfb, wait_for_window, xdotool
from tools.procs import SetupError, check_tools, spawn, stop, tail

__all__ = ["main", "parse", "run_trials"]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "keypress_latency.py"  # the entry point (the --control window runs it again)
DEFAULT_COMMAND = [str(ROOT / ".venv" / "bin" / "manne"), "synth", "--buffer", "256", "--device", "pulse"]


def buffer_of(cmd: list[str]) -> str:
    for i, a in enumerate(cmd):
        if a == "--buffer" and i + 1 < len(cmd):
            return cmd[i + 1]
        if a.startswith("--buffer="):
            return a.split("=", 1)[1]
    return "the synth's default"



def run_trials(args, cmd: list[str], stack: contextlib.ExitStack) -> dict:
    """Start everything, press the keys, record; return the capture, its sample times and the press stamps."""
    logdir = Path(tempfile.mkdtemp(prefix="keypress-logs-"))
    stack.callback(shutil.rmtree, logdir, ignore_errors=True)  # registered first: removed last
    env = dict(os.environ)
    if args.display:
        display = args.display
    else:
        display = start_xvfb(stack, env, logdir)
    env["DISPLAY"] = display
    if args.pulse_server:
        env["PULSE_SERVER"] = args.pulse_server
        check_sink(env, args.sink)
    else:
        env = start_pulse(stack, env, args.sink, logdir)
        env["DISPLAY"] = display

    synth_log = logdir / "synth.log"
    synth = spawn(cmd, env=env, log=synth_log)
    stack.callback(stop, synth, first=signal.SIGINT)  # the synth's SIGINT handler closes the window properly
    t_launch = time.monotonic()
    wid = wait_for_window(env, args.window_name, synth, synth_log, args.window_timeout)
    t_window = time.monotonic()
    focus(env, wid)

    cap = Capture(env, f"{args.sink}.monitor", latency_ms=args.parec_latency, log=logdir / "parec.log")
    stack.callback(cap.close)
    cap.wait_for_data()
    time.sleep(args.settle)
    pulse = pulse_latencies(env)
    keys = args.keys
    if args.press == "xtest":
        xtest = XTest(display)
        stack.callback(xtest.close)
        keydown, keyup = (lambda k: xtest.key(k, True)), (lambda k: xtest.key(k, False))
    else:
        # --delay 0: xdotool otherwise sleeps ~12 ms after the event, widening the press window
        keydown = lambda k: xdotool(env, "keydown", "--delay", "0", k)  # noqa: E731
        keyup = lambda k: xdotool(env, "keyup", "--delay", "0", k)  # noqa: E731
    if args.onset == "change" and len(keys) > 1:  # the synth may already be on keys[0]: start elsewhere
        keydown(keys[-1])
        time.sleep(args.hold)
        keyup(keys[-1])
        time.sleep(args.gap)

    presses = []
    for i in range(args.trials):
        key = keys[i % len(keys)]
        if synth.poll() is not None:
            raise SetupError(f"the synth exited (status {synth.returncode}) during trial {i + 1}: {tail(synth_log)}")
        down = keydown(key)
        time.sleep(max(0.0, args.hold - (time.monotonic() - down[1])))
        up = keyup(key)
        time.sleep(max(0.0, args.gap - (time.monotonic() - up[1])))
        presses.append((key, *down, *up))
        if not args.quiet:
            print(f"\rtrial {i + 1}/{args.trials}", end="", file=sys.stderr, flush=True)
    if not args.quiet:
        print(file=sys.stderr)
    time.sleep(0.2)
    cap.close()
    y, t = cap.samples()
    gaps = np.diff([m[0] for m in cap._marks])
    meta = {"command": cmd, "buffer": buffer_of(cmd), "keys": keys, "press": args.press, "hold_s": args.hold,
            "gap_s": args.gap, "parec_latency_msec": args.parec_latency,
            "parec_chunk_interval_ms_median": 1e3 * float(np.median(gaps)) if len(gaps) else None,
            "window_after_s": t_window - t_launch, "display": display, "pulse_latencies": pulse,
            "t_launch": t_launch}
    return {"y": y, "t": t, "presses": presses, "meta": meta}



def parse(argv: list[str]):
    own, cmd = (argv[: argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    p = argparse.ArgumentParser(
        prog="keypress_latency.py", description="Key-press-to-sound latency of the synth window, end to end.",
        epilog="Everything after -- is the synth command (default: .venv/bin/manne synth --buffer 256 --device pulse).")
    p.add_argument("--trials", type=int, default=20, help="key presses to measure (default 20)")
    p.add_argument("--keys", help="comma-separated keys, cycled (default: a for --onset energy, a,d,g for change)")
    p.add_argument("--onset", choices=("energy", "change"), default="energy",
                   help="energy: a note from silence; change: a change of a sound that already plays (default energy)")
    p.add_argument("--press", choices=("xdotool", "xtest"), default="xdotool",
                   help="xdotool: one `xdotool keydown/keyup` process per event (default); xtest: libXtst in this "
                        "process, press time known to ~0.1 ms")
    p.add_argument("--hold", type=float, default=0.3, help="seconds each key is held (default 0.3)")
    p.add_argument("--gap", type=float, default=0.4, help="seconds after each release (default 0.4)")
    p.add_argument("--settle", type=float, default=1.5,
                   help="seconds between the window appearing and trial 1 (default 1.5)")
    p.add_argument("--fraction", type=float, default=0.5,
                   help="--onset change: fraction of the eventual change (default 0.5; 0.1: the first departure)")
    p.add_argument("--rise-db", type=float, default=20.0,
                   help="--onset energy: dB above the pre-press RMS (default 20)")
    p.add_argument("--floor-db", type=float, default=-60.0, help="--onset energy: lowest threshold, dBFS (default -60)")
    p.add_argument("--parec-latency", type=float, default=5.0, help="parec --latency-msec (default 5)")
    p.add_argument("--window-name", default="^manne ", help="xdotool --name regex of the window (default '^manne ')")
    p.add_argument("--window-timeout", type=float, default=60.0, help="seconds to wait for the window (default 60)")
    p.add_argument("--display", help="use this X display (e.g. :99) instead of starting Xvfb")
    p.add_argument("--pulse-server", help="use this PulseAudio server (e.g. unix:/run/user/1000/pulse/native) "
                                          "instead of starting one; --sink must be its default sink")
    p.add_argument("--sink", default="null",
                   help="null sink to create (or, with --pulse-server, to monitor); default null")
    p.add_argument("--control", action="store_true",
                   help="calibration: measure a bare Tk+PyAudio window (tone on key press, or a drone's pitch with "
                        "--onset change) with the --buffer of the command, instead of the synth")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the figures to OUT as JSON")
    p.add_argument("--capture", type=Path, metavar="WAV", help="also write the captured audio (16-bit WAV)")
    p.add_argument("--raw", type=Path, metavar="NPZ", help="also save the capture, its sample times and the press "
                                                          "stamps, for --from-raw")
    p.add_argument("--from-raw", type=Path, metavar="NPZ", help="start nothing: analyse a capture saved with --raw "
                                                               "again (e.g. with another --onset or --fraction)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    args = p.parse_args(own)
    if args.trials < 1:
        p.error(f"--trials={args.trials} must be at least 1")
    if not 0 < args.fraction < 1:
        p.error(f"--fraction={args.fraction} must be between 0 and 1")
    if args.hold < 2 * END_S or args.gap < 0.1:
        p.error(f"--hold={args.hold} must be at least {2 * END_S:g} s and --gap={args.gap} at least 0.1 s")
    if args.hold + args.gap < PRE_S + 0.2:
        p.error(f"--hold + --gap must be at least {PRE_S + 0.2:g} s (the pre-press reference needs quiet time)")
    keys = args.keys.split(",") if args.keys else (["a"] if args.onset == "energy" else ["a", "d", "g"])
    args.keys = [k.strip() for k in keys if k.strip()]
    if not args.keys:
        p.error("--keys names no key")
    if args.onset == "change" and len(set(args.keys)) == 1:
        print("warning: --onset change with one key: if a press only changes pitch, pressing the same key again "
              "changes nothing (give --keys a,d,g)", file=sys.stderr)
    if args.from_raw is not None and not args.from_raw.is_file():
        p.error(f"--from-raw {args.from_raw}: no such file")
    for path in (args.json, args.capture, args.raw):
        if path is not None and not path.parent.is_dir():
            p.error(f"{path}: folder {path.parent} does not exist")
    cmd = cmd or list(DEFAULT_COMMAND)
    if args.control:
        buffer = buffer_of(cmd)
        cmd = [sys.executable, str(SCRIPT), "control-window",
               "--buffer", buffer if buffer.isdigit() else "512",
               "--sound", "note" if args.onset == "energy" else "drone"]
    return args, cmd



def _interrupt(signum, frame):
    raise KeyboardInterrupt



def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["control-window"]:
        return control_window(argv[1:])
    args, cmd = parse(argv)
    exe = cmd[0]
    runnable = shutil.which(exe) is not None or (os.path.isfile(exe) and os.access(exe, os.X_OK))
    if args.from_raw is None and not runnable:
        print(f"keypress_latency: error: the synth command {exe!r} is not an executable file or on PATH",
              file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, _interrupt)  # also when started with SIGINT ignored (a background job)
    signal.signal(signal.SIGTERM, _interrupt)  # clean up as on Ctrl-C
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        if args.from_raw is not None:
            raw = load_raw(args.from_raw)
        else:
            check_tools(["xdotool", "pactl", "parec"] + ([] if args.display else ["Xvfb"])
                        + ([] if args.pulse_server else ["pulseaudio"]), install=APT_LINE)
            with contextlib.ExitStack() as stack:
                raw = run_trials(args, cmd, stack)
            if args.capture:
                write_wav(args.capture, raw["y"])
            if args.raw:
                save_raw(args.raw, raw)
        res = analyze(raw, args)
    except SetupError as exc:
        print(f"keypress_latency: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nkeypress_latency: interrupted; every process it started is stopped", file=sys.stderr)
        return 130
    report(res)
    if args.json:
        tmp = args.json.with_name(args.json.name + ".part")
        tmp.write_text(json.dumps(res, indent=2) + "\n")
        os.replace(tmp, args.json)
        print(f"wrote {args.json}")
    return 0
