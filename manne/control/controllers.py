"""MIDI control changes on the session: the default controllers, and MIDI learn.

In order, a control change (:meth:`Controllers.control_change`): an armed MIDI learn binds it to
its target; a learnt control moves its target (a slider ``"z1"`` .. ``"zd"`` or ``"volume"``) over
its whole travel; otherwise CC 64 is the sustain pedal (down at 64 and above), CC 1 the mod wheel
(:func:`mod_wheel_target`), CC 7 the volume, 120 all sound off, 121 resets the bend and the pedal,
123 all notes off. Other controls are ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from manne.errors import ManneError, ParameterError
from manne.synth.presets import check_cc_map

__all__ = ["Controllers", "mod_wheel_target", "CC_MOD_WHEEL", "CC_VOLUME", "CC_SUSTAIN"]

CC_MOD_WHEEL, CC_VOLUME, CC_SUSTAIN = 1, 7, 64
CC_ALL_SOUND_OFF, CC_RESET, CC_ALL_NOTES_OFF = 120, 121, 123


class Controllers:
    """Mixin of :class:`~manne.control.session.Session`: control changes and MIDI learn.

    Uses the session's ``_lock``, ``_cc`` (cc -> target), ``_learning``, ``_mod``, ``_lo``/``_hi``,
    ``ae``, :meth:`targets`, :meth:`_changed` and its setters.
    """

    def learn(self, target: str) -> None:
        """Arm MIDI learn: the next control change moved is bound to ``target`` (``"z1"``.. or ``"volume"``)."""
        if target not in self.targets():
            raise ParameterError(f"MIDI learn target {target!r} must be one of {', '.join(self.targets())}")
        with self._lock:
            self._learning = target
            self._changed()

    def cancel_learn(self) -> None:
        with self._lock:
            self._learning = None
            self._changed()

    def map_cc(self, cc: int, target: str) -> None:
        """Bind control change ``cc`` to ``target`` (any earlier control of that target is unbound)."""
        ((cc, target),) = check_cc_map([(cc, target)], latent=self.ae.latent, where="MIDI learn")
        with self._lock:
            self._cc = {c: t for c, t in self._cc.items() if t != target}
            self._cc[cc] = target
            self._changed()

    def set_cc_map(self, cc_map) -> None:
        """Replace the whole MIDI-learn map: ``{cc: target}`` or ``((cc, target), ...)``, as in a preset."""
        m = check_cc_map(cc_map, latent=self.ae.latent, where="MIDI map")
        with self._lock:
            self._cc = dict(m)
            self._changed()

    def unmap(self, target: str) -> None:
        """Forget the control change bound to ``target``."""
        with self._lock:
            self._cc = {c: t for c, t in self._cc.items() if t != target}
            self._changed()

    def control_change(self, cc: int, value: int) -> str:
        """Act on a MIDI control change (``value`` 0-127); returns what it did, in words.

        In order: an armed MIDI learn binds ``cc`` to its target; a learnt control moves its target
        over its whole range; otherwise CC 64 is the sustain pedal (down at 64 and above), CC 1 the
        mod wheel (the brightness slider, see :func:`mod_wheel_target`), CC 7 the volume, 120 all
        sound off, 121 resets the bend and the pedal, 123 all notes off. Other controls are ignored.
        """
        for name, v in (("control", cc), ("value", value)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v <= 127:
                raise ParameterError(f"MIDI {name} {v!r} must be from 0 to 127")
        cc, value = int(cc), int(value)
        with self._lock:
            if self._learning is not None:
                target = self._learning
                self._learning = None
                self.map_cc(cc, target)
            target = self._cc.get(cc)
            if target is not None:
                self._move(target, value / 127.0)
                return f"CC {cc} -> {target}"
            if cc == CC_SUSTAIN:
                self.sustain(value >= 64)
                return "sustain"
            if cc == CC_MOD_WHEEL:
                target, inverted = self._mod
                self._move(target, 1.0 - value / 127.0 if inverted else value / 127.0)
                return f"mod wheel -> {target}"
            if cc == CC_VOLUME:
                self._move("volume", value / 127.0)
                return "volume"
            if cc in (CC_ALL_SOUND_OFF, CC_ALL_NOTES_OFF):
                self.all_off(fast=cc == CC_ALL_SOUND_OFF)
                return "all off"
            if cc == CC_RESET:
                self.pitch_bend(0.0)
                self.sustain(False)
                return "reset controllers"
        return ""

    def _move(self, target: str, x: float) -> None:
        """Move ``target`` to fraction ``x`` (0..1) of its travel."""
        if target == "volume":
            self.set_volume(min(1.0, max(0.0, x)))
        else:
            i = int(target[1:]) - 1
            self.move_slider(i, self._lo[i] + x * (self._hi[i] - self._lo[i]))


def mod_wheel_target(model_dir: Path, latent: int) -> tuple[str, bool]:
    """The mod wheel's slider: the neuron that changes the brightness (spectral centroid) most, per the
    model's ``descriptors.json``, with its travel inverted when moving it up darkens, so the wheel
    pushed up always brightens. ``("z1", False)`` when the model has no descriptor table."""
    try:
        from manne.timbre.descriptors import read

        got = read(model_dir, latent=latent)
    except (ManneError, ImportError, OSError):
        got = None
    if got is None:
        return "z1", False
    centroid = got[0][:, 0]
    i = int(np.argmax(np.abs(centroid)))
    return f"z{i + 1}", bool(centroid[i] < 0)
