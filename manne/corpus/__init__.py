"""Recordings to corpus frames: the analysis, the split by clip, the ``.npz`` file format.

=========================================  ==================================================
:mod:`manne.corpus.analysis`               :class:`Analysis`; STFT, chroma labels, silence
:mod:`manne.corpus.split`                  train / validation / test by clip
:mod:`manne.corpus.build`                  :class:`Corpus` and :func:`build` from audio files
:mod:`manne.corpus.fileformat`             :func:`save` and :func:`load_corpus`
=========================================  ==================================================

Importing this package is cheap: librosa loads only when audio is analysed.
"""

from manne.corpus.build import Corpus, build
from manne.corpus.fileformat import load_corpus, save
from manne.corpus.split import SPLIT_MODES, SPLITS

__all__ = ["Corpus", "build", "save", "load_corpus", "SPLITS", "SPLIT_MODES"]
