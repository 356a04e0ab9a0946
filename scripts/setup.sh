#!/usr/bin/env bash
# Set up manne on a fresh machine, then run it.
#
#   bash scripts/setup.sh            # install, then open the synth on the bundled default model
#   bash scripts/setup.sh test       # install (with test tools), then run the test suite
#   bash scripts/setup.sh install    # install only
#
# System packages come from apt-get (Debian/Ubuntu) when run as root; otherwise the exact
# install line is printed. The Python side lives in .venv next to this repository.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-play}"; shift || true
case "$mode" in play|test|install) ;; *) echo "usage: bash scripts/setup.sh [play|test|install] [args...]" >&2; exit 2;; esac

# gcc and python3-dev build PyAudio (it has no Linux wheels); FluidSynth and FluidR3 render the demo
# corpora (scripts/) and the tests' real instrument recordings; JACK (jackd2, its dummy driver) gives the MIDI
# tests a virtual port where the kernel has no ALSA sequencer.
apt_pkgs=(portaudio19-dev libsndfile1 gcc python3-dev python3-venv python3-tk)
[ "$mode" = test ] && apt_pkgs+=(fluidsynth fluid-soundfont-gm xvfb xdotool imagemagick pulseaudio pulseaudio-utils libasound2-plugins jackd2)
brew_pkgs="portaudio libsndfile python-tk"; [ "$mode" = test ] && brew_pkgs="$brew_pkgs fluid-synth"

if [ "$(uname)" = Darwin ]; then
  if command -v brew >/dev/null; then
    missing=""; for p in $brew_pkgs; do brew list "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    [ -n "$missing" ] && brew install $missing
  else
    echo "manne needs: brew install $brew_pkgs   (Homebrew: https://brew.sh)" >&2
  fi
elif command -v dpkg >/dev/null; then
  missing=()
  for p in "${apt_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "installing system packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "manne needs system packages; run:" >&2
      echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
      echo "then run this command again." >&2
      exit 1
    fi
  fi
else
  echo "manne needs PortAudio, libsndfile, FluidSynth with the FluidR3 GM soundfont, and Tk from your package manager" >&2
fi

PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "manne needs Python 3.10 or newer (found: $("$PY" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
"$PY" -c 'import tkinter' 2>/dev/null || echo "warning: this Python has no tkinter; the synth window needs it (apt-get install python3-tk / brew install python-tk)" >&2

# The stamp names what is installed: "<setup.py hash>-test" (manne with the audio, control and test
# extras: everything play and install need too) or "<hash>-play" (play and install are one install).
stamp=.venv/.manne-installed
hash="$("$PY" -c 'import hashlib; print(hashlib.sha1(open("setup.py", "rb").read()).hexdigest())')"
want="$hash-$mode"; [ "$mode" = install ] && want="$hash-play"
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv"
  "$PY" -m venv .venv
  rm -f "$stamp"
fi
installed=no
case "$(cat "$stamp" 2>/dev/null || true)" in
  "$hash-test") installed=yes ;;
  "$hash-play"|"$hash-install") [ "$mode" != test ] && installed=yes ;;
esac
if [ "$installed" = no ]; then
  echo "installing manne and its Python packages into .venv (TensorFlow is large; a first install takes a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  if [ "$mode" = test ]; then
    .venv/bin/python -m pip install -q -e ".[audio,test]"
  else
    .venv/bin/python -m pip install -q -e .
    # without PyAudio the synth still opens (it says there is no audio output) and renders to WAV
    .venv/bin/python -m pip install -q "pyaudio>=0.2.13" || echo "warning: PyAudio did not install (PortAudio headers and a C compiler are needed); the synth will only render to WAV" >&2
    # MIDI and OSC in (manne synth --midi / --osc); without them the synth plays from the window only
    .venv/bin/python -m pip install -q -e ".[control]" || echo "warning: mido/python-rtmidi/python-osc did not install; --midi and --osc will say so" >&2
  fi
  echo "$want" > "$stamp"
fi

case "$mode" in
  play) exec .venv/bin/manne synth "$@" ;;
  test) exec .venv/bin/python -m pytest tests "$@" ;;
  install) echo "installed: run .venv/bin/manne --help" ;;
esac
