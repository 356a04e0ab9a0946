"""The timbre map: the training codes with the landmarks of the user's recordings, by name.

Drawn on the same plane as the synth window's XY pad (:meth:`manne.timbre.plane.Plane.of_model`:
the two neurons of a 2-neuron model, else the first two principal axes of the recordings'
landmarks), in the pad's unit coordinates, so a place on the map is the same place on the pad.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from manne.inspect.figures import Drawn, new_figure, note_colors, note_legend, save_figure
from manne.timbre.landmarks import Landmark, short_name  # short_name: the labels, shared with the pad
from manne.timbre.plane import Plane

__all__ = ["plot_map", "write_map", "label_subset", "short_name", "spread_uv", "coverage_order", "place_labels"]


def label_subset(points: np.ndarray, weights: Sequence[float], *, min_dist: float = 0.07, limit: int = 40) -> list[int]:
    """Indices of points to label: the heaviest first, skipping any within ``min_dist`` of one already labelled."""
    order = np.argsort(-np.asarray(weights, dtype=np.float64), kind="stable")
    chosen: list[int] = []
    for i in order:
        if len(chosen) >= limit:
            break
        if all(np.hypot(*(points[i] - points[j])) >= min_dist for j in chosen):
            chosen.append(int(i))
    return chosen


def spread_uv(plane: Plane, m: Landmark) -> np.ndarray:
    """Half-widths (u, v) of a landmark's spread on ``plane``: the per-neuron std projected on each
    axis, ``sqrt(sum_i (std_i * d uv / d z_i)^2)`` (neurons taken as independent; landmarks keep no
    covariance); shape (2,)."""
    c = plane.uv(m.mean)
    steps = plane.uv(m.mean + np.diag(m.std)) - c  # (latent, 2): one neuron's std moved along the plane
    return np.sqrt((steps ** 2).sum(axis=0))


def coverage_order(points: np.ndarray, weights: Sequence[float]) -> list[int]:
    """Indices of ``points`` (n, 2), the heaviest first, then each next the farthest from those
    before it (farthest-point order): labelling in this order spreads labels over the map."""
    n = len(points)
    if n == 0:
        return []
    first = int(np.argmax(np.asarray(weights, dtype=np.float64)))
    order, dist = [first], np.hypot(*(points - points[first]).T)
    for _ in range(n - 1):
        dist[order] = -1.0
        i = int(np.argmax(dist))
        order.append(i)
        dist = np.minimum(dist, np.hypot(*(points - points[i]).T))
    return order


# where a label may go, in points from its marker: right, left, above, below, and the four corners
_OFFSETS = ((5, -3, "left", "center"), (-5, -3, "right", "center"), (0, 5, "center", "bottom"),
            (0, -6, "center", "top"), (4, 3, "left", "bottom"), (-4, 3, "right", "bottom"),
            (4, -4, "left", "top"), (-4, -4, "right", "top"))


def place_labels(ax, renderer, items, *, avoid: list, limit: int | None = None, **text_kw) -> list[int]:
    """Label points without overlap: for each ``(index, text, xy)`` of ``items`` in order, the first
    place of :data:`_OFFSETS` whose box stays inside ``ax`` and clear of every box in ``avoid``
    (display coordinates, extended with each label placed); an item that fits nowhere is left out,
    and labelling stops after ``limit`` labels.

    Returns the indices of the items labelled.
    """
    frame = ax.get_window_extent(renderer)
    done = []
    for index, text, xy in items:
        if limit is not None and len(done) >= limit:
            break
        for dx, dy, ha, va in _OFFSETS:
            t = ax.annotate(text, xy, xytext=(dx, dy), textcoords="offset points", ha=ha, va=va, **text_kw)
            t.set_in_layout(False)
            box = t.get_window_extent(renderer).expanded(1.06, 1.15)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(b) for b in avoid):
                avoid.append(box)
                done.append(index)
                break
            t.remove()
    return done


def _renderer(fig):
    fig.draw_without_rendering()  # settles the constrained layout: positions are final from here
    canvas = fig.canvas
    if not hasattr(canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = FigureCanvasAgg(fig)
    return canvas.get_renderer()


def plot_map(z: np.ndarray, note: np.ndarray, landmarks: list[Landmark], plane: Plane, *, fig=None,
             title: str | None = None, seed: int = 0, max_labels: int = 40) -> Drawn:
    """Scatter of the codes (coloured by note) with landmarks: each folder a cross inside an
    ellipse of its spread (±1 std, :func:`spread_uv`) in its own colour, each file a dot in its
    folder's colour, and as many file names as fit without overlapping (in :func:`coverage_order`,
    at most ``max_labels``).

    Parameters
    ----------
    z : np.ndarray, shape (n_codes, latent), the training codes
    note : np.ndarray, shape (n_codes,), their notes (0-11)
    landmarks : the model's landmarks (may be empty)
    plane : the plane to draw on

    Returns
    -------
    Drawn
        One panel; its artist is the codes' ``PathCollection``. ``Drawn.info["labelled"]`` lists the
        labelled landmark names (folders first).
    """
    from matplotlib.patches import Ellipse
    from matplotlib.transforms import Bbox

    fig = new_figure(fig, (9.0, 7.0))
    ax = fig.add_subplot(1, 1, 1)
    uv = plane.uv(z)
    order = np.random.default_rng(seed).permutation(len(uv))
    colors = note_colors()
    small = len(uv) < 3000
    pts = ax.scatter(uv[order, 0], uv[order, 1], s=10 if small else 4, c=colors[np.asarray(note)[order]],
                     alpha=0.5 if small else 0.3, linewidths=0, rasterized=True, zorder=1)
    note_legend(ax, sorted(set(int(n) for n in note)), colors, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                markerscale=1.2, frameon=False)
    files = [m for m in landmarks if m.kind == "file"]
    folders = [m for m in landmarks if m.kind == "folder"]
    if len(folders) == 1:  # one folder holds every recording: it is the corpus, not a place in it
        folders = []
    palette = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
    top = [m for m in folders if "/" not in m.name]  # files take the colour of their top folder
    tone = {m.name: palette[i % len(palette)] for i, m in enumerate(top)}

    def colour(name: str) -> str:
        return tone.get(name.split("/", 1)[0], "#f28e2b")

    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.05, 1.05)
    ax.set_aspect("equal")
    fuv = plane.uv(np.stack([m.mean for m in files])) if files else np.zeros((0, 2))
    if files:
        ax.scatter(fuv[:, 0], fuv[:, 1], s=22, c=[colour(m.name) for m in files], edgecolors="#222222",
                   linewidths=0.6, zorder=3)
    centres = []
    for m in folders:
        c, r = plane.uv(m.mean), spread_uv(plane, m)
        col = tone.get(m.name, colour(m.name))
        ax.add_patch(Ellipse(c, 2 * r[0], 2 * r[1], fc=col, alpha=0.07, ec="none", zorder=2))
        ax.add_patch(Ellipse(c, 2 * r[0], 2 * r[1], fill=False, ec=col, lw=1.4, ls="--", zorder=2))
        ax.scatter([c[0]], [c[1]], s=130, marker="X", c=col, edgecolors="white", linewidths=1.0, zorder=5)
        centres.append(c)
    x_label, y_label = plane.labels
    ax.set_xlabel(f"{x_label} (the synth's XY pad, left to right)")
    ax.set_ylabel(f"{y_label} (bottom to top)")
    ax.grid(True, alpha=0.2)
    ax.set_title(title or "Timbre map", fontsize=11)  # one line now, so the layout does not move when it is filled in

    renderer = _renderer(fig)
    to_px = ax.transData.transform
    avoid = []  # every marker's box, then each label's
    for xy, half in [(p, 4.0) for p in fuv] + [(c, 7.0) for c in centres]:
        x, y = to_px(xy)
        avoid.append(Bbox.from_extents(x - half, y - half, x + half, y + half))
    box = {"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.75}
    labelled = [folders[i].name for i in place_labels(
        ax, renderer, [(i, short_name(m.name), centres[i]) for i, m in enumerate(folders)], avoid=avoid,
        fontsize=10, weight="bold", color="#222222", zorder=6, bbox=box)]
    wanted = coverage_order(fuv, [m.frames for m in files])
    done = place_labels(ax, renderer, [(i, short_name(files[i].name), fuv[i]) for i in wanted], avoid=avoid,
                        limit=max_labels, fontsize=7, color="#111111", zorder=4, bbox=box)
    labelled += [files[i].name for i in done]
    if title is None:
        n_f = len(files)
        ax.set_title(f"Timbre map: {len(z)} training codes, {n_f} recordings{f' ({len(done)} named)' if n_f else ''}",
                     fontsize=11)
    return Drawn(fig, [ax], [pts], info={"labelled": labelled})


def write_map(z: np.ndarray, note: np.ndarray, landmarks: list[Landmark], plane: Plane, out: str | os.PathLike, *,
              dpi: int = 120) -> list[Path]:
    """Write ``map.png`` and ``map.csv`` into ``out``: per landmark its name, kind, frames, pad
    coordinates and spread (:func:`spread_uv`, ±1 std along each axis, in pad units)."""
    import csv

    from manne.io.files import atomic_path

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    drawn = plot_map(z, note, landmarks, plane)
    png = save_figure(drawn.fig, out / "map.png", dpi=dpi)
    path = out / "map.csv"
    x, y = plane.labels
    with atomic_path(path, force=True) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["name", "kind", "frames", x, y, f"{x}_std", f"{y}_std"])
            for m in landmarks:
                (u, v), (su, sv) = plane.uv(m.mean), spread_uv(plane, m)
                w.writerow([m.name, m.kind, m.frames, f"{u:.4f}", f"{v:.4f}", f"{su:.4f}", f"{sv:.4f}"])
    return [png, path]
