"""Training audio rendered from MIDI with FluidSynth and a General MIDI soundfont.

A note is a tuple ``(start_s, dur_s, pitch, velocity)``: start and duration in seconds, MIDI
pitch 0-127 (C4 = 60) and velocity 1-127. :func:`~tools.soundfont.fluid.render_midi` writes such a list to a MIDI
file on channel 0 (never the percussion channel 9) and renders it with the ``fluidsynth``
binary to a 16-bit mono WAV. :func:`~tools.soundfont.fluid.render_corpus` renders the stock corpora:

``"default"``
    The bundled model's: every key C2-C6 (0.4 s notes at velocities 60 and 100) for the programs of
    :data:`~tools.soundfont.notes.DEFAULT_PROGRAMS` in ``train/``; three of them at velocity 70 in ``val/`` and three at
    85 in ``test/`` (a dynamic the model never heard, not an instrument).
``"synth5"``
    A C major scale over five octaves (C2-C7) for every program in :data:`~tools.soundfont.notes.SYNTH_PROGRAMS`.
``"synth1"``
    The same programs over one octave (C4-C5).
``"violin"``
    GM violin: single notes G3-E6 at three dynamics in ``train/``; phrases and scales in
    ``val/`` and ``test/``.

The package imports NumPy, mido, soundfile and the standard library only (WAV files are read and
written with soundfile, atomically through :func:`manne.io.files.atomic_path`). Install FluidSynth with
``sudo apt-get install fluidsynth fluid-soundfont-gm`` (Debian/Ubuntu) or
``brew install fluid-synth`` (macOS, then point ``MANNE_SOUNDFONT`` at a ``.sf2`` file).

The parts: :mod:`~tools.soundfont.notes` (note lists, General MIDI programs, the corpora's plans) and
:mod:`~tools.soundfont.fluid` (FluidSynth and the soundfont: MIDI files rendered to WAV).
"""
