"""The engine's audio-side controls: smoothing, control ticks, the magnitude glide and the note crossfade.

The spectrum is decoded at control rate: while ``z`` or the note moves, the decoder runs once per
``control_hop`` samples (a control tick) and the synthesis hops in between interpolate the
magnitude linearly from the previous decode to the new one. When nothing moves, the last decode
is reused and no decoder runs.

* ``z`` follows its target with a one-pole filter of time constant ``smoothing_s``, stepped once
  per control tick exactly as ``control_hop / hop_length`` hop-rate steps would move it; within
  ``1e-4`` of the latent range's span it lands on the target and stops moving.
* A note change crossfades the magnitude from what was playing to the new note over
  ``smoothing_s``.
* The volume follows its target with the same one-pole filter, hop by hop.

:class:`Glide` owns this state; it runs on the audio thread only. Per block of ``k`` hops,
:meth:`Glide.plan` decides which ticks need a decode and :meth:`Glide.magnitudes` turns those
decodes into the ``k`` magnitudes played. NumPy only.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = ["Glide", "Plan"]


class Plan(NamedTuple):
    """What :meth:`Glide.plan` decided for a block of ``k`` hops."""

    hops: list  # per hop: (decode row starting a glide or -1, glide weight, fade start?, fade gain or None)
    dec_z: list  # codes to decode, each (latent,) float32
    dec_note: list  # their notes
    vols: np.ndarray  # (k + 1,) float64: the volume before the block and after each hop
    moving: bool  # a glide or a crossfade ran during the block


class Glide:
    """Audio-side control state of an engine.

    Parameters
    ----------
    latent, n_bins : int
    sr, hop_length, control_hop : int
    smoothing_s : float
    latent_range : np.ndarray, shape (2, latent)
    """

    def __init__(self, *, latent: int, n_bins: int, sr: int, hop_length: int, control_hop: int, smoothing_s: float,
                 latent_range: np.ndarray):
        self.latent, self.n_bins = int(latent), int(n_bins)
        H = int(hop_length)
        self.ctl = int(control_hop) // H  # hops per control tick
        self.a = 1.0 - math.exp(-H / (sr * smoothing_s)) if smoothing_s > 0 else 1.0
        self.z_keep = (1.0 - self.a) ** self.ctl  # what is left of a z gap after one control tick
        self.n_fade = max(1, int(round(smoothing_s * sr / H)))
        span = latent_range[1].astype(np.float64) - latent_range[0].astype(np.float64)
        self.z_tol = 1e-4 * np.where(span > 0, span, 1.0)
        self.reset()

    def reset(self) -> None:
        """Forget the state: the next hop starts fresh at the targets, with no glide."""
        self.z = np.zeros(self.latent, dtype=np.float64)  # the smoothed z
        self.z_target = None
        self.z_settled = True
        self.note = -1
        self.dec: np.ndarray | None = None  # decode of (self.z, self.note): the glide's goal
        self.lerp_from: np.ndarray | None = None  # the previous decode, where a glide starts
        self.lerp_left = 0  # hops left in the current control tick's glide (0: idle, cached)
        self.mag: np.ndarray | None = None  # the magnitude of the last hop
        self.fade_from: np.ndarray | None = None
        self.fade_i = 0
        self.fading = False
        self.vol = 0.0

    def plan(self, k: int, t0: int, z, note: int, volume: float, *, z_targets: np.ndarray | None = None,
             note_targets: np.ndarray | None = None) -> Plan:
        """Step the controls through ``k`` hops from stream hop ``t0``.

        Targets are ``z`` (latent,) and ``note``, or per hop ``z_targets`` (>= k, latent) and
        ``note_targets`` (>= k,) (automation; a control tick at hop ``i`` uses the targets of its
        last hop, ``i + control_hop / hop_length - 1``, clipped to the rows given).
        """
        C = self.ctl
        dec_z, dec_note = [], []
        fading_any = gliding_any = False
        hops = []
        vols = np.empty(k + 1)
        vols[0] = self.vol
        for i in range(k):
            row = -1
            fade_start = False
            if t0 + i == 0:
                zt = z if z_targets is None else z_targets[i]
                self.z[:] = zt
                self.z_target, self.z_settled = zt, True
                self.note = note if note_targets is None else int(note_targets[i])
                vols[0] = volume
                self.lerp_left = 0
                row = len(dec_z)
            elif self.lerp_left == 0:  # a control tick
                if z_targets is None:
                    zt, nt = z, note
                else:
                    j = min(i + C - 1, len(z_targets) - 1)
                    zt, nt = z_targets[j], int(note_targets[j])
                if zt is not self.z_target and not np.array_equal(zt, self.z_target):
                    self.z_target, self.z_settled = zt, False
                dirty = False
                if not self.z_settled:
                    self.z -= zt
                    self.z *= self.z_keep
                    self.z += zt  # C one-pole steps towards a fixed target in one
                    if np.all(np.abs(zt - self.z) <= self.z_tol):
                        self.z[:] = zt
                        self.z_settled = True
                    dirty = True
                if nt != self.note:
                    self.note = nt
                    fade_start, self.fade_i, self.fading = True, 0, True
                    dirty = True
                if dirty:
                    self.lerp_left = C
                    row = len(dec_z)
            if row >= 0:
                dec_z.append(self.z.astype(np.float32))
                dec_note.append(self.note)
            w = 1.0
            if self.lerp_left > 0:
                w = (C - self.lerp_left + 1) / C
                self.lerp_left -= 1
                gliding_any = True
            g = None
            if self.fading:
                self.fade_i += 1
                g = min(1.0, self.fade_i / self.n_fade)
                self.fading = self.fade_i < self.n_fade
            hops.append((row, w, fade_start, g))
            fading_any = fading_any or g is not None
            vols[i + 1] = vols[i] + self.a * (volume - vols[i])
            if abs(vols[i + 1] - volume) < 1e-5:
                vols[i + 1] = volume
        self.vol = float(vols[-1])
        return Plan(hops, dec_z, dec_note, vols, fading_any or gliding_any)

    def magnitudes(self, plan: Plan, D: np.ndarray | None) -> tuple[np.ndarray, bool]:
        """The magnitude of each hop of ``plan``: a glide from the previous decode to the new one across
        the tick, then the note crossfade from whatever the previous hop played.

        Parameters
        ----------
        plan : Plan
        D : np.ndarray, shape (len(plan.dec_z), n_bins), or None when nothing was decoded
            The decodes (may be the decoder's work buffer: it is copied where kept).

        Returns
        -------
        mags : np.ndarray, shape (k, n_bins), float32
        changed : bool, whether the sound moved (a decode, a glide or a crossfade)
        """
        mags = np.empty((len(plan.hops), self.n_bins), dtype=np.float32)
        prev = self.mag
        fade_from = self.fade_from
        goal, start_from = self.dec, self.lerp_from
        for i, (r, w, start, g) in enumerate(plan.hops):
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
        self.fade_from = fade_from
        if D is not None:
            self.dec = goal.copy()
            self.lerp_from = start_from.copy() if self.lerp_left > 0 and start_from is not None else None
        elif self.lerp_left == 0:
            self.lerp_from = None
        changed = D is not None or plan.moving
        self.mag = mags[-1].copy() if changed or self.mag is None else self.mag
        return mags, changed
