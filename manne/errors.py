"""The exception family a user sees.

Every error a user can cause (a missing file, a corrupt recording, a corpus that does
not match a model) raises a :class:`ManneError` whose message names the value and the
rule. The command line prints that message on one line; tracebacks need ``--debug``.
"""

from __future__ import annotations


class ManneError(Exception):
    """Base class of every error manne raises on purpose."""


class ParameterError(ManneError, ValueError):
    """A parameter or argument is out of its allowed range."""


class AudioFileError(ManneError):
    """An audio file is missing, unreadable, corrupt, silent or too short."""


class CorpusError(ManneError):
    """A corpus file is missing, malformed or unsuitable for the request."""


class ModelError(ManneError):
    """A model directory is missing, incomplete or of another format version."""


class OutputExistsError(ManneError):
    """An output path exists and ``--force`` was not given."""


class AudioDeviceError(ManneError):
    """There is no audio output: PyAudio (PortAudio) is missing, or it finds no usable output device."""

    INSTALL = ("install PortAudio and PyAudio: `sudo apt-get install portaudio19-dev && .venv/bin/pip install pyaudio` "
               "(macOS: `brew install portaudio && .venv/bin/pip install pyaudio`)")

    def __init__(self, message: str | None = None):
        super().__init__(message or f"no audio output: {self.INSTALL}")
