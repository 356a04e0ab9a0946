"""manne: train a neural timbre model on your own recordings and play it live.

The package is split by concept: :mod:`manne.dsp` (pure signal code), :mod:`manne.io.audio` (file
I/O), :mod:`manne.corpus`, :mod:`manne.model.network` (Keras), :mod:`manne.model.forward` (NumPy forward pass),
:mod:`manne.model.train`, and the command line in :mod:`manne.cli`. Importing ``manne`` is cheap: heavy
libraries load only in the modules that need them.
"""

from manne.errors import AudioFileError, CorpusError, ManneError, ModelError, OutputExistsError, ParameterError

__version__ = "0.1.0"

__all__ = [
    "ManneError",
    "ParameterError",
    "AudioFileError",
    "CorpusError",
    "ModelError",
    "OutputExistsError",
    "__version__",
]
