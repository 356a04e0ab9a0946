"""The soak's command line: the synth streams for ``--seconds`` under the traffic and the load; the figures."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from tools import soak
from tools.soak.servers import TimedEngine, cpu_seconds, start_jack, start_pulse
from tools.soak.traffic import midi_traffic, sender_main

__all__ = ["main", "LOAD_CODE", "ONE_THREAD"]

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "control_soak.py"  # the entry point (the sender runs it again)
LOAD_CODE = "import numpy as np\na = np.random.rand(300, 300)\nwhile True:\n    a = (a @ a.T) / 300.0\n"
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="control_soak.py", description=soak.__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--model", default=None, help="model directory (default: the bundled one)")
    ap.add_argument("--device", help="output device (default: pulse, on a private null sink started here)")
    ap.add_argument("--buffer", type=int, default=256)
    ap.add_argument("--method", default="harmonic")
    ap.add_argument("--load", type=int, default=1, help="busy processes (default 1: the other core)")
    ap.add_argument("--midi-rate", type=float, default=200.0, help="MIDI messages a second (0: none)")
    ap.add_argument("--osc-rate", type=float, default=100.0, help="OSC messages a second (0: none)")
    ap.add_argument("--rt", action="store_true",
                    help="real-time FIFO scheduling for the audio callback thread and the PulseAudio daemon, and a "
                    "1 ms GIL switch interval (needs root or CAP_SYS_NICE)")
    ap.add_argument("--json", help="write the figures here too")
    ap.add_argument("--sender", action="store_true", help=argparse.SUPPRESS)  # the traffic's own process
    ap.add_argument("--osc-port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--latent", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.sender:
        return sender_main(args)

    from manne.io.settings import default_model_dir
    from manne.control.midi import MidiIn, handle_message
    from manne.control.osc import OscIn
    from manne.control.session import Session
    from manne.model.forward import Autoencoder
    from manne.synth.instrument import Synth
    from manne.synth.stream import AudioOut

    tmp = Path(tempfile.mkdtemp(prefix="manne-soak-"))
    pulse = None if args.device else start_pulse(tmp)
    jack = start_jack()
    model = Path(args.model) if args.model else default_model_dir()
    ae = Autoencoder.load(model)
    engine = Synth(ae, method=args.method)
    session = Session(engine, model_dir=model)
    session.map_cc(74, f"z{min(3, ae.latent)}")
    n_max = int(args.seconds * engine.sr / args.buffer * 1.2) + 1000
    timed = TimedEngine(engine, n_max, rt=args.rt)
    if args.rt:
        sys.setswitchinterval(0.001)  # the callback waits at most ~1 ms for the GIL
        if pulse is not None:
            pid = (Path(pulse["XDG_RUNTIME_DIR"]) / "pulse" / "pid").read_text().strip()
            subprocess.run(["chrt", "-f", "-a", "-p", "60", pid], capture_output=True)
    loads = [subprocess.Popen([sys.executable, "-c", LOAD_CODE], env={**os.environ, **ONE_THREAD})
             for _ in range(args.load)]
    midi_in = MidiIn(session, virtual=True, name="manne-soak", api="jack") if jack else None
    osc = OscIn(session, port=0)
    out = AudioOut(timed, device=args.device or "pulse", buffer=args.buffer)
    stop = threading.Event()
    midi_sent, osc_sent = [0], [0]
    # the traffic comes from another process, as from a keyboard or another program; without JACK
    # the MIDI messages can only reach the handler from a thread of this process
    cmd = [sys.executable, str(SCRIPT), "--sender", "--osc-port", str(osc.port), "--latent", str(ae.latent),
           "--osc-rate", str(args.osc_rate), "--midi-rate", str(args.midi_rate if midi_in else 0)]
    senders = []
    if midi_in is not None:
        midi_path = "JACK virtual port, from another process (rtmidi callback thread)"
    else:
        midi_path = "direct to the MIDI handler from a thread of this process (no jackd)"
        senders.append(threading.Thread(target=midi_traffic, daemon=True, args=(
            lambda m: handle_message(session, m), stop, args.midi_rate, midi_sent)))
    load_cpu0 = [cpu_seconds(p.pid) for p in loads]
    t0 = time.monotonic()
    out.start()
    sender = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for s in senders:
        s.start()
    try:
        while time.monotonic() - t0 < args.seconds:
            time.sleep(min(10.0, args.seconds - (time.monotonic() - t0)))
            el = time.monotonic() - t0
            print(f"{el:6.0f} s  underruns {engine.underruns + engine.quiet_underruns}  callbacks {timed.n}  MIDI {session.counts.midi}  "
                  f"OSC {session.counts.osc} ({session.counts.osc_malformed} malformed)", flush=True)
    finally:
        stop.set()
        for s in senders:
            s.join(timeout=5)
        sent = json.loads(sender.communicate(input="stop\n", timeout=30)[0] or "{}")
        midi_sent[0] += sent.get("midi", 0)
        osc_sent[0] += sent.get("osc", 0)
        time.sleep(0.3)
        elapsed = time.monotonic() - t0
        load_cpu = [cpu_seconds(p.pid) - c for p, c in zip(loads, load_cpu0)]
        out.close()
        osc.close()
        if midi_in is not None:
            midi_in.close()
        for p in loads:
            p.kill()
            p.wait()
        if jack is not None:
            jack.terminate()
            jack.wait(timeout=10)
        if pulse is not None:
            subprocess.run(["pulseaudio", "-k"], env=pulse, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)

    n = timed.n
    took_ms = timed.took[:n] * 1e3
    buf_ms = 1e3 * args.buffer / engine.sr
    gaps_ms = np.diff(timed.start[:n]) * 1e3
    c = session.counts
    figures = {
        "seconds": round(elapsed, 1), "model": str(model), "method": args.method, "buffer": args.buffer,
        "buffer_ms": round(buf_ms, 2), "cpus": os.cpu_count(), "load_processes": args.load,
        "load_cpu_percent": [round(100 * x / elapsed, 1) for x in load_cpu], "realtime": timed.rt_result,
        "underruns": int(engine.underruns + engine.quiet_underruns),
        "underruns_while_silent": int(engine.quiet_underruns), "last_error": engine.last_error, "callbacks": int(n),
        "callback_ms": {"median": round(float(np.median(took_ms)), 3), "p99": round(float(np.percentile(took_ms, 99)), 3),
                        "max": round(float(took_ms.max()), 3)},
        "callbacks_longer_than_buffer": int((took_ms > buf_ms).sum()),
        "gap_ms": {"median": round(float(np.median(gaps_ms)), 2), "p99": round(float(np.percentile(gaps_ms, 99)), 2),
                   "max": round(float(gaps_ms.max()), 2)},
        "gaps_over_4_buffers": [[round(float(timed.start[i] - timed.start[0]), 2), round(float(g), 1)]
                                for i, g in enumerate(gaps_ms) if g > 4 * buf_ms][:20],
        "midi_path": midi_path, "midi_sent": midi_sent[0], "midi_played": c.midi, "midi_ignored": c.midi_ignored,
        "osc_sent": osc_sent[0], "osc_played": c.osc, "osc_malformed": c.osc_malformed,
        "decodes": int(engine.decodes), "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 1 if engine.underruns + engine.quiet_underruns else 0
