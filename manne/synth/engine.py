"""The real-time synthesis engine: latent ``z`` and ``note`` in, samples out.

Per synthesis hop the engine takes a normalised magnitude spectrum ``S`` (n_bins,), gives it a
phase, takes an inverse real FFT of ``n_fft`` samples, applies a synthesis window and overlap-adds
the frame with hop ``hop_length`` (64..1024 samples, smaller than the analysis hop for smoother
control) (:mod:`manne.synth.istft`). A fixed output gain, the master volume and a soft limiter
(:mod:`manne.synth.limiter`) follow.

The spectrum is decoded at control rate (:mod:`manne.synth.glide`): while ``z`` or the note moves,
the decoder runs once per ``control_hop`` samples (default 512) and the hops in between interpolate
the magnitude; when nothing moves, no decoder runs. The decode is the costly step (its last layer,
1024 x 2049 float32 in a full-size model, is bound by memory bandwidth).

Everything that can be prepared is prepared once, when the engine is built: the decoder
(:class:`manne.model.decoder.Decoder`), the phase tables, the windows and the output gain.

Thread contract
---------------
Two threads use an engine, and neither ever blocks the other:

* The **control thread** (the GUI, a CLI) calls :meth:`Engine.set_z`, :meth:`~Engine.set_note`,
  :meth:`~Engine.set_volume`, :meth:`~Engine.set_phase`, :meth:`~Engine.start_recording` and
  :meth:`~Engine.stop_recording`, and reads the statistics (``underruns``, ``cpu_load``,
  ``decodes``, ``last_spectrum``, ``last_error``). A setter validates its argument, builds a new
  immutable :class:`Params` tuple and stores it with one attribute assignment, which is atomic in
  CPython. Setters are meant for a single control thread: two threads setting at once may lose an
  update.
* The **audio thread** calls :meth:`Engine.callback` (PyAudio) or :meth:`Engine.process`. It reads
  the parameter snapshot once per block and owns every piece of synthesis state (the smoothed
  ``z``, the note crossfade, the hop counter, the overlap-add tail, the output FIFO). It takes no
  lock, does no I/O and never waits; a recording only appends the block to a list
  (:mod:`manne.synth.recorder`). On any exception it outputs silence and counts an underrun.

:meth:`Engine.render`, :meth:`Engine.render_automation` and :meth:`Engine.reset` run the audio side
in the calling thread: do not call them while a stream plays the same engine.

Latency of a control change: the audio thread reads the snapshot once per block. A change is
picked up at the next control tick, which is the very next hop when the engine was idle (cached)
and at most ``control_hop - hop_length`` samples later while it is moving; the magnitude then
glides from the previous decode to the decode of the new (smoothed) setting over one control hop.
So a change is heard within one buffer plus at most one control hop, and a jump (with
``smoothing_s=0``) is fully in place within about one buffer plus two control hops.

The decoder runs on one BLAS thread by default (``blas_threads=1``, :mod:`manne.synth.blas`): a
multi-threaded matrix-vector product is faster on an idle machine but, when the other cores are
busy, waiting for a helper thread turns a 0.2 ms decode into tens of milliseconds, a drop-out.

This module needs NumPy (and threadpoolctl) only; no TensorFlow, SciPy, Tk or PyAudio.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from manne.dsp import note_index
from manne.errors import ParameterError
from manne.model.decoder import Decoder
from manne.model.forward import Autoencoder
from manne.synth.automation import Automation, keyframes
from manne.synth.blas import limit_blas_threads
from manne.synth.glide import Glide
from manne.synth.istft import TARGET_DBFS, TYPICAL_PARTIALS, InverseSTFT, output_gain
from manne.synth.limiter import LIMIT_KNEE, soft_limit
from manne.synth.limits import (CONTROL_HOP, CONTROL_HOP_MAX, HOP_DEFAULT, HOP_MAX, HOP_MIN, PHASE_DEFAULT,
                                PHASE_MODES, VOLUME_DEFAULT, check_control_hop, check_hop, check_phase,
                                check_smoothing, check_volume)
from manne.synth.recorder import Recorder

# soft_limit, limit_blas_threads, the limits and the level constants are re-exported for the engine's callers
__all__ = ["Engine", "Params", "soft_limit", "limit_blas_threads", "PHASES", "CONTROL_HOP", "CONTROL_HOP_MAX",
           "HOP_MIN", "HOP_MAX", "TARGET_DBFS", "TYPICAL_PARTIALS", "LIMIT_KNEE", "PA_CONTINUE", "PA_OUTPUT_UNDERFLOW"]

PHASES = PHASE_MODES  # the older name

PA_CONTINUE = 0  # pyaudio.paContinue
PA_OUTPUT_UNDERFLOW = 0x4  # pyaudio.paOutputUnderflow, a PortAudio status flag
MAX_BATCH_HOPS = 64  # process() synthesises at most this many hops per batch (bounds memory)


class Params(NamedTuple):
    """An immutable snapshot of the controls, swapped in whole by the control thread."""

    z: np.ndarray  # (latent,) float64, read-only
    note: int
    volume: float
    phase: str


class Engine:
    """Continuous audio from a trained model, controlled by a latent code and a note.

    Parameters
    ----------
    ae : Autoencoder
        The model (from :meth:`Autoencoder.load`).
    sr : int
        Output sample rate; must equal the model's analysis rate (44100).
    hop_length : int
        Synthesis hop in samples, 64..1024 and at most ``n_fft / 2``. Level does not depend on it.
    control_hop : int or None
        Samples between two decodes while ``z`` or the note moves: a multiple of ``hop_length``
        from ``hop_length`` to 2048. The hops in between interpolate the magnitude linearly.
        ``control_hop=hop_length`` decodes every hop. None (default) gives ``CONTROL_HOP`` = 512
        rounded up to a multiple of ``hop_length`` (512 for hops 64, 128, 256 and 512; one hop
        for larger hops).
    phase : {"noise", "coherent"}
        ``"noise"`` cycles a stored table of white-noise phases (``phase_table``) frame by frame, as
        in the paper; ``"coherent"`` advances each bin's phase by its own frequency, so a steady
        spectrum gives a steady sound: one ``n_fft``-sample period repeated, its partials at bin
        centres (``sr / n_fft`` = 10.8 Hz apart). See :mod:`manne.synth.istft`.
    volume : float
        Master volume, 0..1.
    seed : int
        Seed of the phase table.
    smoothing_s : float
        Time constant of the ``z`` and volume smoothing and length of the note crossfade (s), 0..10.
    limiter : bool
        Apply :func:`soft_limit`. False gives the plain ``gain * volume * overlap-add`` signal.
    blas_threads : int or None
        Cap the process's BLAS at this many threads when the engine is built (process-wide, see
        :func:`manne.synth.blas.limit_blas_threads`); None leaves it alone.

    Attributes
    ----------
    gain : float
        Fixed output gain: a frame with the energy of ``TYPICAL_PARTIALS`` full-scale Hann partials
        plays at ``TARGET_DBFS`` RMS.
    phase_table : np.ndarray, shape (rows, n_bins), float32, read-only
    underruns : int
        Blocks that were late (PortAudio's output-underflow flag) or failed (silence was output).
    cpu_load : float
        Exponential moving average of the callback's compute time over the block's duration.
    last_spectrum : np.ndarray, shape (n_bins,), or None
        The magnitude of the latest hop (a fresh array each time it changes; never mutated).
    last_error : str or None
        The last exception caught in :meth:`callback`.
    decodes : int
        Spectra decoded by the audio side so far (a statistic: at most ``sr / control_hop`` a
        second while the controls move, none while they stand still).
    """

    def __init__(self, ae: Autoencoder, *, sr: int = 44100, hop_length: int = HOP_DEFAULT, control_hop: int | None = None,
                 phase: str = PHASE_DEFAULT, volume: float = VOLUME_DEFAULT, seed: int = 0, smoothing_s: float = 0.03,
                 limiter: bool = True, blas_threads: int | None = 1):
        a = ae.analysis
        if int(sr) != a.sr:
            raise ParameterError(f"sr={sr} differs from the model's analysis rate {a.sr} Hz")
        H = check_hop(hop_length)
        if H > a.n_fft // 2:
            raise ParameterError(f"hop_length={hop_length} must be at most n_fft/2 = {a.n_fft // 2}")
        self.control_hop = check_control_hop(control_hop, H)
        self.smoothing_s = check_smoothing(smoothing_s)
        if blas_threads is not None:
            limit_blas_threads(blas_threads)
        self.ae = ae
        self.sr = int(sr)
        self.n_fft = a.n_fft
        self.n_bins = a.n_bins
        self.hop_length = H
        self._ctl = self.control_hop // H  # hops per control tick
        self.limiter = bool(limiter)
        self.seed = int(seed)
        if not 0.0 <= float(ae.config.alpha) <= 1.0:
            raise ParameterError(f"LeakyReLU slope alpha={ae.config.alpha} must be between 0 and 1 for the real-time decoder")
        self._decoder = Decoder.of(ae)
        if self._decoder.n_out != self.n_bins:
            raise ParameterError(f"the decoder outputs {self._decoder.n_out} bins; n_fft={self.n_fft} needs {self.n_bins}")
        self._istft = InverseSTFT(n_fft=self.n_fft, hop_length=H, seed=self.seed)
        self.phase_table = self._istft.phase_table
        self.gain = output_gain(self.n_fft)
        self._glide = Glide(latent=ae.latent, n_bins=self.n_bins, sr=self.sr, hop_length=H,
                            control_hop=self.control_hop, smoothing_s=self.smoothing_s, latent_range=ae.latent_range)
        self._recorder = Recorder(self.sr, fade_s=0.0)  # a take is written as it was played

        notes = ae.notes_present
        z0 = ae.latent_range.astype(np.float64).mean(axis=0)
        z0.setflags(write=False)
        self._params = Params(z0, int(notes[0]) if notes else 0, 0.0, PHASE_DEFAULT)
        self.set_volume(volume)
        self.set_phase(phase)

        self.underruns = 0
        self.cpu_load = 0.0
        self.last_error: str | None = None
        self.last_spectrum: np.ndarray | None = None
        self.decodes = 0
        self.reset()
        self._decoder.one(np.asarray(z0, np.float32), 0)  # warm up BLAS and the buffers

    # ---- control thread -------------------------------------------------------------------
    @property
    def params(self) -> Params:
        """The current control snapshot."""
        return self._params

    def _check_z(self, z) -> np.ndarray:
        z = np.array(z, dtype=np.float64).reshape(-1)
        if z.shape[0] != self.ae.latent:
            raise ParameterError(f"z has {z.shape[0]} values; the model has {self.ae.latent} latent neurons")
        if not np.isfinite(z).all():
            raise ParameterError(f"z={z.tolist()} must hold finite numbers")
        return z

    def set_z(self, z: Sequence[float] | np.ndarray) -> None:
        """Set the target latent code, shape (latent,); the audio side glides to it."""
        z = self._check_z(z)
        z.setflags(write=False)
        self._params = self._params._replace(z=z)

    def set_note(self, note: int | str) -> None:
        """Set the note, 0-11 or a name (``"E"``, ``"F#"``, ``"Bb"``); the audio side crossfades."""
        self._params = self._params._replace(note=note_index(note))

    def set_volume(self, volume: float) -> None:
        """Set the master volume, 0..1; the audio side glides to it."""
        self._params = self._params._replace(volume=check_volume(volume))

    def set_phase(self, mode: str) -> None:
        """Switch the phase mode, ``"noise"`` or ``"coherent"``, from the next block on."""
        self._params = self._params._replace(phase=check_phase(mode))

    def start_recording(self, path: str | os.PathLike, *, force: bool = False) -> None:
        """Start collecting the played blocks; :meth:`stop_recording` writes them to ``path``.

        Raises
        ------
        OutputExistsError
            If ``path`` exists and ``force`` is false (checked now, not at the end).
        """
        self._recorder.start(path, force=force)

    @property
    def recording(self) -> bool:
        return self._recorder.active

    @property
    def recorded_seconds(self) -> float:
        return self._recorder.seconds

    def stop_recording(self) -> Path | None:
        """Stop recording and write the collected audio as a WAV (atomically, replacing the file
        :meth:`start_recording` was allowed to replace). If the write fails, the take is kept and the
        recording goes on.

        Returns
        -------
        path : Path or None
            The file written, or None if no recording was running.
        """
        return self._recorder.stop()

    # ---- audio thread ---------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the synthesis state: the next hop starts fresh at the current targets."""
        self._t = 0  # hops synthesised
        self._glide.reset()
        self._istft.reset()
        self._fifo = np.zeros(0, dtype=np.float32)
        self._fifo_pos = 0

    def callback(self, in_data, frame_count: int, time_info, status: int):
        """PyAudio stream callback: ``frame_count`` float32 mono samples as bytes, and paContinue.

        Never raises: on an exception it returns silence, counts an underrun and keeps the message
        in ``last_error``. PortAudio's output-underflow flag also counts as an underrun.
        """
        t0 = time.perf_counter()
        if status & PA_OUTPUT_UNDERFLOW:
            self.underruns += 1
        try:
            y = self.process(frame_count)
            self._recorder.add(y)
            data = y.tobytes()
        except Exception as exc:  # noqa: BLE001 - the audio thread must survive anything
            self.underruns += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            data = bytes(4 * frame_count)
        load = (time.perf_counter() - t0) * self.sr / max(1, frame_count)
        self.cpu_load += 0.2 * (load - self.cpu_load)
        return data, PA_CONTINUE

    def process(self, n: int) -> np.ndarray:
        """The next ``n`` samples of the stream.

        Hops are synthesised as needed and the surplus of the last hop is kept for the next call,
        so any sequence of sizes concatenates to the same signal.

        Returns
        -------
        y : np.ndarray, shape (n,), float32
        """
        n = int(n)
        if n < 0:
            raise ParameterError(f"n={n} must be >= 0")
        out = np.empty(n, dtype=np.float32)
        pos = 0
        while pos < n:
            left = len(self._fifo) - self._fifo_pos
            if left == 0:
                hops = min(MAX_BATCH_HOPS, -(-(n - pos) // self.hop_length))
                self._fifo = self._synth(hops)
                self._fifo_pos = 0
                left = len(self._fifo)
            take = min(left, n - pos)
            out[pos : pos + take] = self._fifo[self._fifo_pos : self._fifo_pos + take]
            self._fifo_pos += take
            pos += take
        return out

    def render(self, seconds: float) -> np.ndarray:
        """``seconds`` of audio through :meth:`process`, continuing the stream.

        Returns
        -------
        y : np.ndarray, shape (round(seconds * sr),), float32
        """
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ParameterError(f"seconds={seconds} must be a non-negative number")
        return self.process(int(round(seconds * self.sr)))

    def render_automation(self, automation: Automation | Sequence[Sequence[float | int | str]], *,
                          seconds: float | None = None) -> np.ndarray:
        """Render keyframed controls: ``z`` interpolated linearly, ``note`` held until the next keyframe.

        The controls are sampled like live ones: at each control tick the engine decodes the
        keyframed ``z`` and note of the tick's last hop (``z`` still glides with ``smoothing_s`` and
        notes crossfade), and the hops in between interpolate. The render starts at a hop boundary,
        after any samples :meth:`process` had left over.

        Parameters
        ----------
        automation : Automation, or a sequence of rows ``(time_s, z_1, ..., z_latent, note)``
            From :func:`manne.synth.automation.read_automation`, or rows checked here with
            :func:`manne.synth.automation.keyframes`: non-decreasing times from 0, ``note`` 0-11 or
            a name. Before the first keyframe and after the last the values are held.
        seconds : float, optional
            Length of the render; default the time of the last keyframe.

        Returns
        -------
        y : np.ndarray, shape (round(seconds * sr),), float32
        """
        auto = automation if isinstance(automation, Automation) else keyframes(automation, latent=self.ae.latent)
        if auto.z.shape[1] != self.ae.latent:
            raise ParameterError(f"the automation has {auto.z.shape[1]} z values per keyframe; "
                                 f"the model has {self.ae.latent} latent neurons")
        if seconds is None:
            seconds = auto.end
        if not (math.isfinite(seconds) and seconds > 0):
            raise ParameterError(f"seconds={seconds}: the render must be longer than 0 s (give a later keyframe or seconds)")
        n = int(round(seconds * self.sr))
        H = self.hop_length
        out = np.empty(n, dtype=np.float32)
        pos, hop = 0, 0
        while pos < n:
            k = min(MAX_BATCH_HOPS, -(-(n - pos) // H))
            t = (hop + np.arange(k + self._ctl - 1)) * H / self.sr  # a control tick looks ahead to its last hop
            zk, nk = auto.at(t)
            y = self._synth(k, z_targets=zk, note_targets=nk)
            take = min(len(y), n - pos)
            out[pos : pos + take] = y[:take]
            pos += take
            hop += k
        return out

    def _synth(self, k: int, *, z_targets: np.ndarray | None = None, note_targets: np.ndarray | None = None) -> np.ndarray:
        """Synthesise ``k`` hops; shape (k * hop_length,), float32.

        Targets come from the control snapshot, or per hop from ``z_targets`` (>= k, latent) and
        ``note_targets`` (>= k,) (automation; see :meth:`manne.synth.glide.Glide.plan`).
        """
        p = self._params
        # 1. control, hop by hop: which control ticks need a decode, the glide, the crossfade, the volume
        plan = self._glide.plan(k, self._t, p.z, p.note, p.volume, z_targets=z_targets, note_targets=note_targets)

        # 2. decode the ticks that need it, in one batch
        if not plan.dec_z:
            D = None
        elif len(plan.dec_z) == 1:  # the common real-time case: no stacking, no allocation
            D = self._decoder.one(plan.dec_z[0], plan.dec_note[0])[None, :]
        else:
            D = self._decoder.many(np.stack(plan.dec_z), np.asarray(plan.dec_note))
        self.decodes += len(plan.dec_z)

        # 3. the magnitude of each hop
        mags, changed = self._glide.magnitudes(plan, D)
        if changed or self.last_spectrum is None:
            self.last_spectrum = mags[-1].copy()

        # 4, 5. phase, inverse FFT, window, overlap-add
        y = self._istft(mags, t0=self._t, phase=p.phase)

        # 6. gain, volume (ramped per sample across each hop), limiter
        vols, H = plan.vols, self.hop_length
        if vols[0] == vols[-1] and np.all(vols == vols[0]):
            y *= np.float32(self.gain * vols[0])
        else:
            frac = np.arange(1, H + 1, dtype=np.float64) / H
            ramp = vols[:-1, None] + (vols[1:] - vols[:-1])[:, None] * frac[None, :]
            y *= (self.gain * ramp.reshape(-1)).astype(np.float32)
        if self.limiter:
            soft_limit(y)
        self._t += k
        return y
