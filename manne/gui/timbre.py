"""The window's view of the timbre space: the XY pad's plane, its map and landmarks, and what each
slider does.

The pad moves two coordinates of the latent space (:class:`manne.timbre.plane.Plane`: two chosen
neurons, or the training codes' first two principal axes); its background can show how bright
(spectral centroid) each point sounds for the selected note, or where the decoder itself plays that
note (the mesh accuracy), decoded on a coarse grid when the note or the plane changes; the model's landmarks (its recordings, by name) are drawn on it.
"""

from __future__ import annotations

import os

import numpy as np

from manne.errors import ManneError
from manne.inspect.map_plot import label_subset

__all__ = ["TimbrePad", "MAP_POINTS", "ignored_files"]

MAP_POINTS = 24  # grid points per side of the pad's background map


def landmark_points(model_dir: str | os.PathLike, latent: int) -> list[tuple[str, np.ndarray]]:
    """``(short name, mean code)`` of the model's recordings (file landmarks); empty when it has none
    or its ``landmarks.json`` cannot be read (the pad then shows no names)."""
    from manne.inspect.map_plot import short_name
    from manne.timbre import landmarks

    try:
        return [(short_name(m.name), m.mean) for m in landmarks.read(model_dir, latent=latent) if m.kind == "file"]
    except ManneError:
        return []


def ignored_files(model_dir: str | os.PathLike, latent: int) -> list[str]:
    """What the window leaves out of a model, for its status line: ``"ignored landmarks.json (damaged
    …)"`` for each of ``landmarks.json`` and ``descriptors.json`` that is there but cannot be read (the
    pad then shows no names, the sliders no words)."""
    from manne.timbre import descriptors, landmarks

    out = []
    for module in (landmarks, descriptors):
        try:
            module.read(model_dir, latent=latent)
        except ManneError as exc:
            reason = str(exc).split(": ", 1)[-1].split("; ")[0]
            out.append(f"ignored {module.FILE} ({reason})")
    return out


class TimbrePad:
    """Mixin of :class:`manne.gui.window.SynthWindow`: the XY pad and its plane.

    Uses the window's ``ae``, ``model_dir``, ``z``, ``pad``, ``pad_x_var``, ``pad_y_var``,
    ``pad_map_var``, ``note_var``, the session and :meth:`SoundControls.show_session`; sets ``plane``.
    """

    def _load_pad(self) -> None:
        """Choices and plane for a newly opened model: principal axes for more than two neurons."""
        from manne.timbre.plane import plane_of_model_dir

        names = [f"z{i + 1}" for i in range(self.ae.latent)]
        try:
            self._default_plane = plane_of_model_dir(self.ae, self.model_dir) if self.ae.latent > 2 else None
        except ManneError:  # no landmarks, no examples (or damaged): neurons only
            self._default_plane = None
        pcs = ["PC1"] if self._default_plane is not None else []
        self.pad_x_box.configure(values=pcs + names)
        self.pad_y_box.configure(values=(["PC2"] if pcs else []) + names)
        if pcs:
            self.pad_x_var.set("PC1")
            self.pad_y_var.set("PC2")
        else:
            self.pad_x_var.set(names[0])
            self.pad_y_var.set(names[min(1, len(names) - 1)])
        self._landmarks = landmark_points(self.model_dir, self.ae.latent)
        self._pad_plane_changed()

    def _pad_plane_changed(self) -> None:
        """The X/Y choice or the map changed: rebuild the plane, its map and its landmarks."""
        from manne.timbre.plane import Plane

        x, y = self.pad_x_var.get(), self.pad_y_var.get()
        if x.startswith("PC") or y.startswith("PC"):  # principal axes come as a pair
            self.pad_x_var.set("PC1")
            self.pad_y_var.set("PC2")
            self.plane = self._default_plane
        else:
            i, j = int(x[1:]) - 1, int(y[1:]) - 1
            if i == j:
                j = (i + 1) % self.ae.latent
                self.pad_y_var.set(f"z{j + 1}")
            self.plane = Plane(self.ae.latent_range, axes=(i, j))
        self.pad.set_axes(*self.plane.labels, draw=False)  # drawn once, with the map below
        uv = np.array([self.plane.uv(z) for _, z in self._landmarks]).reshape(-1, 2)
        named = label_subset(uv, [1.0] * len(uv), min_dist=0.18, limit=10)  # spread-out names, not a crowd
        order = named + [i for i in range(len(uv)) if i not in named]
        self.pad.set_landmarks([(self._landmarks[i][0] if i in named else "", *uv[i]) for i in order], draw=False)
        self._pad_map_key = None
        self._update_pad_map()
        self._show_pad_position()

    def _update_pad_map(self) -> None:
        """Draw the pad's background for the selected note (only when the note, plane or map changed)."""
        kind = self.pad_map_var.get()
        key = (kind, int(self.note_var.get()), tuple(np.round(self.z, 3)) if self.plane.axes else None,
               self.pad_x_var.get(), self.pad_y_var.get())
        if key == getattr(self, "_pad_map_key", None):
            return
        self._pad_map_key = key
        if kind not in ("brightness", "note accuracy"):
            self.pad.set_background(None)
            return
        note = int(self.note_var.get())
        grid = self.plane.grid(MAP_POINTS, self.z).reshape(-1, self.ae.latent)  # row j at v = j / (n - 1)
        if kind == "brightness":
            from manne.timbre.descriptors import grid_descriptors

            centroid = grid_descriptors(self.ae, grid, [note])["centroid"][0]
            self.pad.set_background(centroid.reshape(MAP_POINTS, MAP_POINTS),
                                    f"brightness {centroid.min():.0f}–{centroid.max():.0f} Hz")
        else:  # where the decoder itself plays the note (the paper's mesh accuracy); elsewhere it is transposed
            from manne.dsp import NOTE_NAMES
            from manne.inspect.mesh import decoded_notes

            right = (decoded_notes(self.ae, grid, note) == note).astype(np.float64)
            self.pad.set_background(right.reshape(MAP_POINTS, MAP_POINTS), f"decodes as {NOTE_NAMES[note]}: "
                                    f"{right.mean():.0%}", limits=(0.0, 2.0))  # yes: mid-ramp teal, no: dark

    def _show_pad_position(self) -> None:
        if getattr(self, "plane", None) is None:
            return
        u, v = self.plane.uv(self.z)
        self.pad.set_position(u, v)

    def _pad_moved(self, u: float, v: float) -> None:
        self.session.move_sliders(self.plane.z(u, v, self.z))  # clipped to the range; the synth follows
        self.show_session()
