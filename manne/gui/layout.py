"""The synth window's layout: a dark instrument face with toolbar and meter, labelled timbre sliders,
an XY pad over the timbre space, the live spectrum, a piano keyboard and a status line.

:class:`WindowLayout` builds the widgets once (``_build``) and rebuilds the parts that depend on
the model (``_load_model_widgets``: title, one slider per latent neuron with what it does, the XY
pad's plane and landmarks, the keys the model never heard, the spectrum axis) whenever a model
opens. The widgets' commands are the window's actions (:mod:`manne.gui.controls`,
:mod:`manne.gui.transport`, :mod:`manne.gui.render`, :mod:`manne.gui.loading`); nothing here
talks to the synth.
"""

from __future__ import annotations

import tkinter as tk
import tkinter.font as tkfont
from tkinter import ttk

import numpy as np

from manne.gui.meter import LevelMeter
from manne.gui.piano import PianoKeyboard
from manne.gui.render import RENDER_MAX_S
from manne.gui.widgets import SpectrumPlot, Tooltip
from manne.gui.xypad import XYPad
from manne.synth.instrument import METHODS

__all__ = ["WindowLayout", "COLOURS", "PAD_MAPS"]

COLOURS = {"bg": "#1b1e24", "panel": "#22262d", "text": "#e6e8eb", "dim": "#8a93a0", "accent": "#5ec8ff",
           "field": "#2a2f37", "border": "#343a44"}
PAD_MAPS = ("none", "brightness", "note accuracy")  # what the XY pad's background shows
SLIDER_LENGTH = 190


class WindowLayout:
    """Mixin of :class:`manne.gui.window.SynthWindow`: builds and rebuilds its widgets.

    Uses the window's ``root``, ``ae``, ``z``, ``audio``, ``playing``, ``session`` (its octave), the Tk variables
    (``note_var``, ``volume_var``, ``phase_var``, ``hold_var``, ``seconds_var``, ``status_var``,
    ``message_var``, ``pad_x_var``, ``pad_y_var``, ``pad_map_var``) and ``_audio_error_full``. Sets
    ``play_button``, ``record_button``, ``render_button``, ``seconds_box``, ``meter``,
    ``latent_frame``, ``pad``, ``pad_x_box``, ``pad_y_box``, ``spectrum``, ``piano``,
    ``octave_label``, ``volume_scale``, ``volume_label``, ``status_label``, and, per model,
    ``sliders``, ``slider_labels``, ``value_labels`` and ``notes_hint``.
    """

    def _style(self) -> None:
        root, c = self.root, COLOURS
        style = ttk.Style(root)
        if "clam" in style.theme_names():
            style.theme_use("clam")
        base = tkfont.nametofont("TkDefaultFont", root=root)
        family, size = base.actual("family"), abs(int(base.actual("size")))
        root.configure(background=c["bg"])
        style.configure(".", background=c["bg"], foreground=c["text"], fieldbackground=c["field"],
                        bordercolor=c["border"], lightcolor=c["panel"], darkcolor=c["bg"], troughcolor=c["field"],
                        focuscolor=c["accent"], selectbackground=c["accent"], selectforeground="#10141a")
        style.configure("TFrame", background=c["bg"])
        style.configure("TLabelframe", background=c["bg"], bordercolor=c["border"])
        style.configure("TLabelframe.Label", background=c["bg"], foreground=c["dim"], font=(family, size, "bold"))
        style.configure("TLabel", background=c["bg"], foreground=c["text"])
        style.configure("TButton", background=c["panel"], foreground=c["text"], padding=(10, 4))
        style.map("TButton", background=[("active", "#2d333c"), ("disabled", c["bg"])],
                  foreground=[("disabled", "#5b626d")])
        style.configure("Accent.TButton", background="#2f7dd1", foreground="white")
        style.map("Accent.TButton", background=[("active", "#3a8ce0")])
        style.configure("TCheckbutton", background=c["bg"], foreground=c["text"], indicatorbackground=c["field"])
        style.map("TCheckbutton", background=[("active", c["bg"])], indicatorbackground=[("selected", c["accent"])])
        style.configure("TScale", background="#7d8795", troughcolor=c["field"], sliderthickness=18, borderwidth=0)
        style.map("TScale", background=[("active", c["accent"])])
        style.configure("TCombobox", fieldbackground=c["field"], background=c["panel"], foreground=c["text"],
                        arrowcolor=c["text"])
        style.map("TCombobox", fieldbackground=[("readonly", c["field"])], foreground=[("readonly", c["text"])])
        root.option_add("*TCombobox*Listbox.background", c["field"])
        root.option_add("*TCombobox*Listbox.foreground", c["text"])
        style.configure("TSpinbox", fieldbackground=c["field"], foreground=c["text"], arrowcolor=c["text"])
        style.configure("TSeparator", background=c["border"])
        style.configure("Status.TLabel", padding=(8, 3), background="#15181d", foreground=c["dim"])
        style.configure("Value.TLabel", foreground=c["accent"], font=("TkFixedFont", max(8, size - 1)))
        style.configure("Hint.TLabel", foreground=c["dim"])
        style.configure("Slider.TLabel", foreground=c["text"], font=(family, size, "bold"))
        style.configure("What.TLabel", foreground=c["dim"], font=(family, max(7, size - 2)))

    def _build(self) -> None:
        root = self.root
        self._build_menu()
        play_text = "❚❚ Pause" if self.playing else "▶ Play"
        outer = ttk.Frame(root, padding=10)
        outer.grid(row=0, column=0, sticky="nsew")
        root.columnconfigure(0, weight=1)
        root.rowconfigure(0, weight=1)
        outer.columnconfigure(2, weight=1)
        outer.rowconfigure(1, weight=1)

        bar = ttk.Frame(outer)
        bar.grid(row=0, column=0, columnspan=3, sticky="ew", pady=(0, 10))
        ttk.Button(bar, text="Open model…", command=self.open_model_dialog, takefocus=False).pack(side="left")
        ttk.Separator(bar, orient="vertical").pack(side="left", fill="y", padx=8)
        self.play_button = ttk.Button(bar, text=play_text, width=9, command=self.toggle_play, takefocus=False,
                                      style="Accent.TButton")
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
        ttk.Separator(bar, orient="vertical").pack(side="left", fill="y", padx=8)
        ttk.Button(bar, text="Load preset…", command=self.load_preset_dialog, takefocus=False).pack(side="left")
        ttk.Button(bar, text="Save preset…", command=self.save_preset_dialog, takefocus=False).pack(side="left", padx=(4, 0))
        self.match_button = ttk.Button(bar, text="Match…", command=self.match_recording_dialog, takefocus=False)
        self.match_button.pack(side="left", padx=(4, 0))
        Tooltip(self.match_button, "Match a recording…: set the sliders to the timbre of an audio file")
        self.meter = LevelMeter(bar, width=200, height=22)
        self.meter.canvas.pack(side="right")
        ttk.Label(bar, text="Out", style="Hint.TLabel").pack(side="right", padx=(0, 6))

        self.latent_frame = ttk.Labelframe(outer, text="Timbre", padding=(8, 4))
        self.latent_frame.grid(row=1, column=0, sticky="ns", padx=(0, 10))

        pad_frame = ttk.Labelframe(outer, text="Timbre space", padding=(8, 4))
        pad_frame.grid(row=1, column=1, sticky="n", padx=(0, 10))
        self.pad = XYPad(pad_frame, on_move=self._pad_moved, size=250)
        self.pad.canvas.grid(row=0, column=0, columnspan=6, pady=(0, 6))
        ttk.Label(pad_frame, text="X", style="Hint.TLabel").grid(row=1, column=0, sticky="w")
        self.pad_x_box = ttk.Combobox(pad_frame, textvariable=self.pad_x_var, width=5, state="readonly", takefocus=False)
        self.pad_x_box.grid(row=1, column=1, padx=(2, 8))
        ttk.Label(pad_frame, text="Y", style="Hint.TLabel").grid(row=1, column=2, sticky="w")
        self.pad_y_box = ttk.Combobox(pad_frame, textvariable=self.pad_y_var, width=5, state="readonly", takefocus=False)
        self.pad_y_box.grid(row=1, column=3, padx=(2, 8))
        map_box = ttk.Combobox(pad_frame, textvariable=self.pad_map_var, values=PAD_MAPS, width=13, state="readonly",
                               takefocus=False)
        map_box.grid(row=1, column=4, columnspan=2, sticky="e")
        Tooltip(map_box, "background: how bright each point of the plane sounds for the selected note")
        for box in (self.pad_x_box, self.pad_y_box, map_box):
            box.bind("<<ComboboxSelected>>", lambda e: (self._pad_plane_changed(), self.root.focus_set()))

        spec = ttk.Labelframe(outer, text="What you hear", padding=4)
        spec.grid(row=1, column=2, sticky="nsew")
        spec.columnconfigure(0, weight=1)
        spec.rowconfigure(0, weight=1)
        a = self.ae.analysis
        self.spectrum = SpectrumPlot(spec, sr=a.sr, n_fft=a.n_fft, width=380, height=250)
        self.spectrum.canvas.grid(row=0, column=0, sticky="nsew")

        keys = ttk.Frame(outer)
        keys.grid(row=2, column=0, columnspan=3, sticky="ew", pady=(10, 0))
        keys.columnconfigure(0, weight=1)
        self.piano = PianoKeyboard(keys, on_press=self._piano_down, on_release=self._piano_up,
                                   low=12 * self.session.octave, octaves=3, width=900, height=100)
        self.piano.canvas.grid(row=0, column=0, sticky="ew")

        ctl = ttk.Frame(outer)
        ctl.grid(row=3, column=0, columnspan=3, sticky="ew", pady=(8, 0))
        ttk.Button(ctl, text="◀", width=2, command=lambda: self.set_octave(self.session.octave - 1), takefocus=False).pack(side="left")
        self.octave_label = ttk.Label(ctl, text=f"octave {self.session.octave}", width=9, anchor="center", style="Value.TLabel")
        self.octave_label.pack(side="left", padx=2)
        ttk.Button(ctl, text="▶", width=2, command=lambda: self.set_octave(self.session.octave + 1), takefocus=False).pack(side="left")
        ttk.Checkbutton(ctl, text="Hold", variable=self.hold_var, command=self._hold_changed,
                        takefocus=False).pack(side="left", padx=(16, 2))
        ttk.Label(ctl, text="Sound", style="Hint.TLabel").pack(side="left", padx=(16, 4))
        method_box = ttk.Combobox(ctl, textvariable=self.phase_var, values=METHODS, width=9, state="readonly",
                                  takefocus=False)
        method_box.pack(side="left")
        method_box.bind("<<ComboboxSelected>>", lambda e: (self._phase_changed(), self.root.focus_set()))
        ttk.Label(ctl, text="Volume", style="Hint.TLabel").pack(side="left", padx=(16, 4))
        self.volume_scale = ttk.Scale(ctl, from_=0.0, to=1.0, orient="horizontal", length=160,
                                      variable=self.volume_var, command=self._volume_changed, takefocus=False)
        self.volume_scale.pack(side="left", padx=(0, 4))
        self.volume_label = ttk.Label(ctl, width=5, style="Value.TLabel")
        self.volume_label.pack(side="left")
        self.volume_label.configure(text=f"{self.volume_var.get():.0%}")
        ttk.Label(ctl, textvariable=self.message_var, style="Hint.TLabel").pack(side="right")
        self.notes_hint = ttk.Label(outer, style="Hint.TLabel")
        self.notes_hint.grid(row=4, column=0, columnspan=3, sticky="w", pady=(6, 0))

        # width=1: a long status never widens the window; it is cut at the window's edge instead
        self.status_label = ttk.Label(root, textvariable=self.status_var, style="Status.TLabel", anchor="w", width=1)
        self.status_label.grid(row=1, column=0, sticky="ew")
        Tooltip(self.status_label, lambda: self._audio_error_full or self.status_var.get())

    def _build_menu(self) -> None:
        colours = {"background": COLOURS["panel"], "foreground": COLOURS["text"], "activebackground": "#2f7dd1",
                   "activeforeground": "white", "borderwidth": 0}
        menu = tk.Menu(self.root, **colours)
        file = tk.Menu(menu, tearoff=False, **colours)
        file.add_command(label="Open model…", command=self.open_model_dialog, accelerator="Ctrl+O")
        file.add_separator()
        file.add_command(label="Load preset…", command=self.load_preset_dialog)
        file.add_command(label="Save preset…", command=self.save_preset_dialog)
        file.add_command(label="Match a recording…", command=self.match_recording_dialog)
        file.add_separator()
        file.add_command(label="Record to WAV…", command=self.toggle_record)
        file.add_command(label="Render to WAV…", command=self.render_dialog)
        file.add_separator()
        file.add_command(label="Quit", command=self.close, accelerator="Ctrl+Q")
        menu.add_cascade(label="File", menu=file)
        self.root.configure(menu=menu)

    def _load_model_widgets(self) -> None:
        """(Re)build what depends on the model: title, sliders and their labels, the pad, the keys."""
        self.root.title(f"manne — {self.model_name}")
        for w in self.latent_frame.winfo_children():
            w.destroy()
        lo, hi = np.asarray(self.ae.latent_range, dtype=np.float64)
        from manne.gui.timbre import ignored_files
        from manne.timbre.descriptors import slider_labels

        what = slider_labels(self.model_dir, self.ae.latent)  # what moving each slider up does, or ""
        self.ignored = ignored_files(self.model_dir, self.ae.latent)  # damaged ones: the status line says so
        self.sliders: list[ttk.Scale] = []
        self.slider_labels: list[ttk.Label] = []
        self.value_labels: list[ttk.Label] = []
        for i in range(self.ae.latent):
            top, bottom = float(hi[i]), float(lo[i])
            if top <= bottom:
                top = bottom + 1e-3
            name = ttk.Label(self.latent_frame, text=f"z{i + 1}", style="Slider.TLabel")
            name.grid(row=0, column=i, padx=4)
            self.slider_labels.append(ttk.Label(self.latent_frame, text=what[i], style="What.TLabel", width=8,
                                                anchor="center"))
            self.slider_labels[-1].grid(row=1, column=i, padx=2)
            scale = ttk.Scale(self.latent_frame, from_=top, to=bottom, value=float(self.z[i]), orient="vertical",
                              length=SLIDER_LENGTH, command=lambda v, i=i: self._slider_moved(i, v), takefocus=False)
            scale.grid(row=2, column=i, padx=4, pady=4, sticky="ns")
            self.sliders.append(scale)
            label = ttk.Label(self.latent_frame, width=4, anchor="center", style="Value.TLabel")
            label.grid(row=3, column=i, padx=2)
            self.value_labels.append(label)
            if what[i]:
                Tooltip(scale, f"z{i + 1}: up is {what[i]} (from the model's descriptor map)")
        self.latent_frame.rowconfigure(2, weight=1)
        self._show_values()

        present = set(self.ae.notes_present)
        absent = [i for i in range(12) if i not in present]
        self.piano.set_absent(absent)
        hint = "Keys A W S E D F T G Y H U J play C … B (K: next C) · Z/X: octave · space: play/pause"
        if absent:
            hint += " · dimmed keys: not in the corpus (played from the nearest note the model knows)"
        self.notes_hint.configure(text=hint)
        self._load_pad()

        a = self.ae.analysis
        self.spectrum.set_analysis(sr=a.sr, n_fft=a.n_fft)
        self._preview_key = None
