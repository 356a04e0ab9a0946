#!/usr/bin/env python
"""Soak test: the synth streams for minutes while MIDI and OSC traffic plays it and another process loads a core
(the tool is :mod:`tools.soak`).

    .venv/bin/python scripts/control_soak.py                  # 5 minutes, private PulseAudio null sink
    .venv/bin/python scripts/control_soak.py --seconds 120 --json soak.json
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tools/ and manne/

from tools.soak.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
