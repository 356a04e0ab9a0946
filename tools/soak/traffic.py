"""The soak's traffic: MIDI chords, bends and controls, OSC slider sweeps and notes (one malformed message in
fifty), sent from a process of their own (``--sender``) as from a keyboard or another program."""

from __future__ import annotations

import json
import random
import sys
import threading
import time

import numpy as np

__all__ = ["midi_traffic", "osc_traffic", "sender_main"]


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
