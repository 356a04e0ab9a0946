"""Training audio rendered from MIDI with FluidSynth and a General MIDI soundfont.

A note is a tuple ``(start_s, dur_s, pitch, velocity)``: start and duration in seconds, MIDI
pitch 0-127 (C4 = 60) and velocity 1-127. :func:`render_midi` writes such a list to a MIDI
file on channel 0 (never the percussion channel 9) and renders it with the ``fluidsynth``
binary to a 16-bit mono WAV. :func:`render_corpus` renders the stock corpora:

``"default"``
    The bundled model's: every key C2-C6 (0.4 s notes at velocity 100) for the programs of
    :data:`DEFAULT_PROGRAMS` in ``train/``; three of them at velocity 70 in ``val/`` and three at
    85 in ``test/`` (a dynamic the model never heard, not an instrument).
``"synth5"``
    A C major scale over five octaves (C2-C7) for every program in :data:`SYNTH_PROGRAMS`.
``"synth1"``
    The same programs over one octave (C4-C5).
``"violin"``
    GM violin: single notes G3-E6 at three dynamics in ``train/``; phrases and scales in
    ``val/`` and ``test/``.

This module imports NumPy, mido, soundfile and the standard library only (WAV files are read and
written with soundfile, atomically through :func:`manne.io.files.atomic_path`). Install FluidSynth with
``sudo apt-get install fluidsynth fluid-soundfont-gm`` (Debian/Ubuntu) or
``brew install fluid-synth`` (macOS, then point ``MANNE_SOUNDFONT`` at a ``.sf2`` file).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Iterable, Sequence

import mido
import numpy as np
import soundfile as sf

from manne.errors import ManneError, ParameterError
from manne.io.files import atomic_path

Note = tuple[float, float, int, int]

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

GM_NAMES = (
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
    "Celesta", "Glockenspiel", "Music Box", "Vibraphone", "Marimba", "Xylophone", "Tubular Bells", "Dulcimer",
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ",
    "Reed Organ", "Accordion", "Harmonica", "Tango Accordion",
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)", "Electric Guitar (clean)",
    "Electric Guitar (muted)", "Overdriven Guitar", "Distortion Guitar", "Guitar Harmonics",
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass",
    "Slap Bass 1", "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
    "Violin", "Viola", "Cello", "Contrabass", "Tremolo Strings", "Pizzicato Strings", "Orchestral Harp", "Timpani",
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2",
    "Choir Aahs", "Voice Oohs", "Synth Voice", "Orchestra Hit",
    "Trumpet", "Trombone", "Tuba", "Muted Trumpet", "French Horn", "Brass Section", "Synth Brass 1", "Synth Brass 2",
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax", "Oboe", "English Horn", "Bassoon", "Clarinet",
    "Piccolo", "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)",
    "Lead 5 (charang)", "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
    "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)",
    "Pad 5 (bowed)", "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)",
    "FX 5 (brightness)", "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)",
    "Sitar", "Banjo", "Shamisen", "Koto", "Kalimba", "Bagpipe", "Fiddle", "Shanai",
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock", "Taiko Drum", "Melodic Tom", "Synth Drum", "Reverse Cymbal",
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet", "Telephone Ring", "Helicopter", "Applause",
    "Gunshot",
)

# Pitched programs that hold a clear tone. Left out: short or inharmonic mallets and bells
# (9, 10, 12-15), muted, harmonic and slap sounds (28, 31, 36, 37, 45), timpani and hits
# (47, 55), the two-pitch lead 7 (86), the FX block (96-103), plucked ethnic sounds
# (105-108), percussion and sound effects (112-127), and the programs that FluidR3_GM leaves
# silent on some key of C2-C7: basses 33-35 and 43, violin 40 and fiddle 110 (A#6), tuba 58,
# alto and baritone sax 65 and 67, English horn 69 and bassoon 70.
_LEFT_OUT = {
    9, 10, 12, 13, 14, 15, 28, 31, 33, 34, 35, 36, 37, 40, 43, 45, 47, 55, 58, 65, 67, 69, 70, 86, 110,
    *range(96, 104), *range(105, 109), *range(112, 128),
}
SYNTH_PROGRAMS: tuple[int, ...] = tuple(p for p in range(128) if p not in _LEFT_OUT)

# the bundled model's programs; violin (40), alto sax (65), bassoon (70) and many more stay out of it
DEFAULT_PROGRAMS: tuple[int, ...] = (0, 19, 24, 41, 42, 52, 56, 60, 66, 71, 73, 81)
DEFAULT_VAL_PROGRAMS = (24, 60, 81)  # validated on at velocity 70
DEFAULT_TEST_PROGRAMS = (0, 41, 66)  # tested on at velocity 85

VIOLIN = 40
VIOLIN_RANGE = (55, 88)  # G3 to E6
VIOLIN_DYNAMICS = (50, 80, 115)
CORPUS_KINDS = ("default", "synth5", "synth1", "violin")

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
_TICKS_PER_S = 1000  # ticks_per_beat=1000 at 60 bpm: one tick per millisecond


def program_name(program: int) -> str:
    """File-name form of a GM program's name: ``40 -> "violin"``, ``24 -> "acoustic_guitar_nylon"``."""
    _check_program(program)
    return re.sub(r"[^a-z0-9]+", "_", GM_NAMES[program].lower()).strip("_")


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


def _check_program(program: int) -> None:
    if isinstance(program, bool) or not isinstance(program, (int, np.integer)) or not 0 <= program <= 127:
        raise ParameterError(f"program={program!r}; a General MIDI program is an integer 0-127")


def _check_notes(notes: Iterable[Note]) -> list[Note]:
    checked = []
    for i, note in enumerate(notes):
        if len(note) != 4:
            raise ParameterError(f"note {i} = {note!r}; a note is (start_s, dur_s, pitch, velocity)")
        start, dur, pitch, vel = note
        if not (np.isfinite(start) and start >= 0 and np.isfinite(dur) and dur > 0):
            raise ParameterError(f"note {i} = {note!r}; start_s must be >= 0 and dur_s > 0")
        if int(pitch) != pitch or not 0 <= pitch <= 127:
            raise ParameterError(f"note {i} has pitch={pitch!r}; MIDI pitch is an integer 0-127")
        if int(vel) != vel or not 1 <= vel <= 127:
            raise ParameterError(f"note {i} has velocity={vel!r}; velocity is an integer 1-127")
        checked.append((float(start), float(dur), int(pitch), int(vel)))
    if not checked:
        raise ParameterError("no notes to render")
    return checked


def c_major_scale(octaves: Sequence[int], *, note_s: float = 0.5, velocity: int = 100) -> list[Note]:
    """An ascending C major scale through ``octaves``, one note straight after the other.

    Each octave ``o`` plays C to B (C4 = 60, so C of octave ``o`` is ``12 * (o + 1)``); the
    scale ends on the C above the highest octave: ``[4]`` gives C4 D4 ... B4 C5.

    Returns
    -------
    notes : list of (start_s, dur_s, pitch, velocity), length ``7 * len(octaves) + 1``
    """
    octs = sorted(set(octaves))
    if not octs or any(int(o) != o or not -1 <= o <= 8 for o in octs):
        raise ParameterError(f"octaves={list(octaves)!r}; give one or more integer octaves -1 to 8")
    if note_s <= 0:
        raise ParameterError(f"note_s={note_s}; must be > 0")
    pitches = [12 * (o + 1) + step for o in octs for step in _MAJOR] + [12 * (octs[-1] + 2)]
    return _check_notes((i * note_s, note_s, p, velocity) for i, p in enumerate(pitches))


def single_notes(
    pitches: Iterable[int], velocities: int | Iterable[int], *, note_s: float = 1.0, gap_s: float = 0.25
) -> list[Note]:
    """Every pitch at every velocity, one note at a time with ``gap_s`` of silence between.

    Velocities are the outer loop: all pitches at the first velocity, then at the next.

    Returns
    -------
    notes : list of (start_s, dur_s, pitch, velocity), length ``len(pitches) * len(velocities)``
    """
    vels = [velocities] if isinstance(velocities, (int, np.integer)) else list(velocities)
    pitch_list = list(pitches)
    if note_s <= 0 or gap_s < 0:
        raise ParameterError(f"note_s={note_s}, gap_s={gap_s}; need note_s > 0 and gap_s >= 0")
    pairs = [(p, v) for v in vels for p in pitch_list]
    return _check_notes((i * (note_s + gap_s), note_s, p, v) for i, (p, v) in enumerate(pairs))


def phrase(
    seed: int,
    *,
    low: int = 55,
    high: int = 88,
    n_notes: int = 24,
    beat_s: float = 0.5,
    velocity: tuple[int, int] = (40, 120),
) -> list[Note]:
    """A pseudo-random melody in ``[low, high]``, the same for the same ``seed``.

    The melody walks a major or minor scale in a random key, mostly by steps with some leaps,
    with durations of half a beat to three beats, slightly detached notes, a few rests and a
    velocity that drifts within ``velocity``.

    Returns
    -------
    notes : list of (start_s, dur_s, pitch, velocity), length ``n_notes``
    """
    rng = random.Random(seed)
    tonic = rng.randrange(12)
    steps = _MAJOR if rng.random() < 0.5 else _MINOR
    pool = [p for p in range(max(low, 0), min(high, 127) + 1) if (p - tonic) % 12 in steps]
    if len(pool) < 3 or n_notes < 1 or beat_s <= 0 or not 1 <= velocity[0] <= velocity[1] <= 127:
        raise ParameterError(
            f"phrase(low={low}, high={high}, n_notes={n_notes}, beat_s={beat_s}, velocity={velocity}): "
            "need a range of at least a fourth within 0-127, n_notes >= 1, beat_s > 0, velocities 1-127"
        )
    i = len(pool) // 2 + rng.randint(-2, 2)
    vel = (velocity[0] + velocity[1]) // 2
    t, notes = 0.0, []
    for k in range(n_notes):
        beats = 3.0 if k == n_notes - 1 else rng.choice((0.5, 0.5, 1.0, 1.0, 1.0, 1.5, 2.0, 3.0))
        dur = beats * beat_s
        notes.append((round(t, 3), round(dur * rng.uniform(0.8, 1.0), 3), pool[i], vel))
        t += dur + (beat_s if rng.random() < 0.1 else 0.0)
        i += rng.choice((-1, -1, 1, 1, -2, 2, -3, 3, -4, 5))
        i = abs(i) if i < 0 else 2 * (len(pool) - 1) - i if i >= len(pool) else i  # reflect at the ends
        i = min(max(i, 0), len(pool) - 1)
        vel = int(np.clip(vel + rng.randint(-12, 12), *velocity))
    return _check_notes(notes)


def write_midi(notes: Iterable[Note], path: str | os.PathLike, *, program: int) -> Path:
    """Write ``notes`` as a one-track MIDI file on channel 0, program change first."""
    _check_program(program)
    events = []  # (tick, order, message): note-offs sort before note-ons at the same tick
    for start, dur, pitch, vel in _check_notes(notes):
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
    notes = _check_notes(notes)
    _check_program(program)
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


def corpus_plan(kind: str) -> list[tuple[str, int, list[Note]]]:
    """The files of corpus ``kind``: ``(relative_path, program, notes)`` for each.

    Raises
    ------
    ParameterError
        If ``kind`` is not one of :data:`CORPUS_KINDS`.
    """
    if kind == "synth5":
        scale = c_major_scale([2, 3, 4, 5, 6], note_s=0.4)  # C2=36 .. C7=96
        return [(f"{p:03d}_{program_name(p)}.wav", p, scale) for p in SYNTH_PROGRAMS]
    if kind == "default":
        # every key C2-C6 for a spread of programs (piano, organ, guitar, bowed strings, voices, brass, reeds,
        # flute, a synth) at velocity 100; other dynamics of a few of them to validate and test
        def keys(velocity):
            return single_notes(range(36, 85), velocity, note_s=0.4, gap_s=0.05)

        plan = [(f"train/{p:03d}_{program_name(p)}.wav", p, keys(100)) for p in DEFAULT_PROGRAMS]
        plan += [(f"val/{p:03d}_{program_name(p)}_v70.wav", p, keys(70)) for p in DEFAULT_VAL_PROGRAMS]
        return plan + [(f"test/{p:03d}_{program_name(p)}_v85.wav", p, keys(85)) for p in DEFAULT_TEST_PROGRAMS]
    if kind == "synth1":
        scale = c_major_scale([4], note_s=0.5)  # C4=60 .. C5=72
        return [(f"{p:03d}_{program_name(p)}.wav", p, scale) for p in SYNTH_PROGRAMS]
    if kind == "violin":
        low, high = VIOLIN_RANGE
        plan = [(f"train/notes_v{v:03d}.wav", VIOLIN, single_notes(range(low, high + 1), v)) for v in VIOLIN_DYNAMICS]
        for split, seeds, vel, note_s in (("val", (101, 102), 70, 0.5), ("test", (201, 202), 100, 0.35)):
            plan += [(f"{split}/phrase_s{s}.wav", VIOLIN, phrase(s, low=low, high=high, n_notes=32)) for s in seeds]
            plan.append((f"{split}/scale_c4_c6_v{vel:03d}.wav", VIOLIN, c_major_scale([4, 5], note_s=note_s, velocity=vel)))
        return plan
    raise ParameterError(f"kind={kind!r}; choose one of {', '.join(CORPUS_KINDS)}")


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
