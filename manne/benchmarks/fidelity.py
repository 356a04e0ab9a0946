"""``manne bench fidelity MODEL_DIR AUDIO...``: how close the instrument plays real notes.

For each sustained note of each recording (:mod:`manne.timbre.encoding`; recordings the model did
not learn from), the note's own code (the median code of its sustained frames) is played through
the instrument at the note's MIDI pitch as ``manne render`` plays one note, and compared with the
real note (:mod:`manne.timbre.fidelity`) on

- the harmonic levels (the first 16 harmonics below 10 kHz, dB relative to the strongest, floor
  -60 dB): the mean absolute dB difference, for the rendered note, for the decoded spectrum before
  synthesis, and for a plain sawtooth at the same pitch;
- the noise between the partials, dB relative to the strongest partial, real and rendered, beside
  what the measure reads on the real note's partials alone (its floor, about -65 dB);
- the decoded bins stuck at exactly 0 where the real note has energy above -60 dB.

The real note is read at its tracked pitch (the median of its frames'), the rendered and decoded
spectra at the MIDI note they play. The table's "decoded", "rendered" (noise) and "stuck" columns
are the own codes'; the JSON has both modes' figures.

Two modes: *own* (each note from its own code) and *keyboard* (every note of a recording from one
code: that of its note nearest the median MIDI of its notes, as a musician sets the sliders once
and plays across the keys). Prints a row per note and the medians; ``-o`` writes every figure, the
medians and the worst of each as JSON, and ``--plot`` draws the errors against MIDI. NumPy loads
when the command runs (``manne --help`` builds this parser).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from manne.errors import ParameterError
from manne.synth.limits import METHOD_DEFAULT, METHODS

MODES = ("own", "keyboard")


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("fidelity", help="timbre fidelity: rendered notes against real ones, per note",
                       description="Play each sustained note of the recordings from the model's code of it and compare "
                       "the rendered note with the real one: harmonic levels (mean absolute dB difference over the first "
                       "16 harmonics below 10 kHz, floor -60 dB) beside the decoded spectrum's and a sawtooth's, the "
                       "noise between the partials, and decoded bins stuck at 0. Modes: own (each note's own code) and "
                       "keyboard (every note of a recording from the code of its middle note).")
    p.add_argument("model", metavar="MODEL_DIR", help="model directory from `manne train`")
    p.add_argument("audio", nargs="+", metavar="AUDIO", help="recordings of notes the model did not learn from")
    p.add_argument("--method", default=METHOD_DEFAULT, choices=METHODS,
                   help=f"synthesis method of the rendered notes (default {METHOD_DEFAULT})")
    p.add_argument("-o", "--output", metavar="FIGURES.json", help="write every figure as JSON")
    p.add_argument("--plot", metavar="OUT.png", help="draw each note's harmonic error against its MIDI note")
    p.add_argument("--force", action="store_true", help="overwrite the outputs if they exist")
    return p


def _check(args) -> None:
    """Paths and overwrite rules, before anything heavy loads."""
    from manne.io.audio import find_audio
    from manne.io.files import check_new

    outs = []
    for name, path, suffix in (("-o", args.output, ".json"), ("--plot", args.plot, ".png")):
        if path is not None:
            if Path(path).suffix.lower() != suffix:
                raise ParameterError(f"{name} {path}: give a {suffix} file")
            outs.append(Path(path))
    check_new(outs, force=args.force)
    args.files = find_audio(args.audio)


def keyboard_note(midis) -> int:
    """Index of the note whose MIDI is nearest the median MIDI of ``midis`` (the lower one on a tie)."""
    import numpy as np

    midis = np.asarray(midis, dtype=np.float64)
    mid = float(np.median(midis))
    return int(min(range(len(midis)), key=lambda i: (abs(midis[i] - mid), midis[i], i)))


def measure_note(ae, frames, note, codes: dict, *, method: str) -> dict:
    """Every figure of one sustained note; ``codes`` maps each mode to the code it is played from."""
    import numpy as np

    from manne.synth.pitch import midi_hz
    from manne.timbre import fidelity as F

    a = ae.analysis
    kw = dict(sr=a.sr, n_fft=a.n_fft)
    real = np.median(frames.S[note.idx].astype(np.float64), axis=0)
    real_levels = F.harmonic_levels(real, float(midi_hz(note.pitch)), **kw)
    f0 = float(midi_hz(note.midi))
    n = len(real_levels)  # the played note is read at the real one's harmonics
    row = {"midi": note.midi, "pitch": note.pitch, "frames": len(note.idx), "harmonics": len(real_levels),
           "levels": real_levels.round(2).tolist(),
           "sawtooth_error_db": F.level_error(real_levels, F.sawtooth_levels(len(real_levels))),
           "noise_real_db": F.noise_level(real, float(midi_hz(note.pitch)), **kw),
           "noise_floor_db": F.noise_floor(real_levels, f0, **kw)}
    for mode, z in codes.items():
        decoded = ae.decode(np.asarray(z, dtype=np.float32)[None, :], note.midi)[0].astype(np.float64)
        rendered = F.play_spectrum(ae, z, note.midi, method=method)
        row[mode] = {"rendered_error_db": F.level_error(real_levels, F.harmonic_levels(rendered, f0, n=n, **kw)),
                     "decoded_error_db": F.level_error(real_levels, F.harmonic_levels(decoded, f0, n=n, **kw)),
                     "noise_rendered_db": F.noise_level(rendered, f0, **kw),
                     "noise_decoded_db": F.noise_level(decoded, f0, **kw),
                     "stuck_share": F.stuck_share(decoded, real)}
        row[mode]["noise_difference_db"] = row[mode]["noise_rendered_db"] - row["noise_real_db"]
    return row


# (key in a row, or mode and key) -> the summary's name
FIGURES = [(("sawtooth_error_db",), "sawtooth_error_db"), (("noise_real_db",), "noise_real_db"),
           (("noise_floor_db",), "noise_floor_db")] + [
    ((mode, key), f"{mode}_{key}") for mode in MODES
    for key in ("rendered_error_db", "decoded_error_db", "noise_rendered_db", "noise_difference_db", "noise_decoded_db",
                "stuck_share")]


def _value(row: dict, path: tuple) -> float:
    v = row
    for k in path:
        v = v[k]
    return float(v)


def medians(rows: list[dict]) -> dict:
    """The median of each figure over the notes (finite values only; NaN when none)."""
    import numpy as np

    out = {}
    for path, name in FIGURES:
        v = np.array([_value(r, path) for r in rows], dtype=np.float64)
        v = v[np.isfinite(v)]
        out[name] = float(np.median(v)) if len(v) else float("nan")
    return out


def worst(rows: list[dict]) -> dict:
    """The largest of each error and stuck share, and of each noise difference's size, over the notes (the
    issue's bounds hold for every note)."""
    import numpy as np

    out = {}
    for path, name in FIGURES:
        if name.endswith(("error_db", "stuck_share", "noise_difference_db")):
            v = np.abs(np.array([_value(r, path) for r in rows], dtype=np.float64))
            v = v[np.isfinite(v)]
            out[name] = float(v.max()) if len(v) else float("nan")
    return out


def _f(v: float, spec: str = ".1f") -> str:
    return "-" if not math.isfinite(v) else format(v, spec)


def table(rows: list[dict], med: dict) -> str:
    """The per-note table and the medians, as text."""
    head = ("file", "note", "own", "keyboard", "decoded", "sawtooth", "noise real", "rendered", "stuck")
    lines = [[r["file"], r["name"], _f(r["own"]["rendered_error_db"]), _f(r["keyboard"]["rendered_error_db"]),
              _f(r["own"]["decoded_error_db"]), _f(r["sawtooth_error_db"]), _f(r["noise_real_db"]),
              _f(r["own"]["noise_rendered_db"]), _f(100 * r["own"]["stuck_share"], ".0f") + " %"] for r in rows]
    lines.append(["median", "", _f(med["own_rendered_error_db"]), _f(med["keyboard_rendered_error_db"]),
                  _f(med["own_decoded_error_db"]), _f(med["sawtooth_error_db"]), _f(med["noise_real_db"]),
                  _f(med["own_noise_rendered_db"]), _f(100 * med["own_stuck_share"], ".0f") + " %"])
    widths = [max(len(str(x[i])) for x in [head] + lines) for i in range(len(head))]

    def fmt(cells) -> str:  # file and note to the left, figures to the right
        return "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    rule = "-" * len(fmt(head))
    return "\n".join([fmt(head), rule] + [fmt(x) for x in lines[:-1]] + [rule, fmt(lines[-1])])


def _finite(x):
    """``x`` with every NaN or infinite number replaced by None (JSON has no NaN)."""
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _progress(total: int):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="note", desc="fidelity", leave=False, disable=None, file=sys.stderr)


def run(args) -> int:
    _check(args)
    from manne.errors import AudioFileError
    from manne.io.files import atomic_path
    from manne.model.forward import Autoencoder
    from manne.synth.pitch import note_name
    from manne.timbre.encoding import note_code, read_frames, sustained_notes

    ae = Autoencoder.load(args.model)
    found = []
    for path in args.files:
        frames = read_frames(path, ae.analysis)
        notes = sustained_notes(frames)
        if notes:
            found.append((path, frames, notes))
        else:
            print(f"manne bench fidelity: {path}: no sustained note found; skipped", file=sys.stderr)
    if not found:
        raise AudioFileError(f"no sustained note in {len(args.files)} recording{'s' * (len(args.files) != 1)} (a run of "
                             "at least 8 frames that the pitch tracker hears at one note)")
    print(f"manne bench fidelity: {args.model} ({ae.latent} latent, power {ae.config.power:g}, register "
          f"{'yes' if ae.config.uses_register else 'no'}); {sum(len(n) for _, _, n in found)} notes in {len(found)} "
          f"recording{'s' * (len(found) != 1)}; method {args.method}", flush=True)
    rows = []
    bar = _progress(sum(len(n) for _, _, n in found))
    for path, frames, notes in found:
        own = [note_code(ae, frames, n.idx)[0] for n in notes]
        key = keyboard_note([n.midi for n in notes])
        for n, z in zip(notes, own):
            row = {"file": path.name, "name": note_name(n.midi), "keyboard_note": note_name(notes[key].midi),
                   **measure_note(ae, frames, n, {"own": z, "keyboard": own[key]}, method=args.method)}
            row["z_own"] = z.tolist()
            rows.append(row)
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    med = medians(rows)
    print(table(rows, med))
    print(f"harmonic error (dB): own {_f(med['own_rendered_error_db'])}, keyboard {_f(med['keyboard_rendered_error_db'])}, "
          f"decoded {_f(med['own_decoded_error_db'])} / {_f(med['keyboard_decoded_error_db'])}, sawtooth "
          f"{_f(med['sawtooth_error_db'])}; noise between partials (dB): real {_f(med['noise_real_db'])}, rendered "
          f"{_f(med['own_noise_rendered_db'])} ({_f(med['own_noise_difference_db'], '+.1f')} from the real), decoded {_f(med['own_noise_decoded_db'])} (the measure reads "
          f"{_f(med['noise_floor_db'])} on the real partials alone); stuck decoded bins {_f(100 * med['own_stuck_share'])} % (medians)")
    figures = {"model": str(args.model), "method": args.method, "files": [str(p) for p, _, _ in found],
               "medians": med, "worst": worst(rows), "notes": rows}
    if args.output:
        with atomic_path(Path(args.output), force=args.force) as tmp:
            tmp.write_text(json.dumps(_finite(figures), indent=1, allow_nan=False) + "\n", encoding="utf-8")
        print(f"wrote {args.output}")
    if args.plot:
        from manne.inspect.fidelity_plot import save_fidelity_plot

        save_fidelity_plot(rows, args.plot, title=f"{Path(args.model).name}: harmonic error per note", force=args.force)
        print(f"wrote {args.plot}")
    return 0
