"""manne's measurement and corpus tools: a small package beside the synth, run through ``scripts/``.

- :mod:`tools.procs`: the processes a tool starts (own session, stopped on exit) and its one-line setup errors;
- :mod:`tools.keypress`: key-press-to-sound latency of the synth window (``python scripts/keypress_latency.py``);
- :mod:`tools.soak`: the synth under MIDI and OSC traffic and a busy core (``python scripts/control_soak.py``);
- :mod:`tools.soundfont`: training audio rendered from MIDI with FluidSynth (``python scripts/render_corpora.py``,
  and the tests' instrument recordings).

Each ``scripts/NAME.py`` is a thin entry point: it puts the repository on ``sys.path`` and calls the tool's ``main``.
"""
