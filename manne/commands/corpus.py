"""``manne corpus INPUT... -o corpora/NAME.npz``: analyse recordings into a corpus."""

from __future__ import annotations

import argparse
import math
import os
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
    p.add_argument("-j", "--jobs", type=int, default=None,
                   help="files analysed at once, one process each (default: one per core)")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    return p


def run(args) -> int:
    from manne.io.audio import find_audio
    from manne.io.files import temporary_beside
    from manne.corpus import build, save
    from manne.corpus.analysis import Analysis
    from manne.corpus.workers import default_jobs
    from manne.errors import ParameterError

    out = Path(args.output)
    if out.suffix != ".npz":
        raise ParameterError(f"-o {out}: a corpus file must end in .npz")
    check_new([out], force=args.force)
    if not (math.isfinite(args.silence_db) and args.silence_db > 0):
        raise ParameterError(f"--silence-db {args.silence_db} must be a positive number")
    check_fractions(args.val, args.test)
    jobs = default_jobs() if args.jobs is None else args.jobs
    if not 1 <= jobs <= 256:
        raise ParameterError(f"--jobs {jobs} must be 1 to 256")
    find_audio(args.inputs)  # fail on a missing path before any work
    # the frames go to a scratch file beside the output as each file is analysed (memory holds a few
    # files' frames, not the corpus), then stream from it into the corpus file
    scratch = temporary_beside(out.with_name(out.name + ".frames"))
    try:
        corpus = _build_and_save(build, save, args, out, scratch, jobs, Analysis)
    except OSError as exc:
        if exc.filename is not None and os.path.abspath(exc.filename) == os.path.abspath(scratch):
            raise type(exc)(exc.errno, exc.strerror or os.strerror(exc.errno), str(out)) from exc  # name the output
        raise
    finally:
        scratch.unlink(missing_ok=True)
    if not args.quiet:
        print(corpus.summary())
        print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, hash {corpus.hash})")
    return 0


def _build_and_save(build, save, args, out: Path, scratch: Path, jobs: int, Analysis):
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
        jobs=jobs,
        scratch=scratch,
    )
    save(corpus, out, force=args.force)
    return corpus
