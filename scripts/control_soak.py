#!/usr/bin/env python
"""Soak test: the synth streams for minutes while MIDI and OSC traffic plays it and another process loads a core.

    .venv/bin/python scripts/control_soak.py                  # 5 minutes, private PulseAudio null sink
    .venv/bin/python scripts/control_soak.py --seconds 120 --json soak.json

What runs, all in this process except the load and the servers:

- the bundled model on :class:`manne.synth.instrument.Synth` through PortAudio (``--device``, default the
  ``pulse`` device of a private PulseAudio daemon with a null sink, started here and stopped at the end);
- MIDI: a private JACK server (``jackd -d dummy``) and manne's virtual input on it; a sender thread
  plays chords with velocity, pitch-bend sweeps, the mod wheel, the sustain pedal and a learnt CC
  (``--midi-rate`` messages a second). Without jackd the messages go straight to the MIDI handler
  from a thread (said in the report);
- OSC: manne's server on 127.0.0.1 and a UDP sender: slider sweeps, notes, volume, and one malformed
  message in fifty (``--osc-rate`` a second);
- ``--load`` busy processes (NumPy matmuls, default 1: the other core of a two-core machine).

The report: underruns (PortAudio's output-underflow flags, while notes sounded or not, plus callbacks that raised), the
callback's time per buffer against the buffer's duration (median, p99, max, how many took longer
than the buffer), the gaps between callbacks, messages sent and played, and the load process's CPU.
Exit status 1 if there was any underrun.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LOAD_CODE = "import numpy as np\na = np.random.rand(300, 300)\nwhile True:\n    a = (a @ a.T) / 300.0\n"
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def start_pulse(tmp: Path) -> dict:
    """A private PulseAudio daemon whose default sink is a null sink; returns its environment."""
    for tool in ("pulseaudio", "pactl"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: install pulseaudio pulseaudio-utils libasound2-plugins, or pass --device")
    runtime = tmp / "pulse-rt"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "PULSE_SERVER": f"unix:{runtime}/pulse/native"}
    subprocess.run(["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n",
                    "--load=module-null-sink sink_name=null", "--load=module-native-protocol-unix auth-anonymous=1"],
                   env=env, check=True, capture_output=True)
    deadline = time.monotonic() + 10
    while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            sys.exit("pulseaudio does not answer")
        time.sleep(0.1)
    subprocess.run(["pactl", "set-default-sink", "null"], env=env, check=True, capture_output=True)
    os.environ.update({k: env[k] for k in ("XDG_RUNTIME_DIR", "PULSE_SERVER")})
    return env


def start_jack():
    """A private JACK server with the dummy driver, or None without jackd."""
    exe = shutil.which("jackd")
    if exe is None:
        return None
    name = f"manne-soak-{uuid.uuid4().hex[:6]}"
    proc = subprocess.Popen([exe, "--no-realtime", "-n", name, "-d", "dummy", "-r", "44100", "-p", "1024"],
                            env={**os.environ, "JACK_NO_AUDIO_RESERVATION": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["JACK_DEFAULT_SERVER"] = name
    os.environ["JACK_NO_START_SERVER"] = "1"
    import rtmidi

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            rtmidi.MidiIn(rtmidi.API_UNIX_JACK).delete()
            return proc
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.1)
    proc.kill()
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class TimedEngine:
    """The engine as PortAudio sees it, timing every callback into preallocated arrays."""

    def __init__(self, engine, n_max: int, *, rt: bool = False):
        self.engine, self.sr = engine, engine.sr
        self.rt, self.rt_result = rt, "off"
        self.took = np.zeros(n_max)
        self.start = np.zeros(n_max)
        self.n = 0

    def callback(self, in_data, frame_count, time_info, status):
        if self.rt:  # once, on PortAudio's callback thread: real-time FIFO scheduling (root or CAP_SYS_NICE)
            self.rt = False
            try:
                os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(70))
                self.rt_result = "SCHED_FIFO 70"
            except OSError as exc:
                self.rt_result = f"refused: {exc}"
        t0 = time.perf_counter()
        out = self.engine.callback(in_data, frame_count, time_info, status)
        if self.n < len(self.took):
            self.start[self.n], self.took[self.n] = t0, time.perf_counter() - t0
            self.n += 1
        return out


def midi_traffic(send, stop: threading.Event, rate: float, sent: list) -> None:
    """Chords with velocity, bend sweeps, the mod wheel, the pedal and a learnt CC (74), ``rate`` messages a second."""
    import mido

    rng = random.Random(1)
    held: list[int] = []
    t, k = time.monotonic(), 0
    while not stop.is_set():
        k += 1
        r = rng.random()
        if r < 0.3 or not held:
            if len(held) >= 6:
                msg = mido.Message("note_off", note=held.pop(0))
            else:
                held.append(rng.randrange(36, 85))
                msg = mido.Message("note_on", note=held[-1], velocity=rng.randrange(30, 128))
        elif r < 0.45:
            msg = mido.Message("note_on", note=held.pop(0), velocity=0)
        elif r < 0.65:
            msg = mido.Message("pitchwheel", pitch=int(8191 * np.sin(k / 40)))
        elif r < 0.8:
            msg = mido.Message("control_change", control=1, value=int(63.5 + 63.5 * np.sin(k / 70)))
        elif r < 0.95:
            msg = mido.Message("control_change", control=74, value=int(63.5 + 63.5 * np.cos(k / 50)))
        else:
            msg = mido.Message("control_change", control=64, value=127 if k % 2 else 0)
        send(msg)
        sent[0] += 1
        t += 1.0 / rate
        stop.wait(max(0.0, t - time.monotonic()))
    for note in held:
        send(mido.Message("note_off", note=note))


def osc_traffic(port: int, stop: threading.Event, rate: float, latent: int, sent: list) -> None:
    """Slider sweeps, notes, volume and one malformed message in fifty, ``rate`` a second, over UDP."""
    from pythonosc.udp_client import SimpleUDPClient

    c = SimpleUDPClient("127.0.0.1", port)
    rng = random.Random(2)
    t, k, on = time.monotonic(), 0, None
    while not stop.is_set():
        k += 1
        r = rng.random()
        if k % 50 == 0:
            c.send_message("/manne/z", ["not a number"])
        elif r < 0.6:
            c.send_message("/manne/z", [1 + k % latent, float(0.5 + 0.5 * np.sin(k / 30 + k % latent))])
        elif r < 0.7:
            c.send_message("/manne/z", [float(v) for v in rng.random() * np.ones(latent)])
        elif r < 0.85:
            if on is None:
                on = rng.randrange(48, 73)
                c.send_message("/manne/note_on", [on, rng.randrange(40, 128)])
            else:
                c.send_message("/manne/note_off", [on])
                on = None
        else:
            c.send_message("/manne/volume", [float(0.6 + 0.2 * np.sin(k / 90))])
        sent[0] += 1
        t += 1.0 / rate
        stop.wait(max(0.0, t - time.monotonic()))
    if on is not None:
        c.send_message("/manne/note_off", [on])


def sender_main(args) -> int:
    """The traffic, from its own process, until a line (or EOF) arrives on stdin; prints what it sent as JSON."""
    stop = threading.Event()
    midi_sent, osc_sent = [0], [0]
    threads = []
    if args.midi_rate > 0:
        import mido

        backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK")
        port = backend.open_output(next(n for n in backend.get_output_names() if n.endswith(":manne-soak")))
        threads.append(threading.Thread(target=midi_traffic, args=(port.send, stop, args.midi_rate, midi_sent)))
    if args.osc_rate > 0:
        threads.append(threading.Thread(target=osc_traffic, args=(args.osc_port, stop, args.osc_rate, args.latent,
                                                                  osc_sent)))
    for t in threads:
        t.start()
    sys.stdin.readline()
    stop.set()
    for t in threads:
        t.join()
    print(json.dumps({"midi": midi_sent[0], "osc": osc_sent[0]}))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
    cmd = [sys.executable, __file__, "--sender", "--osc-port", str(osc.port), "--latent", str(ae.latent),
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


if __name__ == "__main__":
    sys.exit(main())
