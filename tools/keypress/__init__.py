"""Key-press-to-sound latency of the synth window, end to end.

    .venv/bin/python scripts/keypress_latency.py --onset change              # the synth, default command
    .venv/bin/python scripts/keypress_latency.py --onset change -- .venv/bin/manne synth --buffer 512 --device pulse
    .venv/bin/python scripts/keypress_latency.py --control --onset energy    # calibration: a bare Tk+PyAudio window
    .venv/bin/python scripts/keypress_latency.py --trials 40 --keys a,s,d --json out/latency.json
    .venv/bin/python scripts/keypress_latency.py --onset change --raw out/run.npz   # keep the capture, then
    .venv/bin/python scripts/keypress_latency.py --from-raw out/run.npz --onset change --fraction 0.1

What it does
------------
It starts its own X server (Xvfb) and its own PulseAudio daemon with a null sink as the default
sink (``--display`` / ``--pulse-server`` reuse existing ones instead), launches the synth command
given after ``--`` with ``DISPLAY`` and ``PULSE_SERVER`` pointing at them, waits for its window
(title matching ``--window-name``), gives it the X input focus and records the null sink's monitor
with ``parec --latency-msec=5``. A reader thread stamps every chunk that ``parec`` delivers with
``time.monotonic()``, so every captured sample gets a wall-clock time: the arrival time of its chunk
minus the samples after it in that chunk over ``sr``.

Each trial presses a key with ``xdotool keydown`` (stamped right before the call and right after it
returns: the press happened in between), holds it (``--hold``, 300 ms), releases it and waits
(``--gap``, 400 ms). The sound's onset is then found in the capture:

- ``--onset energy``: the first sample after the press whose 1 ms RMS (the window ending at it)
  rises ``--rise-db`` (20 dB) above the RMS of the 100 ms before the press, and above
  ``--floor-db`` (-60 dBFS). For a note that starts from silence.
- ``--onset change``: 512-sample Hann frames every 64 samples, spectra ``|X| ** 0.5``. Each frame
  is placed on the line from the mean spectrum of the 150 ms before the press (0) to the mean
  spectrum of the last 80 ms of the hold, the eventual change (1). The onset is the centre of the
  frame where that curve (smoothed over 3 frames) passes ``--fraction`` (half) of the way: the
  first crossing, fitted as a step so that a lone noisy frame does not count. A trial whose
  eventual change is under 3 standard deviations of the pre-press frames counts as "no onset".
  For a sound that is already playing and changes (the current synth's keys move a drone's pitch
  class), and also for a note from silence.

Latency is reported from the return of ``xdotool keydown --delay 0`` (the press had surely
happened) and, in brackets, from its start (~3 ms earlier); ``--press xtest`` sends the events
through libXtst in this process instead (``XTestFakeKeyEvent`` + ``XSync``), which narrows that
window to ~0.1 ms. Both are measured to the time ``parec`` delivered the onset sample, which
includes parec's own capture latency (a few ms at ``--latency-msec=5``; the output shows the
chunks' delivery jitter and PulseAudio's own estimates): an upper bound on when the sample left
the null sink. A null sink has no hardware buffer, so a real sound card adds its own output
latency on top.

Reading the figures: ``--onset change`` times the *half-way point* of a transition, so a synth
that crossfades (the current one: a 30 ms note crossfade inside 4096-sample overlap-added frames)
is charged for half of its glide; ``--fraction 0.1`` times the first clear departure instead.
``--raw`` keeps the capture and the stamps, and ``--from-raw`` analyses them again without
starting anything.

``--control`` measures, instead of the synth, a minimal window (Tk + PyAudio callback stream on
the same device with the same buffer size, no DSP) that starts a tone (``--onset energy``) or
switches a drone's pitch (``--onset change``) on the very next audio buffer after the key event:
the floor that the window system, PortAudio, PulseAudio and this measurement set together.

Every process it starts (Xvfb, pulseaudio, parec, the synth) is stopped on exit, Ctrl-C or error.
Needs: Xvfb, xdotool, pulseaudio, pactl, parec (``sudo apt-get install xvfb xdotool pulseaudio
pulseaudio-utils libasound2-plugins``) and NumPy; ``--control`` also needs PyAudio and Tk.

The parts: :mod:`~tools.keypress.xserver` (Xvfb, the window, key presses), :mod:`~tools.keypress.pulse`
(the PulseAudio daemon and its estimates), :mod:`~tools.keypress.capture` (``parec`` with time stamps),
:mod:`~tools.keypress.onset` (onset detection), :mod:`~tools.keypress.report` (latencies and their
summary), :mod:`~tools.keypress.control` (the calibration window) and :mod:`~tools.keypress.main`
(the command line and the trials).
"""

SR = 44100
APT_LINE = "sudo apt-get install xvfb xdotool pulseaudio pulseaudio-utils libasound2-plugins"
