"""The playable instrument: notes with velocity, envelopes, 8-voice polyphony, exact pitch, pitch bend.

For every note that sounds, the decoder turns the sliders' latent ``z`` and that note into a
magnitude spectrum: a register-aware model decodes each MIDI note in its own register (up to a
fifth past the pitches it was trained on; farther, an octave nearer), the paper's models decode its pitch class (the nearest
class of the training corpus when the corpus lacks it). :class:`~manne.synth.pitch.Partials`
finds that spectrum's fundamental and reads the amplitude of each harmonic and the level of the
noise in each gap between them; each voice plays those harmonics at the exact frequency of its
MIDI note (times the pitch bend) from a band-limited single-period table
(:mod:`manne.synth.wavetable`), shaped by its ADSR envelope and its velocity, and (method
``harmonic``) the noise between them as random-phase overlap-add frames whose spectrum follows the
gaps' levels at the voice's own harmonics, drawn afresh each hop (a quarter of the analysis
window). The voices are summed, scaled by a fixed gain and the master volume, and soft-limited.

Response: audio is made in blocks of ``block`` samples (128 = 2.9 ms). A note-on starts sounding in
the first block after it arrives; a slider move is decoded at the start of the next block (at most
``max_decodes`` classes per block while sliders move) and the voices crossfade
from the old period to the new one across that block, so a change is 90 % in place about
``0.9 * block`` samples after the block starts.

Thread contract
---------------
* The **control thread** (GUI, MIDI/OSC handlers, a CLI) calls :meth:`Synth.note_on`,
  :meth:`~Synth.note_off`, :meth:`~Synth.pitch_bend`, :meth:`~Synth.sustain`,
  :meth:`~Synth.all_notes_off`, :meth:`~Synth.set_z`, :meth:`~Synth.set_volume`,
  :meth:`~Synth.fade_out` and :meth:`~Synth.fade_in`. Note events go into a ``collections.deque``
  (``append`` and ``popleft`` are atomic in CPython), so none is lost; ``z`` and the volume are an
  immutable snapshot swapped in with one assignment.
* The **audio thread** calls :meth:`Synth.callback` or :meth:`Synth.process`. It drains the events
  at each block, owns every voice, takes no lock, does no I/O and allocates only block-sized
  arrays; on any exception it outputs silence and counts an underrun.

NumPy only.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from manne.errors import ParameterError
from manne.model.decoder import Decoder
from manne.synth.between import NOISE_MAX, Between
from manne.synth.blas import limit_blas_threads
from manne.synth.callback import PA_OUTPUT_UNDERFLOW, GuardedCallbacks
from manne.synth.controls import (BEND_SEMITONES, BLOCK_MAX, BLOCK_MIN, METHODS, NOTE_MAX, NOTE_MIN, Controls,
                                  ControlSide)
from manne.synth.envelope import ADSR, FAST_RELEASE_S
from manne.synth.keys import decode_key, nearest_present
from manne.synth.limiter import soft_limit
from manne.synth.limits import BLOCK_DEFAULT
from manne.synth.pitch import N_HARMONICS, Partials, midi_hz
from manne.synth.recorder import Recorder
from manne.synth.rtpghi import HOP_BLOCKS as PGHI_HOP_BLOCKS, PhaseGradientOverlapAdd
from manne.synth.spectral import OverlapAdd
from manne.synth.tap import OutputTap
from manne.synth.voices import POLYPHONY, VoiceBank
from manne.synth.wavetable import Wavetables, read

__all__ = ["Synth", "METHODS", "BLOCK", "NOTE_MIN", "NOTE_MAX", "BEND_SEMITONES", "nearest_present"]

BLOCK = BLOCK_DEFAULT  # samples per block: the granularity of events and of the crossfade to a new spectrum
DECODE_FMAX = 11025.0  # Hz: harmonics are read up to here (half the bins, half the decode time)
# classes re-decoded per block while the sliders move (a new note's class is decoded at once): one keeps
# a block's worst case to one decode (0.4 ms); a 5-class chord then takes 5 blocks (15 ms) to follow a slider
MAX_DECODES = 1
TARGET_DBFS = -6.0  # RMS of a note of four full-scale harmonics at velocity 127 and volume 1 (a note at velocity 100 plays near -19 dBFS RMS)


def velocity_gain(velocity: int) -> float:
    """Amplitude of a MIDI velocity 1-127: ``(velocity / 127) ** 2`` (a 42 dB range)."""
    return (velocity / 127.0) ** 2


class Synth(ControlSide, GuardedCallbacks):
    """Polyphonic synthesis from a trained model.

    Parameters
    ----------
    ae : Autoencoder
    sr : int, must equal the model's analysis rate
    block : int, samples per block (32..1024)
    polyphony : int, notes held at once (voices beyond it steal the oldest)
    adsr : ADSR
    volume : float, 0..1
    seed : int, the draw of the harmonics' phases
    limiter : bool
    method : str, one of :data:`METHODS`
    n_fft : int, frame length of the inverse-STFT methods (default the model's)
    hold : bool, hold (drone) mode
    blas_threads : int or None, cap NumPy's BLAS at this many threads (process-wide); None leaves it
    noise : bool, play the decoded noise between the partials (method ``harmonic``); default for a
        register-aware model (the paper's models decode a note's class in their training octave, where
        the gaps between another note's partials mean nothing)
    """

    def __init__(self, ae, *, sr: int = 44100, block: int = BLOCK, polyphony: int = POLYPHONY, adsr: ADSR | None = None,
                 volume: float = 0.8, seed: int = 0, limiter: bool = True, max_decodes: int = MAX_DECODES,
                 method: str = "harmonic", n_fft: int | None = None, hold: bool = False, blas_threads: int | None = 1,
                 noise: bool | None = None):
        a = ae.analysis
        if int(sr) != a.sr:
            raise ParameterError(f"sr={sr} differs from the model's analysis rate {a.sr} Hz")
        if not (isinstance(block, (int, np.integer)) and BLOCK_MIN <= block <= BLOCK_MAX):
            raise ParameterError(f"block={block} must be an integer from {BLOCK_MIN} to {BLOCK_MAX} samples")
        if not (isinstance(polyphony, (int, np.integer)) and 1 <= polyphony <= 64):
            raise ParameterError(f"polyphony={polyphony} must be from 1 to 64 voices")
        self._check_method(method)
        if blas_threads is not None:  # a helper BLAS thread that waits for a time slice is a drop-out
            limit_blas_threads(blas_threads)
        self.ae, self.sr, self.block = ae, int(sr), int(block)
        self.method, self.hold = method, bool(hold)
        n_fft = int(n_fft or a.n_fft)
        # the noise phase is drawn afresh each hop, so a short hop smears every partial over sr / hop
        # Hz: it keeps the paper's hop (n_fft / 4); the coherent phase can follow each block
        noise_hop = max(self.block, (n_fft // 4) // self.block * self.block)
        self._olas = {"noise": OverlapAdd(n_fft=n_fft, hop_length=noise_hop, sr=self.sr, seed=seed),
                      "coherent": OverlapAdd(n_fft=n_fft, hop_length=self.block, sr=self.sr, seed=seed),
                      "rtpghi": PhaseGradientOverlapAdd(n_fft=n_fft, hop_length=PGHI_HOP_BLOCKS * self.block,
                                                        sr=self.sr, seed=seed)}
        self._recorder = Recorder(self.sr)
        self.tap = OutputTap()  # the last samples the callback returned: the window's meter and spectrum
        self.adsr = adsr or ADSR()
        self.limiter = bool(limiter)
        self.max_decodes = max(1, int(max_decodes))
        self.class_of = nearest_present(ae.notes_present)
        # a register-aware model decodes each note in its register, within the pitches it was trained on
        self.by_register = bool(ae.config.uses_register)
        lo, hi = (ae.info.get("corpus") or {}).get("pitch_range") or (NOTE_MIN, NOTE_MAX)
        self.pitch_range = (float(lo), float(hi))
        self._partials = Partials(sr=self.sr, n_fft=a.n_fft, fmax=DECODE_FMAX)
        # the last layer (1024 x 2049 in a full model) bounds a decode's time: keep the bins played
        self._decoder = Decoder.of(ae, cols=np.arange(min(self._partials.n_bins, a.n_bins)))
        self._tables = Wavetables(N_HARMONICS, sr=self.sr, seed=seed)
        self.bank = VoiceBank(polyphony, adsr=self.adsr, sr=self.sr)
        # the noise between the partials (manne.synth.between)
        self.noise = self.by_register if noise is None else bool(noise)
        self._between = Between(sr=self.sr, n_fft=a.n_fft, block=self.block, fmax=DECODE_FMAX,
                                centres=self._partials.noise_centres(), seed=seed + 1)
        # four full-scale harmonics have RMS sqrt(4 / 2)
        self.gain = 10.0 ** (TARGET_DBFS / 20.0) / math.sqrt(2.0)
        n1 = np.arange(1, self.block + 1, dtype=np.float64)
        self._ramp = (n1 / self.block).astype(np.float32)
        self._n1, self._tri = n1, n1 * (n1 + 1) / (2 * self.block)
        self._events: deque = deque()
        z0 = ae.latent_range.astype(np.float64).mean(axis=0)
        z0.setflags(write=False)
        self._controls = Controls(z0, 0.8, 0.0)
        self.set_volume(volume)
        self.underruns = 0  # dropouts: the device ran dry while notes sounded, or the callback failed
        self.quiet_underruns = 0  # the device ran dry while nothing sounded (inaudible)
        self.cpu_load = 0.0
        self.decodes = 0
        self.last_error: str | None = None
        self.playing: tuple = ()  # per sounding voice (frequency Hz, amplitudes (K,)), published each block
        self.reset()

    # ---- audio thread ---------------------------------------------------------------------
    def reset(self) -> None:
        """Silence every voice and forget the synthesis state."""
        self.bank = VoiceBank(self.bank.polyphony, adsr=self.adsr, sr=self.sr)
        self._events.clear()
        self._amps: dict[int, np.ndarray] = {}  # decode key (see _key) -> harmonic amplitudes for self._z_dec
        self._noise: dict[int, np.ndarray] = {}  # decode key -> noise level in each gap between the harmonics
        for ola in self._olas.values():
            ola.reset()
        self._hop_out, self._hop_pos = np.zeros(0, dtype=np.float32), 0
        self._between.reset()
        self._z_dec: np.ndarray | None = None
        self._stale: dict[int, None] = {}  # classes whose amplitudes are older than the sliders
        self._vol = self._controls.volume
        self._fade, self._fade_target = 1.0, 1.0
        self._bend = self._controls.bend
        self._fifo = np.zeros(0, dtype=np.float32)
        self._fifo_pos = 0

    def callback(self, in_data, frame_count: int, time_info, status: int):
        """PyAudio stream callback: ``frame_count`` float32 samples as bytes, and paContinue. Never raises
        (:meth:`~manne.synth.callback.GuardedCallbacks.guarded`)."""
        if status & PA_OUTPUT_UNDERFLOW:
            if self.playing and self._fade > 0:  # a gap in the sound: a dropout (not in a pause's silence)
                self.underruns += 1
            else:  # a gap in silence (a stream's start): nothing to hear
                self.quiet_underruns += 1
        return self.guarded(frame_count, self._play, frame_count)

    def _play(self, frame_count: int) -> bytes:
        y = self.process(frame_count)
        self._recorder.add(y)
        self.tap.add(y)
        return y.tobytes()

    def process(self, n: int) -> np.ndarray:
        """The next ``n`` samples; any sequence of sizes concatenates to the same signal.

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
                self._fifo, self._fifo_pos = self._block(), 0
                left = self.block
            take = min(left, n - pos)
            out[pos : pos + take] = self._fifo[self._fifo_pos : self._fifo_pos + take]
            self._fifo_pos += take
            pos += take
        return out

    def _events_now(self) -> None:
        bank = self.bank
        while self._events:
            kind, a, b = self._events.popleft()
            if kind == "on":
                if self.hold:  # a drone: the new note takes over from the one held
                    bank.release_all()
                bank.note_on(a, velocity_gain(b), self._key(a))
            elif kind == "off":
                if not self.hold:
                    bank.note_off(a)
            elif kind == "method":
                if a != self.method:
                    self.method = a
                    for ola in self._olas.values():  # start the new method from silence, not a stale tail
                        ola.reset()
                    self._hop_out, self._hop_pos = np.zeros(0, dtype=np.float32), 0
            elif kind == "hold":
                self.hold = a
                if not a:
                    bank.release_all()
            elif kind == "pedal":
                bank.set_pedal(a)
            elif kind == "all_off":
                bank.release_all(seconds=FAST_RELEASE_S if a else None)

    def _key(self, note: int) -> int:
        """What a note is decoded as (:func:`manne.synth.keys.decode_key`)."""
        return decode_key(note, self.class_of, self.pitch_range if self.by_register else None)

    def _decode(self, z: np.ndarray) -> None:
        """Harmonic amplitudes for the sounding classes: at once for a class no voice has yet, and for
        at most ``max_decodes`` classes per block whose timbre is older than the sliders (the
        least recently decoded first), so a chord under a moving slider costs a bounded time per block."""
        if self._z_dec is not z and (self._z_dec is None or not np.array_equal(self._z_dec, z)):
            self._z_dec = z
            self._stale = dict.fromkeys(self._amps)  # insertion order: decoded longest ago first
        sounding = {v.pitch_class for v in self.bank.voices if v.active}
        need = [c for c in sorted(sounding) if c not in self._amps]
        budget = max(0, self.max_decodes - len(need))
        for c in list(self._stale):
            if c not in sounding:  # nothing plays it: decode it again when a note needs it
                del self._stale[c], self._amps[c]
                self._noise.pop(c, None)
            elif budget:
                del self._stale[c]
                need.append(c)
                budget -= 1
        if not need:
            return
        zf = np.asarray(z, dtype=np.float32)
        S = self._decoder.many(np.broadcast_to(zf, (len(need), len(zf))), np.asarray(need, dtype=np.float32))
        if self.by_register:  # decoded at the note itself: its fundamental is near the key's
            f0 = [self._partials.near(row, float(midi_hz(c))) for c, row in zip(need, S)]
        else:
            f0 = np.atleast_1d(self._partials.f0(S))
        for c, row, f in zip(need, S, f0):
            self._amps.pop(c, None)
            amps = self._partials.amplitudes(row, float(f))
            # the corpus's frames each peak at 1, so a decoded spectrum should too: a quieter one (a code far
            # from the recordings) is lifted so that its strongest partial plays at 1; velocity sets the level
            peak = float(amps.max())
            # (a louder one plays as decoded: a damaged model's full-scale output is refused by render's checks)
            scale = 1.0 / peak if 1e-6 < peak < 1.0 else 1.0 if peak >= 1.0 else 0.0
            self._amps[c] = amps * np.float32(scale)
            # real sustained notes hold -42 to -51 dB per bin between their partials; a code far from any
            # recording may decode more, which over a thousand bins would bury the pitch: at most
            # NOISE_MAX_DB below the strongest partial
            self._noise[c] = np.minimum(self._partials.noise_levels(row, float(f)) * scale, NOISE_MAX)
        self.decodes += len(need)

    def _block(self) -> np.ndarray:
        B, sr = self.block, self.sr
        c = self._controls
        self._events_now()
        self._decode(c.z)
        self._bend = c.bend
        ratio = 2.0 ** (c.bend * BEND_SEMITONES / 12.0)
        voices = [v for v in self.bank.voices if v.active]
        envs = []
        for v in voices:
            t = ((v.t_off if v.released else v.t_on) + self._n1) / sr
            envs.append((self.adsr.released(t, v.rel_level, release=v.rel_time) if v.released
                         else self.adsr.held(t)) * v.gain)
        if self.method == "harmonic":
            y = self._harmonic(voices, envs, ratio)
            if self.noise and voices:
                y += self._between.block_of(voices, envs, ratio, self._noise)
            elif self.noise:  # the last voice has ended: the noise's overlap tail (at its end's tiny level) too
                self._between.reset()
        else:
            y = self._spectral(voices, envs, ratio)
        self.playing = tuple((float(midi_hz(v.note)) * ratio, v.amps * float(e[-1]))
                             for v, e in zip(voices, envs) if v.amps is not None)
        self.bank.advance(B)
        # master: volume ramp, pause/stop fade, gain, limiter
        vol0, vol1 = self._vol, c.volume
        self._vol = vol1
        f0 = self._fade
        step = B / (FAST_RELEASE_S * sr)
        f1 = min(1.0, f0 + step) if self._fade_target > f0 else max(0.0, f0 - step) if self._fade_target < f0 else f0
        self._fade = f1
        g0, g1 = self.gain * vol0 * f0, self.gain * vol1 * f1
        if g0 == g1:
            y *= np.float32(g1)
        else:
            y *= (g0 + (g1 - g0) * self._ramp).astype(np.float32)
        if self.limiter:
            soft_limit(y)
        return y

    def _harmonic(self, voices: list, envs: list, ratio: float) -> np.ndarray:
        """Each voice's period table at its note's frequency times ``ratio``; (block,) float32."""
        y = np.zeros(self.block, dtype=np.float32)
        bend_max = 2.0 ** (BEND_SEMITONES / 12.0)
        for v, env in zip(voices, envs):
            f = float(midi_hz(v.note))
            amps = self._amps.get(v.pitch_class)
            if amps is not None and amps is not v.amps:
                if v.amps is not None:  # a new timbre: crossfade from the old period across this block
                    v.table, v.prev = v.prev, v.table
                    v.xfade = True
                self._tables.build(amps, f * bend_max, out=v.table)
                v.amps = amps
            phase = self._advance_phase(v, f * ratio)
            s = read(v.table, phase)
            if v.xfade:
                p = read(v.prev, phase)
                s -= p
                s *= self._ramp
                s += p
                v.xfade = False
            s *= env.astype(np.float32)
            y += s
        return y

    def _advance_phase(self, v, f: float) -> np.ndarray:
        """Phases in cycles, [0, 1), of the voice's fundamental over the next block (the frequency
        glides linearly across the block from where it was); advances the voice."""
        inc1 = f / self.sr
        inc0 = inc1 if v.fresh else v.inc
        phase = v.phase + inc0 * self._n1 + (inc1 - inc0) * self._tri
        v.phase, v.inc, v.fresh = float(phase[-1] % 1.0), inc1, False
        return phase % 1.0

    def _spectral(self, voices: list, envs: list, ratio: float) -> np.ndarray:
        """One inverse-STFT hop of the sounding voices (methods ``noise``, ``coherent`` and ``rtpghi``)."""
        ola = self._olas[self.method]
        freqs, amps, phases = [], [], []
        centre = ola.n_fft / 2
        for v, env in zip(voices, envs):
            f = float(midi_hz(v.note)) * ratio
            v.amps = self._amps.get(v.pitch_class)
            phase = self._advance_phase(v, f)
            if v.amps is None:
                continue
            k = np.arange(1, len(v.amps) + 1)
            keep = k * f < 0.95 * self.sr / 2
            freqs.append(k[keep] * f)
            amps.append(v.amps[keep] * float(env[-1]))
            phases.append(2 * np.pi * k[keep] * (phase[-1] + v.inc * (centre - self.block)))
        none = np.zeros(0)
        f, a, p = (np.concatenate(x) if x else none for x in (freqs, amps, phases))
        if self.method != "coherent":  # the partials' magnitudes only: a fresh random phase per bin (the
            if self._hop_pos >= len(self._hop_out):  # paper's), or the phase RTPGHI integrates from them
                S = np.abs(ola.partial_spectrum(f, a, np.zeros_like(f)))
                self._hop_out = ola.noise_frame(S) if self.method == "noise" else ola.pghi_frame(S)
                self._hop_pos = 0
            out = self._hop_out[self._hop_pos : self._hop_pos + self.block].astype(np.float32)
            self._hop_pos += self.block
            return out
        return ola.partial_frame(f, a, p).astype(np.float32)

    def render(self, seconds: float) -> np.ndarray:
        """``seconds`` of audio through :meth:`process`; shape (round(seconds * sr),)."""
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ParameterError(f"seconds={seconds} must be a non-negative number")
        return self.process(int(round(seconds * self.sr)))
