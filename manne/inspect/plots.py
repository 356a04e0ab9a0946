"""Figures that look inside a model: latent embedding, training curves, reconstructions, mesh maps.

The public face of the plotting modules; import from here:

- :mod:`manne.inspect.figures`: :class:`Drawn`, :func:`use_agg`, note colours, :func:`save_figure`;
- :mod:`manne.inspect.model_plots`: :func:`plot_embedding` (with :func:`pca_2d`),
  :func:`plot_reconstruction` and :func:`write_model_plots` (what ``manne plot`` writes);
- :mod:`manne.inspect.history`: :func:`read_history` and :func:`plot_training`;
- :mod:`manne.inspect.mesh_plot`: :func:`plot_mesh`.

Every function builds a ``matplotlib.figure.Figure`` (no pyplot, no display) or draws into the
``fig`` / ``ax`` it is given, and returns what it drew, so all of them test under Agg.
"""

from __future__ import annotations

from manne.dsp import NOTE_NAMES
from manne.inspect.figures import NOTE_CMAP, Drawn, note_cmap, note_colors, save_figure, use_agg
from manne.inspect.history import plot_training, read_history
from manne.inspect.mesh_plot import plot_mesh
from manne.inspect.model_plots import pca_2d, plot_embedding, plot_reconstruction, write_model_plots

__all__ = ["Drawn", "NOTE_CMAP", "NOTE_NAMES", "use_agg", "note_colors", "note_cmap", "save_figure", "pca_2d",
           "plot_embedding", "read_history", "plot_training", "plot_reconstruction", "plot_mesh", "write_model_plots"]
