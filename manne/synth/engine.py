"""The real-time synthesis engine: latent ``z`` and ``note`` in, samples out.

Per synthesis hop the engine takes a normalised magnitude spectrum ``S`` (n_bins,), gives it a
phase, takes an inverse real FFT of ``n_fft`` samples, applies a synthesis window and overlap-adds
the frame with hop ``hop_length`` (64..1024 samples, smaller than the analysis hop for smoother
control). A fixed output gain, the master volume and a soft limiter follow.

The spectrum is decoded at control rate: while ``z`` or the note moves, the decoder runs once per
``control_hop`` samples (default 512, a multiple of ``hop_length``) and the synthesis hops in
between interpolate the magnitude linearly from the previous decode to the new one. The decode is
the costly step (a matrix-vector chain whose last layer, 1024 x 2049 float32 in a full-size model,
is bound by memory bandwidth), so this halves its cost at the default settings while the sound
still glides hop by hop. When nothing moves, the last decode is reused and no decoder runs.

Everything that can be prepared is prepared once, when the engine is built: the decoder's first
layer split into its ``z`` part and one row per note, contiguous float32 weights, the phase tables,
the windows with the overlap-add normalisation folded in, and the output gain.

Thread contract
---------------
Two threads use an engine, and neither ever blocks the other:

* The **control thread** (the GUI, a CLI) calls :meth:`Engine.set_z`, :meth:`~Engine.set_note`,
  :meth:`~Engine.set_volume`, :meth:`~Engine.set_phase`, :meth:`~Engine.start_recording` and
  :meth:`~Engine.stop_recording`, and reads the statistics (``underruns``, ``cpu_load``,
  ``decodes``, ``last_spectrum``, ``last_error``). A setter validates its argument, builds a new immutable
  :class:`Params` tuple and stores it with one attribute assignment, which is atomic in CPython.
  Setters are meant for a single control thread: two threads setting at once may lose an update.
* The **audio thread** calls :meth:`Engine.callback` (PyAudio) or :meth:`Engine.process`. It reads
  the parameter snapshot once per block and owns every piece of synthesis state (the smoothed
  ``z``, the note crossfade, the hop counter, the overlap-add tail, the output FIFO). It takes no
  lock, does no I/O and never waits; on any exception it outputs silence and counts an underrun.

:meth:`Engine.render`, :meth:`Engine.render_automation` and :meth:`Engine.reset` run the audio side
in the calling thread: do not call them while a stream plays the same engine.

Changes are smoothed on the audio side: ``z`` and the volume follow their targets with a one-pole
filter (time constant ``smoothing_s``; ``z`` is stepped once per control hop, exactly as
``control_hop / hop_length`` hop-rate steps would move it), and a note change crossfades the
magnitude from what was playing to the new note over ``smoothing_s``, so jumps do not click.

Latency of a control change: the audio thread reads the snapshot once per block. A change is
picked up at the next control tick, which is the very next hop when the engine was idle (cached)
and at most ``control_hop - hop_length`` samples later while it is moving; the magnitude then
glides from the previous decode to the decode of the new (smoothed) setting over one control hop. So a change is
heard within one buffer plus at most one control hop, and a jump (with ``smoothing_s=0``) is fully
in place within about one buffer plus two control hops.

The decoder runs on one BLAS thread by default (``blas_threads=1``): a multi-threaded
matrix-vector product is faster on an idle machine but, when the other cores are busy, waiting for
a helper thread turns a 0.2 ms decode into tens of milliseconds, which is a drop-out.

This module needs NumPy only (with :mod:`manne.dsp` for the window and phase table and
:mod:`manne.io.audio` for WAV writing); no TensorFlow, Tk or PyAudio.
"""

from __future__ import annotations

import ctypes
import math
import os
import time
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from manne.io.audio import write_wav
from manne.dsp import hann, noise_phase, note_index
from manne.errors import OutputExistsError, ParameterError
from manne.model.decoder import Decoder
from manne.model.forward import Autoencoder

__all__ = ["Engine", "Params", "soft_limit", "limit_blas_threads", "PHASES", "CONTROL_HOP"]

PHASES = ("noise", "coherent")
HOP_MIN, HOP_MAX = 64, 1024
CONTROL_HOP = 512  # default samples between two decodes while the controls move ...
CONTROL_HOP_MAX = 2048  # ... and the longest allowed (46 ms at 44.1 kHz)
N_PHASE_FRAMES = 64  # rows of the stored white-noise phase table, cycled frame by frame ...
PHASE_TABLE_SPAN = 4  # ... and at least this many frame lengths (more rows for small hops)
TARGET_DBFS = -12.0  # RMS of a typical spectrum at volume 1
TYPICAL_PARTIALS = 4.0  # a typical normalised frame holds the energy of about 4 full-scale partials
LIMIT_KNEE = 0.5  # the soft limiter is the identity below this level
PA_CONTINUE = 0  # pyaudio.paContinue
PA_OUTPUT_UNDERFLOW = 0x4  # pyaudio.paOutputUnderflow, a PortAudio status flag
MAX_BATCH_HOPS = 64  # process() synthesises at most this many hops per batch (bounds memory)


class Params(NamedTuple):
    """An immutable snapshot of the controls, swapped in whole by the control thread."""

    z: np.ndarray  # (latent,) float64, read-only
    note: int
    volume: float
    phase: str


def soft_limit(y: np.ndarray, *, knee: float = LIMIT_KNEE) -> np.ndarray:
    """Soft limiter, in place: the identity below ``knee``, a tanh curve above it, never above 1.

    The curve ``knee + (1 - knee) * tanh((|y| - knee) / (1 - knee))`` meets the identity with the
    same slope at ``|y| = knee``, so it is smooth; it approaches 1.0 without exceeding it.

    Parameters
    ----------
    y : np.ndarray, shape (n,), float32; overwritten

    Returns
    -------
    y : np.ndarray, shape (n,), the same array
    """
    a = np.abs(y)
    over = a > knee
    if over.any():
        ya = a[over]
        limited = knee + (1.0 - knee) * np.tanh((ya - knee) / (1.0 - knee))
        y[over] = np.copysign(np.minimum(limited, 1.0), y[over])
    return y


def limit_blas_threads(n: int) -> bool:
    """Cap the thread pool of the OpenBLAS that NumPy loaded (best effort, process-wide).

    OpenBLAS splits a large matrix-vector product over all cores. On a busy machine the helper
    thread may wait for a time slice, which turns a 0.1 ms decode into tens of milliseconds: a
    drop-out. A real-time decode is better off on one thread.

    Returns
    -------
    ok : bool
        Whether an OpenBLAS library was found and set (False on builds without OpenBLAS).
    """
    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split()[-1] for line in fh if "openblas" in line.lower() and "/" in line}
    except OSError:
        return False
    ok = False
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                     "openblas_set_num_threads64_", "openblas_set_num_threads"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn(ctypes.c_int(int(n)))
                ok = True
                break
    return ok


class Engine:
    """Continuous audio from a trained model, controlled by a latent code and a note.

    Parameters
    ----------
    ae : Autoencoder
        The model (from :meth:`Autoencoder.load`).
    sr : int
        Output sample rate; must equal the model's analysis rate (44100).
    hop_length : int
        Synthesis hop in samples, 64..1024. Level does not depend on it.
    control_hop : int or None
        Samples between two decodes while ``z`` or the note moves: a multiple of ``hop_length``
        from ``hop_length`` to 2048. The hops in between interpolate the magnitude linearly.
        ``control_hop=hop_length`` decodes every hop. None (default) gives ``CONTROL_HOP`` = 512
        rounded up to a multiple of ``hop_length`` (512 for hops 64, 128, 256 and 512; one hop
        for larger hops).
    phase : {"noise", "coherent"}
        ``"noise"`` cycles a stored table of white-noise phases frame by frame, as in the paper:
        ``phase_table``, ``max(N_PHASE_FRAMES, PHASE_TABLE_SPAN * n_fft / hop_length)`` rows of
        :func:`manne.dsp.noise_phase` seeded by ``seed``. ``"coherent"`` starts from the table's first
        row and advances bin ``k`` by ``2*pi*k*hop_length/n_fft`` per hop, so a steady spectrum
        gives a steady sound: one ``n_fft``-sample period repeated, its partials at bin centres
        (``sr / n_fft`` = 10.8 Hz apart). Neighbouring bins of one partial beat at that rate.
    volume : float
        Master volume, 0..1.
    seed : int
        Seed of the phase table.
    smoothing_s : float
        Time constant of the ``z`` and volume smoothing and length of the note crossfade (s).
    limiter : bool
        Apply :func:`soft_limit`. False gives the plain ``gain * volume * overlap-add`` signal.
    blas_threads : int or None
        Cap NumPy's OpenBLAS at this many threads (process-wide, see :func:`limit_blas_threads`);
        None leaves it alone.

    Attributes
    ----------
    gain : float
        Fixed output gain: a frame with the energy of ``TYPICAL_PARTIALS`` full-scale Hann partials
        plays at ``TARGET_DBFS`` RMS.
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

    def __init__(self, ae: Autoencoder, *, sr: int = 44100, hop_length: int = 256, control_hop: int | None = None,
                 phase: str = "noise", volume: float = 0.8, seed: int = 0, smoothing_s: float = 0.03,
                 limiter: bool = True, blas_threads: int | None = 1):
        a = ae.analysis
        if int(sr) != a.sr:
            raise ParameterError(f"sr={sr} differs from the model's analysis rate {a.sr} Hz")
        if not isinstance(hop_length, (int, np.integer)) or not HOP_MIN <= hop_length <= HOP_MAX:
            raise ParameterError(f"hop_length={hop_length} must be an integer from {HOP_MIN} to {HOP_MAX} samples")
        if hop_length > a.n_fft // 2:
            raise ParameterError(f"hop_length={hop_length} must be at most n_fft/2 = {a.n_fft // 2}")
        if control_hop is None:
            control_hop = -(-CONTROL_HOP // int(hop_length)) * int(hop_length)
        if (not isinstance(control_hop, (int, np.integer)) or isinstance(control_hop, bool)
                or not hop_length <= control_hop <= CONTROL_HOP_MAX or control_hop % hop_length):
            raise ParameterError(f"control_hop={control_hop} must be a multiple of hop_length={hop_length} "
                                 f"from {hop_length} to {CONTROL_HOP_MAX} samples")
        if not (math.isfinite(smoothing_s) and 0.0 <= smoothing_s <= 10.0):
            raise ParameterError(f"smoothing_s={smoothing_s} must be between 0 and 10 seconds")
        if blas_threads is not None:
            limit_blas_threads(blas_threads)
        self.ae = ae
        self.sr = int(sr)
        self.n_fft = a.n_fft
        self.n_bins = a.n_bins
        self.hop_length = H = int(hop_length)
        self.control_hop = int(control_hop)
        self._ctl = self.control_hop // H  # hops per control tick
        self.smoothing_s = float(smoothing_s)
        self.limiter = bool(limiter)
        self.seed = int(seed)
        if not 0.0 <= float(ae.config.alpha) <= 1.0:
            raise ParameterError(f"LeakyReLU slope alpha={ae.config.alpha} must be between 0 and 1 for the real-time decoder")
        self._decoder = Decoder.of(ae)
        if self._decoder.n_out != self.n_bins:
            raise ParameterError(f"the decoder outputs {self._decoder.n_out} bins; n_fft={self.n_fft} needs {self.n_bins}")

        # phase tables
        N = self.n_fft
        # A steady spectrum's level is an average over the table's rows; when the overlapping frames
        # always used the same rows (table length <= n_fft / hop) it would be one random draw.
        rows = max(N_PHASE_FRAMES, PHASE_TABLE_SPAN * -(-N // H))
        self.phase_table = noise_phase(rows, self.n_bins, seed=self.seed)  # (rows, n_bins) float32
        self.phase_table.setflags(write=False)
        self._noise = np.exp(1j * self.phase_table.astype(np.float64)).astype(np.complex64)
        self._bins = np.arange(self.n_bins, dtype=np.int64)
        self._unit = np.exp(2j * np.pi * np.arange(N) / N).astype(np.complex64)  # e^{2 pi i j / N}

        # synthesis windows with the overlap-add normalisation folded in. Frame t lands on output
        # samples [t*H, t*H + N), so sample n of a frame always sits at phase n % H of the hop and
        # the sum of overlapping windows depends on n % H only.
        w = hann(N).astype(np.float64)
        ola_w, ola_w2 = np.zeros(H), np.zeros(H)
        for s in range(0, N, H):
            seg = w[s : s + H]
            ola_w[: len(seg)] += seg
            ola_w2[: len(seg)] += seg ** 2
        pos = np.arange(N) % H
        # coherent frames are one periodic signal: divide by the window sum (amplitude adds).
        # noise frames are independent: divide by the root of the squared-window sum (power adds).
        self._window = {
            "coherent": (w / ola_w[pos]).astype(np.float32),
            "noise": (w / np.sqrt(ola_w2[pos])).astype(np.float32),
        }
        # With these windows the output's RMS equals one frame's RMS, sqrt(sum |X|^2) / N over the
        # full spectrum, in both modes and for every hop. A full-scale partial (peak bin 1) of a
        # Hann-windowed sinusoid has RMS sqrt(N * sum(w^2) / 2) / (N * sum(w) / 2).
        partial_rms = math.sqrt(N * float(np.sum(w ** 2)) / 2.0) / (N * float(np.sum(w)) / 2.0)
        self.gain = 10.0 ** (TARGET_DBFS / 20.0) / (math.sqrt(TYPICAL_PARTIALS) * partial_rms)
        self._a = 1.0 - math.exp(-H / (self.sr * self.smoothing_s)) if self.smoothing_s > 0 else 1.0
        self._z_keep = (1.0 - self._a) ** self._ctl  # what is left of a z gap after one control tick
        self._n_fade = max(1, int(round(self.smoothing_s * self.sr / H)))
        span = ae.latent_range[1].astype(np.float64) - ae.latent_range[0].astype(np.float64)
        self._z_tol = 1e-4 * np.where(span > 0, span, 1.0)

        notes = ae.notes_present
        z0 = ae.latent_range.astype(np.float64).mean(axis=0)
        z0.setflags(write=False)
        self._params = Params(z0, int(notes[0]) if notes else 0, 0.0, "noise")
        self.set_volume(volume)
        self.set_phase(phase)

        self.underruns = 0
        self.cpu_load = 0.0
        self.last_error: str | None = None
        self.last_spectrum: np.ndarray | None = None
        self.decodes = 0
        self._recording: list[np.ndarray] | None = None
        self._rec_path: Path | None = None
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
        v = float(volume)
        if not (math.isfinite(v) and 0.0 <= v <= 1.0):
            raise ParameterError(f"volume={volume} must be between 0 and 1")
        self._params = self._params._replace(volume=v)

    def set_phase(self, mode: str) -> None:
        """Switch the phase mode, ``"noise"`` or ``"coherent"``, from the next block on."""
        if mode not in PHASES:
            raise ParameterError(f"phase={mode!r} must be one of {', '.join(PHASES)}")
        self._params = self._params._replace(phase=mode)

    def start_recording(self, path: str | os.PathLike, *, force: bool = False) -> None:
        """Start collecting the played blocks; :meth:`stop_recording` writes them to ``path``.

        Raises
        ------
        OutputExistsError
            If ``path`` exists and ``force`` is false (checked now, not at the end).
        """
        p = Path(path)
        if p.exists() and not force:
            raise OutputExistsError(f"{p} exists; choose another name or overwrite it")
        self._rec_path = p
        self._recording = []

    @property
    def recording(self) -> bool:
        return self._recording is not None

    @property
    def recorded_seconds(self) -> float:
        rec = self._recording
        return 0.0 if rec is None else sum(len(b) for b in list(rec)) / self.sr

    def stop_recording(self) -> Path | None:
        """Stop recording and write the collected audio as a WAV (atomically).

        Returns
        -------
        path : Path or None
            The file written, or None if no recording was running.
        """
        rec, self._recording = self._recording, None
        if rec is None:
            return None
        blocks = list(rec)
        y = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
        try:
            return write_wav(self._rec_path, y, sr=self.sr, force=True)
        except Exception:
            self._recording = rec  # keep the take (recording goes on) so the user can retry or save elsewhere
            raise

    # ---- audio thread ---------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the synthesis state: the next hop starts fresh at the current targets."""
        self._t = 0  # hops synthesised
        self._z = np.zeros(self.ae.latent, dtype=np.float64)
        self._z_target = None
        self._z_settled = True
        self._note = -1
        self._dec: np.ndarray | None = None  # decode of (self._z, self._note): the glide's goal
        self._lerp_from: np.ndarray | None = None  # the previous decode, where a glide starts
        self._lerp_left = 0  # hops left in the current control tick's glide (0: idle, cached)
        self._mag: np.ndarray | None = None  # the magnitude of the last hop
        self._fade_from: np.ndarray | None = None
        self._fade_i = 0
        self._fading = False
        self._vol = 0.0
        self._tail = np.zeros(self.n_fft - self.hop_length, dtype=np.float32)
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
            rec = self._recording
            if rec is not None:
                rec.append(y)
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

    def render_automation(self, rows: Sequence[Sequence[float | int | str]], *, seconds: float | None = None) -> np.ndarray:
        """Render keyframed controls: ``z`` interpolated linearly, ``note`` held until the next row.

        The controls are sampled like live ones: at each control tick the engine decodes the
        keyframed ``z`` and note of the tick's last hop (``z`` still glides with ``smoothing_s`` and
        notes crossfade), and the hops in between interpolate. The render starts at a hop boundary,
        after any samples :meth:`process` had left over.

        Parameters
        ----------
        rows : sequence of ``(time_s, z_1, ..., z_latent, note)``
            Keyframes with non-decreasing times from 0; ``note`` is 0-11 or a name. Before the first
            keyframe and after the last the values are held.
        seconds : float, optional
            Length of the render; default the time of the last keyframe.

        Returns
        -------
        y : np.ndarray, shape (round(seconds * sr),), float32
        """
        times, Z, notes = self.automation_arrays(rows)
        if seconds is None:
            seconds = float(times[-1])
        if not (math.isfinite(seconds) and seconds > 0):
            raise ParameterError(f"seconds={seconds}: the render must be longer than 0 s (give a later keyframe or seconds)")
        n = int(round(seconds * self.sr))
        H = self.hop_length
        out = np.empty(n, dtype=np.float32)
        pos, hop = 0, 0
        while pos < n:
            k = min(MAX_BATCH_HOPS, -(-(n - pos) // H))
            t = (hop + np.arange(k + self._ctl - 1)) * H / self.sr  # a control tick looks ahead to its last hop
            zk = np.stack([np.interp(t, times, Z[:, j]) for j in range(Z.shape[1])], axis=1)
            nk = notes[np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(notes) - 1)]
            y = self._synth(k, z_targets=zk, note_targets=nk)
            take = min(len(y), n - pos)
            out[pos : pos + take] = y[:take]
            pos += take
            hop += k
        return out

    def automation_arrays(self, rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Check keyframe rows and split them into ``times`` (K,), ``z`` (K, latent) and ``notes`` (K,)."""
        d = self.ae.latent
        rows = list(rows)
        if not rows:
            raise ParameterError("the automation has no keyframes")
        times, Z, notes = [], [], []
        for i, row in enumerate(rows, start=1):
            row = list(row)
            if len(row) != d + 2:
                raise ParameterError(f"keyframe {i} has {len(row)} values; expected time, {d} z values and a note ({d + 2})")
            try:
                t = float(row[0])
                z = [float(v) for v in row[1 : d + 1]]
            except (TypeError, ValueError) as exc:
                raise ParameterError(f"keyframe {i}: {exc}") from exc
            if not (math.isfinite(t) and t >= 0):
                raise ParameterError(f"keyframe {i}: time {row[0]} must be a number >= 0")
            if times and t < times[-1]:
                raise ParameterError(f"keyframe {i}: time {t} is earlier than the previous keyframe ({times[-1]})")
            times.append(t)
            Z.append(self._check_z(z))
            try:
                notes.append(note_index(row[-1]))
            except ParameterError as exc:
                raise ParameterError(f"keyframe {i}: {exc}") from exc
        return np.asarray(times, dtype=np.float64), np.stack(Z), np.asarray(notes, dtype=np.int64)

    def _synth(self, k: int, *, z_targets: np.ndarray | None = None, note_targets: np.ndarray | None = None) -> np.ndarray:
        """Synthesise ``k`` hops; shape (k * hop_length,), float32.

        Targets come from the control snapshot, or per hop from ``z_targets`` (>= k, latent) and
        ``note_targets`` (>= k,) (automation; a control tick at hop ``i`` uses the targets of its
        last hop, ``i + control_hop / hop_length - 1``, clipped to the rows given).
        """
        p = self._params
        H, N, C = self.hop_length, self.n_fft, self._ctl

        # 1. control, hop by hop: at each control tick the z step and the note; which ticks need a
        #    decode; per hop the glide position, the note crossfade and the volume
        dec_z, dec_note = [], []
        fading_any = gliding_any = False
        plan = []  # per hop: (decode row starting a glide or -1, glide weight, fade start?, fade g or None)
        vols = np.empty(k + 1)
        vols[0] = self._vol
        for i in range(k):
            row = -1
            fade_start = False
            if self._t + i == 0:
                zt = p.z if z_targets is None else z_targets[i]
                self._z[:] = zt
                self._z_target, self._z_settled = zt, True
                self._note = p.note if note_targets is None else int(note_targets[i])
                vols[0] = p.volume
                self._lerp_left = 0
                row = len(dec_z)
            elif self._lerp_left == 0:  # a control tick
                if z_targets is None:
                    zt, nt = p.z, p.note
                else:
                    j = min(i + C - 1, len(z_targets) - 1)
                    zt, nt = z_targets[j], int(note_targets[j])
                if zt is not self._z_target and not np.array_equal(zt, self._z_target):
                    self._z_target, self._z_settled = zt, False
                dirty = False
                if not self._z_settled:
                    self._z -= zt
                    self._z *= self._z_keep
                    self._z += zt  # C one-pole steps towards a fixed target in one
                    if np.all(np.abs(zt - self._z) <= self._z_tol):
                        self._z[:] = zt
                        self._z_settled = True
                    dirty = True
                if nt != self._note:
                    self._note = nt
                    fade_start, self._fade_i, self._fading = True, 0, True
                    dirty = True
                if dirty:
                    self._lerp_left = C
                    row = len(dec_z)
            if row >= 0:
                dec_z.append(self._z.astype(np.float32))
                dec_note.append(self._note)
            w = 1.0
            if self._lerp_left > 0:
                w = (C - self._lerp_left + 1) / C
                self._lerp_left -= 1
                gliding_any = True
            g = None
            if self._fading:
                self._fade_i += 1
                g = min(1.0, self._fade_i / self._n_fade)
                self._fading = self._fade_i < self._n_fade
            plan.append((row, w, fade_start, g))
            fading_any = fading_any or g is not None
            vols[i + 1] = vols[i] + self._a * (p.volume - vols[i])
            if abs(vols[i + 1] - p.volume) < 1e-5:
                vols[i + 1] = p.volume
        self._vol = float(vols[-1])

        # 2. decode the ticks that need it, in one batch
        if not dec_z:
            D = None
        elif len(dec_z) == 1:  # the common real-time case: no stacking, no allocation
            D = self._decoder.one(dec_z[0], dec_note[0])[None, :]
        else:
            D = self._decoder.many(np.stack(dec_z), np.asarray(dec_note))
        self.decodes += len(dec_z)

        # 3. magnitudes, in order: a glide from the previous decode to the new one across the tick,
        #    then the note crossfade from whatever the previous hop played
        mags = np.empty((k, self.n_bins), dtype=np.float32)
        prev = self._mag
        fade_from = self._fade_from
        goal, start_from = self._dec, self._lerp_from
        for i, (r, w, start, g) in enumerate(plan):
            m = mags[i]
            if r >= 0:
                start_from, goal = goal, D[r]
            if w >= 1.0 or start_from is None:
                m[:] = goal
            else:
                np.subtract(goal, start_from, out=m)
                m *= np.float32(w)
                m += start_from
            if start:
                fade_from = (prev if prev is not None else m).copy()
            if g is None:
                fade_from = None
            else:
                m -= fade_from
                m *= np.float32(g)
                m += fade_from
                if g >= 1.0:
                    fade_from = None
            prev = m
        self._fade_from = fade_from
        if D is not None:  # D may be the decoder's work buffer: keep copies
            self._dec = goal.copy()
            self._lerp_from = start_from.copy() if self._lerp_left > 0 and start_from is not None else None
        elif self._lerp_left == 0:
            self._lerp_from = None
        changed = D is not None or fading_any or gliding_any
        if changed or self.last_spectrum is None:
            self.last_spectrum = mags[-1].copy()
        self._mag = mags[-1].copy() if changed or self._mag is None else self._mag

        # 4. phase
        t = self._t + np.arange(k)
        if p.phase == "noise":
            X = self._noise[t % len(self._noise)]
        else:
            idx = (self._bins[None, :] * ((t * H) % N)[:, None]) % N
            X = self._unit[idx]
            X *= self._noise[0]
        X *= mags

        # 5. inverse FFT, window, overlap-add
        frames = np.fft.irfft(X, n=N, axis=1).astype(np.float32, copy=False)
        frames *= self._window[p.phase]
        buf = np.zeros(k * H + N - H, dtype=np.float32)
        buf[: N - H] = self._tail
        R = N // H
        if N % H == 0 and k > R:
            view = buf.reshape(-1, H)
            blocks = frames.reshape(k, R, H)
            for j in range(R):
                view[j : j + k] += blocks[:, j]
        else:
            for i in range(k):
                buf[i * H : i * H + N] += frames[i]
        self._tail = buf[k * H :].copy()
        y = buf[: k * H]

        # 6. gain, volume (ramped per sample across each hop), limiter
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
