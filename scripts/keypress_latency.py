#!/usr/bin/env python3
"""Key-press-to-sound latency of the synth window, end to end: the tool is :mod:`tools.keypress`, whose
docstring gives the usage and the method (and ``--help`` the options)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tools/ and manne/

from tools.keypress.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
