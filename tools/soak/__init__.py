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

The parts: :mod:`~tools.soak.servers` (the private PulseAudio and JACK servers, the timed engine, CPU
seconds), :mod:`~tools.soak.traffic` (the MIDI and OSC senders, in their own process) and
:mod:`~tools.soak.main` (the run and its figures).
"""
