"""Recordings to corpus frames: analysis, split by clip, the ``.npz`` file format.

Importing this package is cheap: librosa loads only when audio is analysed.
"""

from manne.corpus.build import SPLIT_MODES, SPLITS, Corpus, build, load_corpus, save

__all__ = ["Corpus", "build", "save", "load_corpus", "SPLITS", "SPLIT_MODES"]
