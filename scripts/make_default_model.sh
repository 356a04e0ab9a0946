#!/usr/bin/env bash
# Rebuild the bundled default model, trained/default/, from nothing but the FluidR3 GM soundfont.
#
#   bash scripts/make_default_model.sh [manne train options]     # about 8 minutes on 2 CPU cores
#
# 1. render every key C2-C6 (0.4 s at velocities 60 and 100) for 12 General MIDI programs (piano, organ,
#    guitar, viola, cello, choir, trumpet, horn, tenor sax, clarinet, flute, saw lead) -> corpora/audio/default/
#    and three of them at velocity 70 (val/) and three at 85 (test/)
# 2. analyse them into a corpus (pitch from pYIN), split by those folders  -> corpora/default.npz
# 3. train the register-aware 8-neuron model (S ** 0.25, register input, linear output), 60 epochs
#    of the plateau schedule, store float16 NumPy weights, and drop the Keras file and the checkpoint so
#    the bundled directory stays small; training also writes landmarks.json (where each program
#    sits in the timbre space)                                             -> trained/default/
# 4. the slider labels (descriptors.json: what moving each neuron does to the sound)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || { echo "run 'bash scripts/setup.sh install' first" >&2; exit 1; }
start=$(date +%s)
$PY scripts/render_corpora.py default -o corpora/audio
.venv/bin/manne corpus corpora/audio/default -o corpora/default.npz --split folders --force
rm -rf trained/default.new
# the bundled model's schedule (measured on this corpus with `manne bench fidelity trained/default
# corpora/audio/heldout/seen/*.wav`: 60 epochs give 2.6 dB own / 3.6 dB keyboard; 8.4 minutes at 2,700
# frames/s with the XLA-compiled step, the whole script 9.3 minutes on 2 CPU cores; the cosine plan at
# batch 512 in 6 minutes gave 4.3 / 6.2 dB, and 40 programs at one dynamic each in 8 minutes 3.1 / 6.6)
.venv/bin/manne train corpora/default.npz -o trained/default.new --latent 8 --float16 \
  --schedule plateau --batch 256 --lr 2e-3 --epochs 60 --patience 20 "$@"
rm -rf trained/default.new/checkpoint trained/default.new/model.keras
.venv/bin/manne descriptors trained/default.new -o out/default-descriptors --points 16 --force
rm -rf trained/default && mv trained/default.new trained/default
du -sh trained/default
cat trained/default/metrics.json
echo "rebuilt trained/default in $(( $(date +%s) - start )) s"
