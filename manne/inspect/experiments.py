"""The paper's experiments: train the configurations of Tables I-IV on each corpus and write a report.

Every run trains into ``OUT/models/<corpus>/<config>`` with :func:`manne.model.train.train`; a run whose
model directory is complete and was trained with the same settings is reused, an interrupted one
(checkpoint left behind) is resumed, so the command can be stopped and started again. Then each
run's test MSE and training time are read from ``metrics.json``, the 2- and 3-neuron runs get a
mesh accuracy (:mod:`manne.inspect.mesh`), figures go to ``OUT/plots/<corpus>/<config>``, and
``OUT/report.md`` (plus ``results.csv``) gathers it all. The module itself imports only the
configuration, so the command line can list :data:`CONFIGS` without loading NumPy or TensorFlow.

=================  =====  ======  ==========  =======  ====
config             table  latent  bottleneck  augment  skip
=================  =====  ======  ==========  =======  ====
``8-none``         I      8       sigmoid     none     no
``8-diff``         I      8       sigmoid     diff     no
``8-chroma-skip``  I      8       sigmoid     chroma   yes
``2-sigmoid``      II     2       sigmoid     chroma   no
``2-sigmoid-skip`` II     2       sigmoid     chroma   yes
``2-lrelu``        III    2       lrelu       chroma   no
``2-lrelu-skip``   III    2       lrelu       chroma   yes
``3-sigmoid``      IV     3       sigmoid     chroma   no
``3-sigmoid-skip`` IV     3       sigmoid     chroma   yes
``8-vae``          VI     8       VAE (β .1)  chroma   yes
=================  =====  ======  ==========  =======  ====
"""

from __future__ import annotations

import csv
import math
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from manne.model.config import PAPER, ModelConfig, TrainConfig
from manne.errors import CorpusError, ModelError, ParameterError
from manne.io.files import read_json


@dataclass(frozen=True)
class Experiment:
    """One configuration of the paper's tables."""

    name: str
    table: str
    latent: int
    bottleneck: str = "sigmoid"
    augment: str = "chroma"
    skip: bool = True
    vae: bool = False
    beta: float = 1.0

    def model_config(self, *, max_width: int = 1024) -> ModelConfig:
        # the paper's tables: linear magnitudes, a ReLU output, no register
        return ModelConfig(latent=self.latent, bottleneck=self.bottleneck, augment=self.augment, skip=self.skip,
                           vae=self.vae, beta=self.beta, max_width=max_width, **PAPER)

    @property
    def description(self) -> str:
        kind = f"beta-VAE (beta {self.beta:g})" if self.vae else self.bottleneck
        return f"{self.latent} neurons, {kind}, augment {self.augment}, {'skip' if self.skip else 'no skip'}"


CONFIGS: dict[str, Experiment] = {
    e.name: e
    for e in (
        Experiment("8-none", "I", 8, augment="none", skip=False),
        Experiment("8-diff", "I", 8, augment="diff", skip=False),
        Experiment("8-chroma-skip", "I", 8, augment="chroma", skip=True),
        Experiment("8-vae", "VI", 8, augment="chroma", skip=True, vae=True, beta=0.1),
        Experiment("2-sigmoid", "II", 2, "sigmoid", skip=False),
        Experiment("2-sigmoid-skip", "II", 2, "sigmoid", skip=True),
        Experiment("2-lrelu", "III", 2, "lrelu", skip=False),
        Experiment("2-lrelu-skip", "III", 2, "lrelu", skip=True),
        Experiment("3-sigmoid", "IV", 3, "sigmoid", skip=False),
        Experiment("3-sigmoid-skip", "IV", 3, "sigmoid", skip=True),
    )
}
TABLES = {
    "I": "8 neurons: input augmentation",
    "II": "2 neurons, sigmoid bottleneck: skip connection",
    "III": "2 neurons, leaky-ReLU bottleneck: skip connection",
    "IV": "3 neurons: skip connection",
    "VI": "8 neurons: beta-VAE against the plain autoencoder (not in the paper)",
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class RunResult:
    """Outcome of one (corpus, config) run. ``mesh`` is a :class:`manne.inspect.mesh.MeshResult` or None."""

    corpus: str
    config: str
    model_dir: Path
    status: str  # "trained", "resumed" or "reused"
    test_mse: float | None
    val_mse: float | None
    training_seconds: float
    epochs: int
    mesh: object | None = None
    figures: dict[str, Path] = field(default_factory=dict)

    @property
    def mesh_accuracy(self) -> float | None:
        return None if self.mesh is None else self.mesh.mean_accuracy()


def parse_corpus_args(items: Sequence[str]) -> dict[str, Path]:
    """``NAME=PATH`` (or ``PATH``, named by its stem) items as an ordered ``{name: path}``.

    Raises
    ------
    ParameterError
        If a name is empty, repeated or not usable as a folder name.
    CorpusError
        If a corpus file is missing.
    """
    out: dict[str, Path] = {}
    if not items:
        raise ParameterError("give at least one --corpus NAME=PATH")
    for item in items:
        name, sep, path = item.partition("=")
        if not sep:
            name, path = Path(item).stem, item
        if not _NAME.match(name):
            raise ParameterError(f"--corpus {item!r}: the name {name!r} must be letters, digits, '.', '_' or '-'")
        if name in out:
            raise ParameterError(f"--corpus {item!r}: the name {name!r} is given twice")
        if not Path(path).is_file():
            raise CorpusError(f"--corpus {item!r}: {path}: no such corpus file")
        out[name] = Path(path)
    return out


def select_configs(names: Sequence[str] | None) -> list[Experiment]:
    """The experiments named (config names or table numbers I-IV), in table order; all when ``names`` is empty.

    Raises
    ------
    ParameterError
        If a name is neither a config nor a table.
    """
    if not names:
        return list(CONFIGS.values())
    wanted = set()
    for n in names:
        if n in CONFIGS:
            wanted.add(n)
        elif n.upper() in TABLES:
            wanted.update(e.name for e in CONFIGS.values() if e.table == n.upper())
        else:
            raise ParameterError(f"--configs {n!r} is not a configuration ({', '.join(CONFIGS)}) or a table (I, II, III, IV)")
    return [e for e in CONFIGS.values() if e.name in wanted]


def _same_settings(config_json: Path, model_cfg: ModelConfig, train_cfg: TrainConfig, corpus_hash: str, *,
                   epochs: bool = True) -> list[str]:
    """Differences between the settings in a model's (or checkpoint's) ``config.json`` and the requested ones."""
    try:
        info = _read_object(config_json, what="model configuration")
    except (ModelError, OSError) as exc:
        return [f"unreadable {config_json.name} ({exc})"]
    diffs = []
    model = info.get("model", {})
    for k, v in asdict(model_cfg).items():
        if k != "n_bins" and model.get(k) != v:
            diffs.append(f"{k} {model.get(k)} != {v}")
    training = info.get("training", {})
    for k in ("epochs", "batch", "lr", "seed")[0 if epochs else 1 :]:
        if training.get(k) != getattr(train_cfg, k):
            diffs.append(f"{k} {training.get(k)} != {getattr(train_cfg, k)}")
    if info.get("corpus", {}).get("hash") != corpus_hash:
        diffs.append("trained on another corpus")
    return diffs


def _read_object(path: Path, *, what: str) -> dict:
    """A JSON object from ``path``; ModelError naming the file if it is missing, damaged or not an object."""
    obj = read_json(path, error=ModelError, what=what)
    if not isinstance(obj, dict):
        raise ModelError(f"{path}: the {what} is not a JSON object")
    return obj


def run_experiments(
    corpora: Mapping[str, str | os.PathLike],
    out: str | os.PathLike,
    *,
    configs: Sequence[Experiment] | None = None,
    epochs: int = 300,
    batch: int = 200,
    seed: int = 0,
    max_width: int = 1024,
    points: int = 50,
    points_3d: int = 20,
    force: bool = False,
    progress: bool = True,
    command: str | None = None,
    log: Callable[[str], None] = print,
) -> list[RunResult]:
    """Train, measure and report every configuration on every corpus.

    Parameters
    ----------
    corpora : ordered mapping ``{name: corpus path}``
    out : results folder (``models/``, ``plots/``, ``report.md``, ``results.csv``)
    configs : experiments to run (default all of :data:`CONFIGS`)
    epochs, batch, seed : training settings (:class:`manne.model.config.TrainConfig`)
    max_width : widest hidden layer (small for quick runs)
    points, points_3d : mesh grid values per neuron for 2- and 3-neuron models
    force : retrain even complete model directories
    command : the command line, written at the top of the report

    Returns
    -------
    results : list of RunResult, corpus-major; after a Ctrl-C (the interrupted run keeps its best
        model and resumes next time) the runs finished so far, and ``interrupted`` is logged

    Raises
    ------
    ParameterError
        On bad settings (before any training).
    ModelError
        If a complete model directory was trained with other settings and ``force`` is false, or
        its ``metrics.json`` is damaged.
    """
    from manne.corpus import load_corpus
    from manne.model.forward import Autoencoder
    from manne.inspect.mesh import check_grid, mesh_accuracy, write_csv
    from manne.inspect.examples import Examples
    from manne.inspect.plots import plot_mesh, save_figure, write_model_plots
    from manne.model.modeldir import is_complete, resumable_run
    from manne.model.train import train

    configs = list(CONFIGS.values()) if configs is None else list(configs)
    if not configs:
        raise ParameterError("no configurations to run")
    train_cfg = TrainConfig(epochs=epochs, batch=batch, seed=seed)
    model_cfgs = {e.name: e.model_config(max_width=max_width) for e in configs}  # raises on bad widths now
    check_grid(points, 2)
    check_grid(points_3d, 3)
    out = Path(out)
    results: list[RunResult] = []
    interrupted = False
    n_runs, k = len(corpora) * len(configs), 0
    for cname, cpath in corpora.items():
        corpus = load_corpus(cpath)
        for e in configs:
            k += 1
            mdir = out / "models" / cname / e.name
            mcfg = model_cfgs[e.name]
            run = resumable_run(mdir)  # the model's own checkpoint, or a --force run's in .next/
            metrics_file = mdir / "metrics.json"
            done = is_complete(mdir) and metrics_file.is_file()
            if done and not force:
                diffs = _same_settings(mdir / "config.json", mcfg, train_cfg, corpus.hash)
                if diffs:
                    raise ModelError(f"{mdir} was trained with other settings ({'; '.join(diffs)}); "
                                     "use --force to retrain or another -o folder")
                done = not _read_object(metrics_file, what="metrics file").get("interrupted", False)
            if done and not force:
                status = "reused"
                log(f"[{k}/{n_runs}] {cname}/{e.name}: complete, reusing {mdir}")
            else:
                resume = run is not None and not force
                if resume:
                    diffs = _same_settings(run / "checkpoint" / "config.json", mcfg, train_cfg, corpus.hash, epochs=False)
                    if diffs:
                        raise ModelError(f"{mdir} holds an interrupted run with other settings ({'; '.join(diffs)}); "
                                         "use --force to start it again or another -o folder")
                status = "resumed" if resume else "trained"
                log(f"[{k}/{n_runs}] {cname}/{e.name}: {'resuming' if resume else 'training'} {e.description}, "
                    f"widths {mcfg.hidden + [mcfg.latent]}")
                m = train(corpus, str(cpath), mdir, model_cfg=mcfg, train_cfg=train_cfg, resume=resume,
                          force=True, progress=progress, log=log)
                if m.get("interrupted"):  # Ctrl-C: the run kept its best model; stop the series here
                    log(f"interrupted: {mdir} can be resumed; run the same command again to go on")
                    interrupted = True
                    break
            metrics = _read_object(metrics_file, what="metrics file")
            ae = Autoencoder.load(mdir)
            pdir = out / "plots" / cname / e.name
            figs = {p.stem: p for p in write_model_plots(ae, Examples.from_corpus(ae, corpus), mdir, pdir)}
            mesh = None
            if e.latent in (2, 3):
                mesh = mesh_accuracy(ae, points=points if e.latent == 2 else points_3d)
                write_csv(mesh, pdir / "mesh.csv")
                drawn = plot_mesh(mesh, title=f"{cname} / {e.name}: predicted note over a {mesh.points}^{e.latent} grid; "
                                  "red: edge of the region that plays the note")
                figs["mesh"] = save_figure(drawn.fig, pdir / "mesh.png")
            res = RunResult(cname, e.name, mdir, status, metrics.get("test_mse"), metrics.get("val_mse"),
                            float(metrics.get("training_seconds") or 0.0), int(metrics.get("epochs") or 0), mesh, figs)
            acc = "" if mesh is None else f", mesh accuracy {100 * res.mesh_accuracy:.1f}%"
            log(f"    test MSE {_fmt(res.test_mse)}, {res.training_seconds:.1f} s training{acc}")
            results.append(res)
        if interrupted:
            break
    write_report(results, out, command=command,
                 settings={"epochs": epochs, "batch": batch, "seed": seed, "max_width": max_width,
                           "points (2 neurons)": points, "points (3 neurons)": points_3d},
                 corpora={n: str(p) for n, p in corpora.items()})
    return results


def _fmt(v: float | None, spec: str = ".3e") -> str:
    return "-" if v is None or math.isnan(v) else format(v, spec)


def write_report(results: Sequence[RunResult], out: str | os.PathLike, *, command: str | None = None,
                 settings: Mapping[str, object] | None = None, corpora: Mapping[str, str] | None = None) -> Path:
    """Write ``report.md`` and ``results.csv`` into ``out``, atomically.

    The report opens with the command line and settings, then one table per paper table (rows:
    corpus x config; columns: test MSE, training seconds, epochs, mean mesh accuracy over the
    notes of the training corpus), a Table V of mesh accuracy per note, and the figures.
    """
    from manne.io.files import atomic_path
    from manne.inspect.mesh import markdown_table

    out = Path(out)
    lines = ["# MANNe experiments", ""]
    if command:
        lines += ["```", command, "```", ""]
    lines.append(f"Written {time.strftime('%Y-%m-%d %H:%M:%S')}.")
    if settings:
        lines.append("Settings: " + ", ".join(f"{k} {v}" for k, v in settings.items()) + ".")
    if corpora:
        lines.append("Corpora: " + ", ".join(f"`{n}` = `{p}`" for n, p in corpora.items()) + ".")
    lines.append("")
    for table, title in TABLES.items():
        rows = [r for r in results if CONFIGS[r.config].table == table]
        if not rows:
            continue
        lines += [f"## Table {table}: {title}", "",
                  "| corpus | config | description | test MSE | training (s) | epochs | mesh accuracy (%) |",
                  "|---|---|---|---:|---:|---:|---:|"]
        for r in rows:
            acc = "-" if r.mesh is None else _fmt(100 * r.mesh_accuracy, ".1f")
            lines.append(f"| {r.corpus} | {r.config} | {CONFIGS[r.config].description} | {_fmt(r.test_mse)} | "
                         f"{r.training_seconds:.1f} | {r.epochs} | {acc} |")
        lines.append("")
    meshed = {f"{r.corpus} / {r.config}": r.mesh for r in results if r.mesh is not None}
    if meshed:
        lines += ["## Table V: mesh accuracy per note (%)", "",
                  "Fraction of a regular latent grid whose decoded spectrum, conditioned on a note, has that "
                  "note as its chroma argmax. \"-\": the note is absent from the training corpus. The mean is "
                  "over the notes present.", "", markdown_table(meshed), ""]
    lines += ["## Figures", ""]
    for r in results:
        links = " ".join(f"![{name}]({p.relative_to(out).as_posix()})" for name, p in r.figures.items())
        lines += [f"### {r.corpus} / {r.config}", "", links, ""]
    path = out / "report.md"
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, force=True) as tmp:
        tmp.write_text("\n".join(lines))
    with atomic_path(out / "results.csv", force=True) as tmp:
        with open(tmp, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["corpus", "config", "table", "test_mse", "val_mse", "training_seconds", "epochs",
                        "mesh_accuracy", "status", "model_dir"])
            for r in results:
                w.writerow([r.corpus, r.config, CONFIGS[r.config].table, r.test_mse, r.val_mse, r.training_seconds,
                            r.epochs, "" if r.mesh is None else f"{r.mesh_accuracy:.6f}", r.status, r.model_dir])
    return path


__all__ = ["Experiment", "CONFIGS", "TABLES", "RunResult", "parse_corpus_args", "select_configs", "run_experiments",
           "write_report"]
