"""What the corpora play: notes ``(start_s, dur_s, pitch, velocity)``, General MIDI programs, each corpus' plan.

NumPy and the standard library only.
"""

from __future__ import annotations

import random
import re
from typing import Iterable, Sequence

import numpy as np

from manne.errors import ParameterError

__all__ = ["Note", "GM_NAMES", "SYNTH_PROGRAMS", "DEFAULT_PROGRAMS", "HELDOUT_SEEN", "HELDOUT_UNSEEN", "VIOLIN", "VIOLIN_RANGE", "VIOLIN_DYNAMICS", "CORPUS_KINDS",
           "program_name", "check_program", "check_notes", "c_major_scale", "single_notes", "phrase", "corpus_plan"]

Note = tuple[float, float, int, int]

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
# held-out notes for `manne bench fidelity`: three of the default model's programs at a dynamic it never
# heard, and instruments it never heard at all, each over 25 keys of its own range (velocity 80, 1 s notes)
HELDOUT_SEEN = {42: 48, 56: 48, 73: 48}  # cello, trumpet, flute: lowest key (C3)
HELDOUT_UNSEEN = {40: 55, 65: 49, 70: 48, 57: 48, 68: 58, 64: 56, 69: 52}  # violin from G3, alto sax, bassoon, trombone, oboe, soprano sax, English horn
CORPUS_KINDS = ("default", "synth5", "synth1", "violin", "heldout")

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)


def program_name(program: int) -> str:
    """File-name form of a GM program's name: ``40 -> "violin"``, ``24 -> "acoustic_guitar_nylon"``."""
    check_program(program)
    return re.sub(r"[^a-z0-9]+", "_", GM_NAMES[program].lower()).strip("_")



def check_program(program: int) -> None:
    """Raise :class:`ParameterError` unless ``program`` is a General MIDI program, 0-127."""
    if isinstance(program, bool) or not isinstance(program, (int, np.integer)) or not 0 <= program <= 127:
        raise ParameterError(f"program={program!r}; a General MIDI program is an integer 0-127")



def check_notes(notes: Iterable[Note]) -> list[Note]:
    """``notes`` as ``(float, float, int, int)`` tuples; :class:`ParameterError` naming the first bad one."""
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
    return check_notes((i * note_s, note_s, p, velocity) for i, p in enumerate(pitches))



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
    return check_notes((i * (note_s + gap_s), note_s, p, v) for i, (p, v) in enumerate(pairs))



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
    return check_notes(notes)



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
        # flute, a synth) at velocities 60 and 100; other dynamics of a few of them to validate and test
        def keys(velocity):
            return single_notes(range(36, 85), velocity, note_s=0.4, gap_s=0.05)

        plan = [(f"train/{p:03d}_{program_name(p)}_v{v}.wav", p, keys(v)) for v in (60, 100) for p in DEFAULT_PROGRAMS]
        plan += [(f"val/{p:03d}_{program_name(p)}_v70.wav", p, keys(70)) for p in DEFAULT_VAL_PROGRAMS]
        return plan + [(f"test/{p:03d}_{program_name(p)}_v85.wav", p, keys(85)) for p in DEFAULT_TEST_PROGRAMS]
    if kind == "heldout":
        return [(f"{folder}/{p:03d}_{program_name(p)}_v80.wav", p, single_notes(range(low, low + 25), 80, note_s=1.0))
                for folder, programs in (("seen", HELDOUT_SEEN), ("unseen", HELDOUT_UNSEEN)) for p, low in programs.items()]
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
