"""FluidSynth and a General MIDI soundfont: notes written to a MIDI file and rendered to a 16-bit mono WAV,
and whole corpora rendered in parallel.

This module imports NumPy, mido, soundfile and the standard library only (WAV files are read and
written with soundfile, atomically through :func:`manne.io.files.atomic_path`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Iterable

import mido
import numpy as np
import soundfile as sf

from manne.errors import ManneError, ParameterError
from manne.io.files import atomic_path
from tools.soundfont.notes import GM_NAMES, Note, check_notes, check_program, corpus_plan

__all__ = ["INSTALL_HINT", "SOUNDFONT_CANDIDATES", "find_fluidsynth", "find_soundfont", "write_midi", "render_midi",
           "render_corpus"]

INSTALL_HINT = (
    "install it with: sudo apt-get install fluidsynth fluid-soundfont-gm (Debian/Ubuntu), "
    "or: brew install fluid-synth (macOS; then set MANNE_SOUNDFONT to a General MIDI .sf2 file "
    "such as FluidR3_GM.sf2)"
)

SOUNDFONT_CANDIDATES = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",  # Debian, Ubuntu
    "/usr/share/soundfonts/FluidR3_GM.sf2",  # Arch, Fedora
    "/usr/local/share/soundfonts/FluidR3_GM.sf2",
    "/opt/homebrew/share/soundfonts/FluidR3_GM.sf2",
    "~/.local/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",  # Debian's alternative; may be another GM font
    "/usr/share/soundfonts/default.sf2",
)

_TICKS_PER_S = 1000  # ticks_per_beat=1000 at 60 bpm: one tick per millisecond


def find_fluidsynth() -> str:
    """Path of the ``fluidsynth`` binary.

    Raises
    ------
    ManneError
        If ``fluidsynth`` is not on ``PATH``; the message gives the install line.
    """
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise ManneError(f"fluidsynth was not found on PATH; {INSTALL_HINT}")
    return exe



def find_soundfont(soundfont: str | os.PathLike | None = None) -> Path:
    """The General MIDI soundfont to render with.

    Looks at ``soundfont`` if given, else ``$MANNE_SOUNDFONT``, else the usual install places
    of ``FluidR3_GM.sf2`` (:data:`SOUNDFONT_CANDIDATES`).

    Raises
    ------
    ManneError
        If the file named is missing or not a SoundFont, or none is installed.
    """
    if soundfont is None and os.environ.get("MANNE_SOUNDFONT"):
        soundfont, source = os.environ["MANNE_SOUNDFONT"], "MANNE_SOUNDFONT"
    else:
        source = "soundfont"
    if soundfont is not None:
        path = Path(soundfont).expanduser()
        if not path.is_file():
            raise ManneError(f"{source}={str(soundfont)!r}: no such file")
        _check_sf2(path)
        return path
    for candidate in SOUNDFONT_CANDIDATES:
        path = Path(candidate).expanduser()
        if path.is_file():
            _check_sf2(path)
            return path
    raise ManneError(
        f"no General MIDI soundfont found (looked for {', '.join(SOUNDFONT_CANDIDATES)}); {INSTALL_HINT}"
    )



def _check_sf2(path: Path) -> None:
    with open(path, "rb") as f:
        head = f.read(12)
    if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise ManneError(f"{path}: not a SoundFont 2 file (no RIFF/sfbk header)")



def write_midi(notes: Iterable[Note], path: str | os.PathLike, *, program: int) -> Path:
    """Write ``notes`` as a one-track MIDI file on channel 0, program change first."""
    check_program(program)
    events = []  # (tick, order, message): note-offs sort before note-ons at the same tick
    for start, dur, pitch, vel in check_notes(notes):
        on, off = round(start * _TICKS_PER_S), round((start + dur) * _TICKS_PER_S)
        events.append((on, 1, mido.Message("note_on", channel=0, note=pitch, velocity=vel)))
        events.append((max(off, on + 1), 0, mido.Message("note_off", channel=0, note=pitch, velocity=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=1_000_000, time=0))
    track.append(mido.Message("program_change", channel=0, program=int(program), time=0))
    now = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - now))
        now = tick
    mid = mido.MidiFile(ticks_per_beat=_TICKS_PER_S)
    mid.tracks.append(track)
    mid.save(str(path))
    return Path(path)



def render_midi(
    notes: Iterable[Note],
    path: str | os.PathLike,
    *,
    program: int,
    sr: int = 44100,
    soundfont: str | os.PathLike | None = None,
    tail: float = 1.0,
    gain: float = 0.8,
) -> Path:
    """Render ``notes`` played by GM ``program`` to a 16-bit mono WAV at ``path``.

    Runs ``fluidsynth -ni -q -R 0 -C 0 -g gain -T wav -O s16 -F OUT -r sr FONT IN.mid``
    (reverb and chorus off, so frames hold the dry instrument; samples are loaded only as
    notes need them, which saves most of the start-up time). The channels are averaged and
    the result is cut to the last note-off plus ``tail`` seconds. The file is written to a
    temporary name and renamed into place.

    Returns
    -------
    path : Path
        The WAV written, ``round((last_note_end + tail) * sr)`` samples long.

    Raises
    ------
    ParameterError
        If the program, a note, ``sr`` or ``tail`` is out of range.
    ManneError
        If fluidsynth or the soundfont is missing, fluidsynth fails or renders silence.
    """
    notes = check_notes(notes)
    check_program(program)
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or not 8000 <= sr <= 96000:
        raise ParameterError(f"sr={sr!r}; fluidsynth renders at 8000-96000 Hz")
    if not 0 <= tail <= 60:
        raise ParameterError(f"tail={tail}; must be 0-60 seconds")
    if not 0 < gain <= 10:
        raise ParameterError(f"gain={gain}; fluidsynth takes a gain in (0, 10]")
    exe, font = find_fluidsynth(), find_soundfont(soundfont)
    path = Path(path)
    n = round((max(s + d for s, d, _, _ in notes) + tail) * sr)
    with tempfile.TemporaryDirectory(prefix="manne-fs-") as tmp:
        mid, raw = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
        write_midi(notes, mid, program=program)
        cmd = [exe, "-ni", "-q", "-R", "0", "-C", "0", "-o", "synth.dynamic-sample-loading=1",
               "-g", str(gain), "-T", "wav", "-O", "s16",
               "-F", str(raw), "-r", str(sr), str(font), str(mid)]
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        errors = [ln for ln in proc.stderr.splitlines() if "error" in ln.lower()]
        if proc.returncode != 0 or errors or not raw.is_file():
            last = (errors or proc.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise ManneError(f"fluidsynth failed rendering {path.name} (exit {proc.returncode}): {last}")
        try:
            subtype = sf.info(str(raw)).subtype
            data, _ = sf.read(str(raw), dtype="int16", always_2d=True)  # (n, channels), the file's samples as written
        except RuntimeError as exc:  # soundfile.LibsndfileError
            raise ManneError(f"fluidsynth wrote an unreadable WAV for {path.name} ({exc})") from exc
    if subtype != "PCM_16":
        raise ManneError(f"fluidsynth wrote {subtype} audio; expected 16-bit PCM")
    y = data.astype(np.float32).mean(axis=1)
    y = np.pad(y[:n], (0, max(0, n - len(y))))
    if not np.any(y):
        raise ManneError(f"fluidsynth rendered silence for program {program} ({GM_NAMES[program]}) with {font}")
    pcm = np.clip(np.round(y), -32768, 32767).astype(np.int16)
    # render_midi replaces the file (render_corpus keeps existing files unless told to re-render)
    with atomic_path(path, force=True) as tmp:
        sf.write(str(tmp), pcm, sr, subtype="PCM_16", format="WAV")
    return path



def render_corpus(
    kind: str,
    out_dir: str | os.PathLike,
    *,
    soundfont: str | os.PathLike | None = None,
    progress: bool = True,
    force: bool = False,
    sr: int = 44100,
    jobs: int | None = None,
) -> list[Path]:
    """Render corpus ``kind`` (see :func:`corpus_plan`) into ``out_dir``.

    Files that exist are kept unless ``force``. Up to ``jobs`` fluidsynth processes run at
    once (default: the number of CPUs, at most 8). A tqdm bar shows progress when tqdm is
    installed, else one line per file.

    Returns
    -------
    paths : list of Path
        Every file of the corpus, rendered now or before, in plan order.

    Raises
    ------
    ParameterError
        If ``kind`` or ``jobs`` is invalid.
    ManneError
        If fluidsynth or the soundfont is missing or a render fails.
    """
    plan = corpus_plan(kind)
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ParameterError(f"jobs={jobs!r}; must be a positive integer")
    find_fluidsynth()
    font = find_soundfont(soundfont)
    out = Path(out_dir)
    paths = [out / rel for rel, _, _ in plan]
    todo = [(path, program, notes) for path, (_, program, notes) in zip(paths, plan) if force or not path.exists()]
    bar = None
    if progress and todo:
        try:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc=f"{kind}", unit="file")
        except ImportError:
            print(f"{kind}: rendering {len(todo)} of {len(plan)} files into {out}", file=sys.stderr)
    workers = min(jobs or os.cpu_count() or 1, 8, max(len(todo), 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(render_midi, notes, path, program=program, sr=sr, soundfont=font)
                   for path, program, notes in todo]
        try:
            for fut in as_completed(futures):
                done = fut.result()
                if bar is not None:
                    bar.update(1)
                elif progress:
                    print(f"  {done}", file=sys.stderr)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
        finally:
            if bar is not None:
                bar.close()
    return paths
