"""Live timbre transfer (ANNe): filter an audio input through a model's timbre space, hop by hop.

The same processing as the offline :func:`manne.timbre.transfer.transfer`, one frame at a time on the
last ``n_fft`` input samples: periodic Hann window, real FFT, the magnitude divided by its maximum
(the frame's gain), the pitch class of its chroma, encode, ``z' = clip(gain * z + offset)``, decode,
the gain restored, the input's own phase, inverse FFT, Hann synthesis window and overlap-add divided
by the windows' squared sum (as ``librosa.istft``). Frames whose maximum magnitude is at most
``gate`` (by default the analysis' ``silence_db`` below a full-scale sine) pass through unchanged.

Latency: an output sample is complete once every frame that covers it has been added, so the output
is the offline transfer delayed by ``n_fft - gcd(block, hop_length)`` samples when the audio callback
always asks for ``block`` samples (3840 samples, 87 ms, for the model's 4096/1024 analysis and a
256-frame buffer); the sound card's input and output buffering come on top.

Thread contract
---------------
* The **control thread** calls :meth:`LiveTransfer.set_moves`, which swaps in an immutable
  ``(gain, offset)`` snapshot with one assignment.
* The **audio thread** calls :meth:`LiveTransfer.callback` (a PyAudio duplex stream's) or
  :meth:`LiveTransfer.process`. It takes no lock and does no I/O; the windows, the chroma filterbank,
  the prepared encoder and decoder and every frame-sized buffer are made in the constructor. On any
  exception the callback outputs silence and counts an underrun.

NumPy only: librosa is never imported here (the chroma filterbank is :func:`manne.stft.chroma_filterbank`,
equal to :func:`manne.corpus.analysis.chroma_filter`).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from manne.dsp import hann
from manne.errors import ParameterError
from manne.model.decoder import Decoder
from manne.model.encoder import PreparedEncoder
from manne.stft import chroma_filterbank
from manne.synth.blas import limit_blas_threads
from manne.synth.callback import PA_INPUT_OVERFLOW, PA_OUTPUT_UNDERFLOW, GuardedCallbacks
from manne.synth.pitch import Partials
from manne.synth.ring import Ring

__all__ = ["LiveTransfer", "gate_level", "delay"]



def gate_level(n_fft: int, gate_db: float) -> float:
    """Magnitude of a sine ``gate_db`` dB below full scale in a periodic-Hann frame of ``n_fft``: ``n_fft / 4 * 10 ** (gate_db / 20)``."""
    return n_fft / 4.0 * 10.0 ** (gate_db / 20.0)


def delay(n_fft: int, hop_length: int, block: int | None) -> int:
    """Samples between an input sample and its output: ``n_fft - gcd(block, hop_length)`` (``n_fft - 1`` for any block)."""
    return n_fft - (math.gcd(int(block), int(hop_length)) if block else 1)


class LiveTransfer(GuardedCallbacks):
    """Timbre transfer of a live input, hop by hop (see the module docstring).

    Parameters
    ----------
    ae : Autoencoder
    gain, offset : sequences of float, shape (latent,), optional
        ``z' = clip(gain * z + offset)`` to the model's latent range; default unit gains, zero offsets.
    hop_length : int, optional
        Samples between frames; a divisor of ``n_fft`` from ``n_fft // 64`` to ``n_fft // 2``
        (default the model's analysis hop).
    block : int, optional
        Samples the audio callback asks for each time: the delay is ``n_fft - gcd(block, hop_length)``.
        None allows any request size (delay ``n_fft - 1``).
    gate : float, optional
        Frames whose maximum magnitude is at most this pass through unchanged; default
        :func:`gate_level` of the analysis' ``silence_db`` (a sine 50 dB below full scale).
    blas_threads : int or None
        Cap NumPy's BLAS at this many threads (process-wide; a helper thread that waits is a drop-out).

    Attributes
    ----------
    delay : int, samples from an input sample to its output
    frames, passed : int, frames analysed, of which passed through unchanged (quiet)
    underruns : int, callbacks that could not produce their output in time or failed
    overflows : int, hops dropped because the output stopped taking samples (two streams)
    skips : int, times the output skipped ahead to keep the delay bounded (two streams)
    prime : int, finished samples that must wait beyond a request before the output starts (two streams)
    lag : int, the engine's delay at the last pull: ``delay`` plus the input samples taken beyond the output
        samples given (0 in lockstep, the buffering between two streams otherwise; the devices' own latency
        comes on top)
    cpu_load : float, smoothed callback time over the buffer's duration
    """

    def __init__(self, ae, *, gain: Sequence[float] | None = None, offset: Sequence[float] | None = None,
                 hop_length: int | None = None, block: int | None = None, gate: float | None = None,
                 blas_threads: int | None = 1):
        from manne.timbre.transfer import check_moves

        a = ae.analysis
        N = int(a.n_fft)
        H = int(hop_length or a.hop_length)
        if not (N % H == 0 and N // 64 <= H <= N // 2):
            raise ParameterError(f"hop_length={hop_length} must divide n_fft={N} and lie from {N // 64} to {N // 2}")
        if block is not None and not (isinstance(block, (int, np.integer)) and block >= 1):
            raise ParameterError(f"block={block} must be a positive integer (samples per callback)")
        if blas_threads is not None:
            limit_blas_threads(blas_threads)
        self.ae, self.sr, self.n_fft, self.hop_length = ae, int(a.sr), N, H
        self.block = None if block is None else int(block)
        self.gate = float(gate_level(N, -a.silence_db) if gate is None else gate)
        self.delay = delay(N, H, self.block)
        self.n_bins = N // 2 + 1
        self.window = hann(N)
        w2 = (self.window.astype(np.float64) ** 2).reshape(-1, H).sum(axis=0)  # squared windows' sum, period H
        self._inv_env = (1.0 / w2).astype(np.float32)
        self.fb_T = np.ascontiguousarray(chroma_filterbank(sr=a.sr, n_fft=N, fmin=a.fmin, fmax=a.fmax).T)  # (n_bins, 12)
        self.encoder = PreparedEncoder(ae)
        self.decoder = Decoder.of(ae)
        # a register-aware model needs each frame's octave: its class's octave nearest the harmonic-sum f0
        self._partials = Partials(sr=a.sr, n_fft=N, fmax=5000.0) if ae.config.uses_register else None
        self.lo, self.hi = (np.asarray(r, dtype=np.float32) for r in ae.latent_range)
        self.set_moves(*check_moves(gain, offset, ae.latent))
        # frame-sized work buffers
        self._x = np.zeros(N, dtype=np.float32)  # the last N input samples
        self._frame = np.zeros(N, dtype=np.float32)
        self._mag = np.zeros(self.n_bins, dtype=np.float32)
        self._S = np.zeros(self.n_bins, dtype=np.float32)
        self._ratio = np.zeros(self.n_bins, dtype=np.float32)
        self._chroma = np.zeros(12, dtype=np.float32)
        self._z = np.zeros(ae.latent, dtype=np.float32)
        self._X = np.zeros(self.n_bins, dtype=np.complex64)
        self._y = np.zeros(N, dtype=np.float32)
        self._ola = np.zeros(N, dtype=np.float32)
        # two streams: the output starts once a hop and a buffer wait beyond its request (see :meth:`pull`)
        self.prime = H + (self.block or H)
        size = 1 << int(math.ceil(math.log2(2 * (N + H + (self.block or N)) + 1)))
        self._out = Ring(size)  # finished output samples, at absolute positions _r (read) .. _w (written)
        self.underruns = 0
        self.overflows = 0
        self.skips = 0
        self.cpu_load = 0.0
        self.last_error: str | None = None
        self.reset()

    # ---- control thread -------------------------------------------------------------------
    def set_moves(self, gain: Sequence[float], offset: Sequence[float]) -> None:
        """Swap in new per-neuron gains and offsets (``latent`` finite values each)."""
        g = np.asarray(gain, dtype=np.float32)
        o = np.asarray(offset, dtype=np.float32)
        if g.shape != (self.ae.latent,) or o.shape != (self.ae.latent,) or not (np.isfinite(g).all() and np.isfinite(o).all()):
            raise ParameterError(f"gain and offset need {self.ae.latent} finite values each (one per neuron)")
        g.setflags(write=False)
        o.setflags(write=False)
        self._moves = (g, o)

    # ---- audio thread ---------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the input and the overlap-add state: the output restarts from silence, ``delay`` behind."""
        self._x[:] = 0.0
        self._ola[:] = 0.0
        self._fill = 0  # input samples of the current hop
        self._out.clear()
        # ``delay - (n_fft - hop)`` zeros come first; the first hop's segment covers samples before the start
        self._w = self.delay - (self.n_fft - self.hop_length)  # write position in the ring (absolute)
        self._r = 0  # read position (absolute)
        self._primed = False
        self._floor, self._low, self._span = -1, 0, 0
        self.pushed = 0
        self.lag = self.delay
        self.encoder.reset()
        self.frames = 0
        self.passed = 0

    def callback(self, in_data, frame_count: int, time_info, status: int):
        """PyAudio duplex stream callback: ``frame_count`` float32 input samples in, as many out. Never raises
        (:meth:`~manne.synth.callback.GuardedCallbacks.guarded`, as the two below)."""
        if status & (PA_INPUT_OVERFLOW | PA_OUTPUT_UNDERFLOW):
            self.underruns += 1
        return self.guarded(frame_count, self._duplex, in_data, frame_count)

    def _duplex(self, in_data, frame_count: int) -> bytes:
        x = np.frombuffer(in_data, dtype=np.float32) if in_data else np.zeros(frame_count, dtype=np.float32)
        return self.process(x[:frame_count]).tobytes()

    def input_callback(self, in_data, frame_count: int, time_info, status: int):
        """PyAudio input stream callback (two streams, :class:`manne.synth.duplex.AudioInOut`): transform the
        input; :meth:`output_callback` plays the result."""
        if status & PA_INPUT_OVERFLOW:
            self.underruns += 1
        return self.guarded(frame_count, self._take, in_data, frame_count, silence=False)

    def _take(self, in_data, frame_count: int) -> None:
        self.push(np.frombuffer(in_data, dtype=np.float32)[:frame_count])

    def output_callback(self, in_data, frame_count: int, time_info, status: int):
        """PyAudio output stream callback (two streams): the finished samples, once ``prime`` of them wait."""
        if status & PA_OUTPUT_UNDERFLOW:
            self.underruns += 1
        return self.guarded(frame_count, self._finished, frame_count, load=False)  # the input's callback does the work

    def _finished(self, frame_count: int) -> bytes:
        return self.pull(frame_count, prime=self.prime).tobytes()

    def process(self, x: np.ndarray) -> np.ndarray:
        """Take ``len(x)`` input samples and return as many output samples, ``delay`` samples behind.

        Parameters
        ----------
        x : np.ndarray, shape (n,), float

        Returns
        -------
        y : np.ndarray, shape (n,), float32. If a request is not a multiple of ``block`` and the finished
        samples run short, the missing ones are zeros and an underrun is counted.
        """
        self.push(x)
        return self.pull(len(x))

    def push(self, x: np.ndarray) -> None:
        """Take input samples ``x`` (n,); every completed hop appends ``hop_length`` finished samples."""
        x = np.asarray(x, dtype=np.float32)
        n, N, H = len(x), self.n_fft, self.hop_length
        self.pushed += n
        pos = 0
        while pos < n:
            take = min(H - self._fill, n - pos)
            self._x[N - H + self._fill : N - H + self._fill + take] = x[pos : pos + take]
            self._fill += take
            pos += take
            if self._fill == H:
                self._hop()
                self._x[: N - H] = self._x[H:]
                self._fill = 0

    @property
    def waiting(self) -> int:
        """Finished samples not yet pulled."""
        return self._w - self._r

    def pull(self, n: int, *, prime: int = 0) -> np.ndarray:
        """The next ``n`` finished samples, shape (n,), float32.

        With ``prime`` (two streams), nothing is taken until ``n + prime`` samples wait, and again after
        an underrun, so the jitter between the input's and the output's callbacks does not starve the
        output. The fewest samples waiting over the first half second is the level kept: when, over a
        later half second, always more than a hop beyond it wait (the output stalled, or its clock is
        slower than the input's), the oldest are skipped back to it, so the delay stays bounded.
        Missing samples are zeros, count an underrun and start the priming again.
        """
        y = np.zeros(n, dtype=np.float32)
        if prime:
            if not self._primed:
                if self.waiting < n + prime:
                    return y
                self._primed, self._floor, self._low, self._span = True, -1, self.waiting, 0
            self._low = min(self._low, self.waiting)
            self._span += n
            if self._span >= self.sr // 2:  # every half second: the fewest samples that waited
                if self._floor < 0:
                    self._floor = self._low  # the first half second sets the level to keep
                elif self._low > self._floor + self.hop_length:  # the output fell behind (a stall, drift): catch up
                    self._r += self._low - self._floor
                    self.skips += 1
                self._low, self._span = self.waiting, 0
        have = min(n, self.waiting)
        self.lag = self.delay + self.pushed - (self._r + n)  # the delay plus the inputs taken beyond the outputs given
        if have < n:
            self.underruns += 1
            self._primed = False
        self._out.read(self._r, y[:have])
        self._r += have
        return y

    def _hop(self) -> None:
        """Transform the frame of the last ``n_fft`` input samples; append ``hop_length`` finished samples."""
        N, H = self.n_fft, self.hop_length
        np.multiply(self._x, self.window, out=self._frame)
        X = self._X
        np.fft.rfft(self._frame, out=X)
        mag = self._mag
        np.abs(X, out=mag)
        g = float(mag.max())
        self.frames += 1
        if g <= self.gate:
            self.passed += 1
        else:
            S = self._S
            np.multiply(mag, np.float32(1.0 / g), out=S)
            np.multiply(S, S, out=self._ratio)
            np.matmul(self._ratio, self.fb_T, out=self._chroma)
            note = int(np.argmax(self._chroma))
            if self._partials is not None:
                m = 69.0 + 12.0 * math.log2(float(self._partials.f0(S[: self._partials.n_bins])) / 440.0)
                note += 12 * round((m - note) / 12.0)
            gain, offset = self._moves
            z = self._z
            np.multiply(self.encoder.one(S, note), gain, out=z)
            z += offset
            np.clip(z, self.lo, self.hi, out=z)
            S_hat = self.decoder.one(z, note)
            # the decoded magnitude times the frame's gain, with the input's phase X / |X| (phase 0 where X = 0)
            r = self._ratio
            np.maximum(mag, np.float32(1e-30), out=r)
            np.divide(S_hat, r, out=r)
            r *= np.float32(g)
            X *= r
            zero = mag == 0
            if zero.any():
                X[zero] = S_hat[zero] * g
        y = self._y
        np.fft.irfft(X, n=N, out=y)
        y *= self.window
        self._ola += y
        seg = self._ola[:H]
        seg *= self._inv_env
        if self._w + H - self._r > self._out.size:  # the output has stopped taking samples: drop these, keep the unread
            self.overflows += 1
        else:
            self._out.write(self._w, seg)
            self._w += H
        self._ola[: N - H] = self._ola[H:]
        self._ola[N - H :] = 0.0
