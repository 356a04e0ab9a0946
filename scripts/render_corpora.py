"""Render the stock training corpora with FluidSynth.

    python scripts/render_corpora.py {default,synth5,synth1,violin,heldout,all} -o corpora/audio [--force]

Each kind goes to ``<out>/<kind>/``; files already there are kept unless ``--force``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import soundfile as sf  # noqa: E402

from manne.errors import ManneError  # noqa: E402
from tools.soundfont.fluid import find_fluidsynth, find_soundfont, render_corpus  # noqa: E402
from tools.soundfont.notes import CORPUS_KINDS  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render MIDI training corpora to WAV with FluidSynth.")
    parser.add_argument("kind", choices=[*CORPUS_KINDS, "all"], help="corpus to render, or all of them")
    parser.add_argument("-o", "--out", default="corpora/audio", help="output folder (default: corpora/audio)")
    parser.add_argument("--force", action="store_true", help="re-render files that already exist")
    parser.add_argument("--soundfont", default=None, help="General MIDI .sf2 file (default: $MANNE_SOUNDFONT or FluidR3_GM)")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="fluidsynth processes at once (default: CPUs, max 8)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)

    kinds = list(CORPUS_KINDS) if args.kind == "all" else [args.kind]
    try:
        find_fluidsynth()
        font = find_soundfont(args.soundfont)
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise ManneError(f"{out}: exists and is not a folder")
        t0 = time.perf_counter()
        total_files, total_s = 0, 0.0
        for kind in kinds:
            paths = render_corpus(kind, out / kind, soundfont=font, progress=not args.quiet,
                                  force=args.force, jobs=args.jobs)
            seconds = sum(_duration(p) for p in paths)
            total_files, total_s = total_files + len(paths), total_s + seconds
            print(f"{kind}: {len(paths)} files, {seconds / 60:.1f} min in {out / kind}")
        print(f"total: {total_files} files, {total_s / 60:.1f} min, {time.perf_counter() - t0:.1f} s (soundfont {font})")
    except (ManneError, OSError) as exc:
        if args.debug:
            raise
        print(f"render_corpora: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("render_corpora: interrupted", file=sys.stderr)
        return 130
    return 0


def _duration(path: Path) -> float:
    try:
        info = sf.info(str(path))
    except RuntimeError as exc:  # soundfile.LibsndfileError
        raise ManneError(f"{path}: not a readable WAV ({exc}); re-render it with --force") from exc
    return info.frames / info.samplerate


if __name__ == "__main__":
    sys.exit(main())
