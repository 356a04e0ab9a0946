"""The synth window's layout: styles, menu, toolbar, latent sliders, note keyboard, spectrum and status line.

:class:`WindowLayout` builds the widgets once (``_build``) and rebuilds the parts that depend on
the model (``_load_model_widgets``: title, one slider per latent neuron, the note buttons and the
spectrum axis) whenever a model opens. The widgets' commands are the window's actions
(:mod:`manne.gui.controls`, :mod:`manne.gui.transport`, :mod:`manne.gui.render`,
:mod:`manne.gui.loading`); nothing here talks to the engine.
"""

from __future__ import annotations

import tkinter as tk
import tkinter.font as tkfont
from tkinter import ttk

import numpy as np

from manne.dsp import NOTE_NAMES
from manne.gui.controls import KEYBOARD
from manne.gui.render import RENDER_MAX_S
from manne.gui.widgets import SpectrumPlot, Tooltip
from manne.synth.instrument import METHODS

__all__ = ["ABSENT_NOTE_TIP", "WindowLayout"]

ABSENT_NOTE_TIP = "not in corpus: the model never heard this note; it may sound odd"


class WindowLayout:
    """Mixin of :class:`manne.gui.window.SynthWindow`: builds and rebuilds its widgets.

    Uses the window's ``root``, ``ae``, ``z``, ``audio``, ``playing``, the Tk variables
    (``note_var``, ``volume_var``, ``phase_var``, ``seconds_var``, ``status_var``, ``message_var``)
    and ``_audio_error_full``. Sets ``play_button``, ``record_button``, ``render_button``,
    ``seconds_box``, ``latent_frame``, ``spectrum``, ``notes_frame``, ``volume_scale``,
    ``volume_label``, ``status_label``, and, per model, ``sliders``, ``value_labels``,
    ``note_buttons`` and ``notes_hint``.
    """

    def _style(self) -> None:
        style = ttk.Style(self.root)
        if "clam" in style.theme_names():
            style.theme_use("clam")
        base = tkfont.nametofont("TkDefaultFont", root=self.root)
        family, size = base.actual("family"), abs(int(base.actual("size")))
        style.configure("Note.Toolbutton", padding=(6, 6), width=3, anchor="center", font=(family, size, "bold"))
        style.map("Note.Toolbutton", background=[("selected", "#2f7dd1"), ("active", "#d8e6f5")],
                  foreground=[("selected", "white")])
        style.configure("Absent.Note.Toolbutton", foreground="#8c8c8c", font=(family, size, "italic"))
        style.map("Absent.Note.Toolbutton", background=[("selected", "#7d9cc0"), ("active", "#e6e6e6")],
                  foreground=[("selected", "white")])
        style.configure("Status.TLabel", padding=(8, 3), relief="sunken")
        style.configure("Value.TLabel", font=("TkFixedFont", max(8, size - 1)))
        style.configure("Hint.TLabel", foreground="#666666")

    def _build(self) -> None:
        root = self.root
        self._build_menu()
        play_text = "❚❚ Pause" if self.playing else "▶ Play"
        outer = ttk.Frame(root, padding=8)
        outer.grid(row=0, column=0, sticky="nsew")
        root.columnconfigure(0, weight=1)
        root.rowconfigure(0, weight=1)
        outer.columnconfigure(1, weight=1)
        outer.rowconfigure(1, weight=1)

        bar = ttk.Frame(outer)
        bar.grid(row=0, column=0, columnspan=2, sticky="ew", pady=(0, 8))
        ttk.Button(bar, text="Open model…", command=self.open_model_dialog, takefocus=False).pack(side="left")
        ttk.Separator(bar, orient="vertical").pack(side="left", fill="y", padx=8)
        self.play_button = ttk.Button(bar, text=play_text, width=9, command=self.toggle_play, takefocus=False)
        self.play_button.pack(side="left")
        self.record_button = ttk.Button(bar, text="● Record…", width=11, command=self.toggle_record, takefocus=False)
        self.record_button.pack(side="left", padx=(4, 0))
        if self.audio is None:
            self.play_button.state(["disabled"])
            self.record_button.state(["disabled"])
        ttk.Separator(bar, orient="vertical").pack(side="left", fill="y", padx=8)
        self.render_button = ttk.Button(bar, text="Render", command=self.render_dialog, takefocus=False)
        self.render_button.pack(side="left")
        self.seconds_box = ttk.Spinbox(bar, from_=1, to=RENDER_MAX_S, increment=1, width=4, textvariable=self.seconds_var)
        self.seconds_box.pack(side="left", padx=(4, 2))
        self.seconds_box.bind("<Return>", lambda e: root.focus_set())
        self.seconds_box.bind("<Escape>", lambda e: root.focus_set())
        ttk.Label(bar, text="s…").pack(side="left")
        ttk.Button(bar, text="Load preset…", command=self.load_preset_dialog, takefocus=False).pack(side="right")
        ttk.Button(bar, text="Save preset…", command=self.save_preset_dialog, takefocus=False).pack(side="right", padx=(0, 4))

        self.latent_frame = ttk.Labelframe(outer, text="Timbre (latent)", padding=(8, 4))
        self.latent_frame.grid(row=1, column=0, sticky="ns", padx=(0, 8))

        spec = ttk.Labelframe(outer, text="Spectrum", padding=4)
        spec.grid(row=1, column=1, sticky="nsew")
        spec.columnconfigure(0, weight=1)
        spec.rowconfigure(0, weight=1)
        a = self.ae.analysis
        self.spectrum = SpectrumPlot(spec, sr=a.sr, n_fft=a.n_fft)
        self.spectrum.canvas.grid(row=0, column=0, sticky="nsew")

        self.notes_frame = ttk.Labelframe(outer, text="Note", padding=(8, 4))
        self.notes_frame.grid(row=2, column=0, columnspan=2, sticky="ew", pady=(8, 0))

        ctl = ttk.Frame(outer)
        ctl.grid(row=3, column=0, columnspan=2, sticky="ew", pady=(8, 0))
        ttk.Label(ctl, text="Volume").pack(side="left")
        self.volume_scale = ttk.Scale(ctl, from_=0.0, to=1.0, orient="horizontal", length=200,
                                      variable=self.volume_var, command=self._volume_changed, takefocus=False)
        self.volume_scale.pack(side="left", padx=(6, 4))
        self.volume_label = ttk.Label(ctl, width=5, style="Value.TLabel")
        self.volume_label.pack(side="left")
        self.volume_label.configure(text=f"{self.volume_var.get():.0%}")
        ttk.Label(ctl, text="Sound").pack(side="left", padx=(24, 6))
        for mode in METHODS:
            ttk.Radiobutton(ctl, text=mode, value=mode, variable=self.phase_var, command=self._phase_changed,
                            takefocus=False).pack(side="left", padx=2)
        ttk.Checkbutton(ctl, text="Hold", variable=self.hold_var, command=self._hold_changed,
                        takefocus=False).pack(side="left", padx=(16, 2))
        self.octave_label = ttk.Label(ctl, text=f"octave {self.octave}", style="Value.TLabel")
        self.octave_label.pack(side="left", padx=(16, 2))
        ttk.Label(ctl, textvariable=self.message_var, style="Hint.TLabel").pack(side="right")

        # width=1: a long status never widens the window; it is cut at the window's edge instead
        self.status_label = ttk.Label(root, textvariable=self.status_var, style="Status.TLabel", anchor="w", width=1)
        self.status_label.grid(row=1, column=0, sticky="ew")
        Tooltip(self.status_label, lambda: self._audio_error_full or self.status_var.get())

    def _build_menu(self) -> None:
        menu = tk.Menu(self.root)
        file = tk.Menu(menu, tearoff=False)
        file.add_command(label="Open model…", command=self.open_model_dialog, accelerator="Ctrl+O")
        file.add_separator()
        file.add_command(label="Load preset…", command=self.load_preset_dialog)
        file.add_command(label="Save preset…", command=self.save_preset_dialog)
        file.add_separator()
        file.add_command(label="Record to WAV…", command=self.toggle_record)
        file.add_command(label="Render to WAV…", command=self.render_dialog)
        file.add_separator()
        file.add_command(label="Quit", command=self.close, accelerator="Ctrl+Q")
        menu.add_cascade(label="File", menu=file)
        self.root.configure(menu=menu)

    def _load_model_widgets(self) -> None:
        """(Re)build the parts that depend on the model: title, sliders, note buttons, spectrum axis."""
        self.root.title(f"manne — {self.model_name}")
        for w in self.latent_frame.winfo_children():
            w.destroy()
        lo, hi = np.asarray(self.ae.latent_range, dtype=np.float64)
        self.sliders: list[ttk.Scale] = []
        self.value_labels: list[ttk.Label] = []
        for i in range(self.ae.latent):
            top, bottom = float(hi[i]), float(lo[i])
            if top <= bottom:
                top = bottom + 1e-3
            ttk.Label(self.latent_frame, text=f"z{i + 1}").grid(row=0, column=i, padx=3)
            label = ttk.Label(self.latent_frame, width=6, anchor="center", style="Value.TLabel")
            label.grid(row=2, column=i, padx=3)
            self.value_labels.append(label)
            scale = ttk.Scale(self.latent_frame, from_=top, to=bottom, value=float(self.z[i]), orient="vertical",
                              length=200, command=lambda v, i=i: self._slider_moved(i, v), takefocus=False)
            scale.grid(row=1, column=i, padx=3, pady=2, sticky="ns")
            self.sliders.append(scale)
        self.latent_frame.rowconfigure(1, weight=1)
        self._show_values()

        for w in self.notes_frame.winfo_children():
            w.destroy()
        present = set(self.ae.notes_present)
        self.note_buttons: list[ttk.Radiobutton] = []
        keys = ttk.Frame(self.notes_frame)
        keys.pack(side="top", anchor="w")
        for i, name in enumerate(NOTE_NAMES):
            style = "Note.Toolbutton" if i in present else "Absent.Note.Toolbutton"
            b = ttk.Radiobutton(keys, text=name, value=i, variable=self.note_var, style=style, takefocus=False)
            b.bind("<ButtonPress-1>", lambda e, i=i: self._button_down(i))
            b.bind("<ButtonRelease-1>", lambda e: self._button_up())
            b.grid(row=0, column=i, padx=1)
            ttk.Label(keys, text=KEYBOARD[i].upper(), style="Hint.TLabel").grid(row=1, column=i)
            if i not in present:
                Tooltip(b, f"{name}: {ABSENT_NOTE_TIP}")
            self.note_buttons.append(b)
        absent = [NOTE_NAMES[i] for i in range(12) if i not in present]
        hint = "Keys A W S E D F T G Y H U J play C … B · Z/X: octave · space: play/pause"
        if absent:
            hint += f" · grey italic: not in corpus ({' '.join(absent)})"
        self.notes_hint = ttk.Label(self.notes_frame, text=hint, style="Hint.TLabel")
        self.notes_hint.pack(side="top", anchor="w", pady=(4, 0))

        a = self.ae.analysis
        self.spectrum.set_analysis(sr=a.sr, n_fft=a.n_fft)
        self._preview_key = None
