#!/usr/bin/env python3
"""Key-press-to-sound latency of the synth window, end to end (the tool is :mod:`tools.keypress`).

    .venv/bin/python scripts/keypress_latency.py --onset change              # the synth, default command
    .venv/bin/python scripts/keypress_latency.py --onset change -- .venv/bin/manne synth --buffer 512 --device pulse
    .venv/bin/python scripts/keypress_latency.py --control --onset energy    # calibration: a bare Tk+PyAudio window
    .venv/bin/python scripts/keypress_latency.py --trials 40 --keys a,s,d --json out/latency.json
    .venv/bin/python scripts/keypress_latency.py --onset change --raw out/run.npz   # keep the capture, then
    .venv/bin/python scripts/keypress_latency.py --from-raw out/run.npz --onset change --fraction 0.1
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tools/ and manne/

from tools.keypress.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
