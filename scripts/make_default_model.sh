#!/usr/bin/env bash
# Rebuild the bundled default model, trained/default/, from nothing but the FluidR3 GM soundfont.
#
#   bash scripts/make_default_model.sh            # about 10 minutes on 2 CPU cores
#
# 1. render one-octave C major scales (C4-C5) for 75 General MIDI programs   -> corpora/audio/synth1/
# 2. analyse them into a corpus split by program, 65/5/5 like the paper's 70/5/5 patches
#                                                                             -> corpora/synth1.npz
# 3. train the paper's 8-neuron model (sigmoid bottleneck, chroma augmentation, skip) with the
#    default (fast) schedule, store float16 NumPy weights, and drop the Keras file and the
#    checkpoint so the bundled directory stays small; training also writes landmarks.json (where
#    each program sits in the timbre space)                           -> trained/default/
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || { echo "run 'bash scripts/setup.sh install' first" >&2; exit 1; }
$PY scripts/render_corpora.py synth1 -o corpora/audio
.venv/bin/manne corpus corpora/audio/synth1 -o corpora/synth1.npz --val 0.0667 --test 0.0667 --force
rm -rf trained/default.new
.venv/bin/manne train corpora/synth1.npz -o trained/default.new --latent 8 --float16 "$@"
rm -rf trained/default.new/checkpoint trained/default.new/model.keras
rm -rf trained/default && mv trained/default.new trained/default
du -sh trained/default
cat trained/default/metrics.json
