"""``manne encode MODEL_DIR AUDIO [--note E3] [-o preset.json]``: a recording's timbre as slider values.

The code is the median, neuron by neuron, of the encoder's codes of the recording's sustained
frames (:mod:`manne.timbre.encoding`: runs of at least 8 frames that the pitch tracker hears at
one note, without their attack and release), each frame encoded at its tracked pitch, or at
``--note`` for all of them. The last line of the output is the code as comma-separated values, ready
for ``manne render --z``; ``-o`` saves it as a preset (:mod:`manne.synth.presets`) with the
recording's median note.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from manne.io.files import check_new


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("encode", help="a recording's timbre as latent values (for --z or a preset)",
                       description="Encode the sustained notes of a recording and print the median code as "
                       "comma-separated values on the last line (ready for `manne render --z`), or save it as a preset.")
    p.add_argument("model", metavar="MODEL_DIR", help="model directory from `manne train`")
    p.add_argument("audio", metavar="AUDIO", help="a recording (wav, flac, ogg, mp3, aiff)")
    p.add_argument("--note", help="the note the recording plays, a name with its octave (E3) or a MIDI number (52): "
                   "every frame is encoded at this pitch; default each frame's pitch from the pitch tracker")
    p.add_argument("-o", "--output", metavar="PRESET.json", help="save the code as a preset")
    p.add_argument("--force", action="store_true", help="overwrite the preset if it exists")
    return p


def run(args) -> int:
    from manne.errors import ParameterError
    from manne.io.audio import find_audio
    from manne.model.modeldir import read_config
    from manne.synth.automation import note_option

    note = note_option(args.note) if args.note is not None else None
    if args.output is not None:
        if Path(args.output).suffix.lower() != ".json":
            raise ParameterError(f"-o {args.output}: a preset is a .json file")
        check_new([args.output], force=args.force)
    if Path(args.audio).is_dir():
        raise ParameterError(f"{args.audio} is a folder; give one recording")
    path = find_audio([args.audio])[0]  # AudioFileError for a missing file or one that is not audio
    read_config(args.model)  # ModelError for a missing or incomplete model, before the analysis

    from manne.model.forward import Autoencoder
    from manne.synth.pitch import note_name
    from manne.timbre.encoding import read_frames, recording_code

    ae = Autoencoder.load(args.model)
    code = recording_code(ae, read_frames(path, ae.analysis), note=note, where=str(path))
    how = f"at {note_name(note)}" if note is not None else "at their tracked pitches"
    print(f"{path.name}: {len(code.notes)} sustained note{'s' * (len(code.notes) != 1)} "
          f"({', '.join(note_name(n.midi) for n in code.notes[:12])}{', ...' if len(code.notes) > 12 else ''}), "
          f"{code.n_frames} frames encoded {how}; median note {note_name(code.midi)}")
    if code.clipped:
        print(f"manne encode: {code.clipped} value{'s' * (code.clipped != 1)} lay outside the model's slider range "
              "and were moved to its edge", file=sys.stderr)
    if args.output is not None:
        from manne.dsp import NOTE_NAMES
        from manne.synth.presets import Preset, save_preset

        save_preset(args.output, Preset(model=str(Path(args.model).resolve()), z=tuple(code.z), note=NOTE_NAMES[code.midi % 12]),
                    force=args.force)
        print(f"wrote {args.output} (note {NOTE_NAMES[code.midi % 12]})")
    print(",".join(f"{v:.6g}" for v in code.z))
    return 0
