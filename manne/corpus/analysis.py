"""The analysis that turns audio into corpus frames, and its parameters.

A model is only valid for spectra made with the same parameters, so :class:`Analysis` is saved in
every corpus and every model and compared on load.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

@dataclass(frozen=True)
class Analysis:
    """Parameters of the analysis that turns audio into corpus frames.

    A model is only valid for spectra made with the same parameters, so they are saved in
    every corpus and every model and compared on load.
    """

    sr: int = 44100
    n_fft: int = 4096
    hop_length: int = 1024
    silence_db: float = 50.0
    fmin: float = 50.0
    fmax: float = 5000.0

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Analysis":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def differences(self, other: "Analysis") -> list[str]:
        """Human-readable list of the fields that differ, e.g. ``["hop_length 1024 != 512"]``."""
        a, b = self.to_dict(), other.to_dict()
        return [f"{k} {a[k]} != {b[k]}" for k in a if a[k] != b[k]]
