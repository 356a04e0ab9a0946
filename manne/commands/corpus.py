"""``manne corpus INPUT... -o corpora/NAME.npz``: analyse recordings into a corpus."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from manne.corpus.split import SPLIT_MODES, check_fractions
from manne.io.files import check_new


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("corpus", help="analyse audio files into a corpus of spectral frames",
                       description="Analyse audio files or folders (wav, flac, ogg, mp3; any rate; mono or stereo) into a corpus.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="audio files or folders (searched recursively)")
    p.add_argument("-o", "--output", required=True, help="corpus file to write (.npz)")
    p.add_argument("--val", type=float, default=0.1, help="fraction of clips for validation (default 0.1)")
    p.add_argument("--test", type=float, default=0.1, help="fraction of clips for test (default 0.1)")
    p.add_argument("--split", default="auto", choices=SPLIT_MODES,
                   help="how to split: whole files, contiguous segments of each file, train/val/test folders, or auto")
    p.add_argument("--silence-db", type=float, default=50.0, help="drop frames this many dB below the file's loudest frame (default 50)")
    p.add_argument("--seed", type=int, default=0, help="seed of the file split")
    p.add_argument("--skip-bad", action="store_true", help="skip corrupt, silent or too-short files instead of stopping")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    return p


def run(args) -> int:
    from manne.io.audio import find_audio
    from manne.corpus import build, save
    from manne.corpus.analysis import Analysis
    from manne.errors import ParameterError

    out = Path(args.output)
    if out.suffix != ".npz":
        raise ParameterError(f"-o {out}: a corpus file must end in .npz")
    check_new([out], force=args.force)
    if not (math.isfinite(args.silence_db) and args.silence_db > 0):
        raise ParameterError(f"--silence-db {args.silence_db} must be a positive number")
    check_fractions(args.val, args.test)
    find_audio(args.inputs)  # fail on a missing path before any work
    corpus = build(
        args.inputs,
        analysis=Analysis(silence_db=args.silence_db),
        val=args.val,
        test=args.test,
        split_mode=args.split,
        seed=args.seed,
        skip_bad=args.skip_bad,
        progress=not args.quiet,
        warn=lambda m: print(f"manne corpus: warning: {m}", file=sys.stderr),
    )
    save(corpus, out, force=args.force)
    if not args.quiet:
        print(corpus.summary())
        print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, hash {corpus.hash})")
    return 0
