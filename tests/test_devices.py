"""Training on several devices (``--devices``, ``tf.distribute.MirroredStrategy``), tested on two
logical CPU devices: the same corpus, seed and schedule give the same model as one device, within
float tolerance (each batch is split in two and the halves' gradients summed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from manne.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys
import numpy as np
from manne.model.devices import split_cpu
split_cpu(2)  # before TensorFlow starts
from manne.corpus import load_corpus
from manne.model.config import ModelConfig, TrainConfig
from manne.model.network import build, dense_weights
from manne.model.train import train
corpus_path, out = sys.argv[1], sys.argv[2]
corpus = load_corpus(corpus_path)
cfg = ModelConfig(latent=2, max_width=64, n_bins=corpus.analysis.n_bins)
start = build(cfg, seed=0)[0]  # the weights both runs start from
n = len(cfg.hidden) + 1
np.savez(f"{out}/start.npz", *[a for part in (dense_weights(start, "enc", n), dense_weights(start.get_layer("decoder"), "dec", n))
                                for layer in part for a in layer])
res = {}
for n_dev in (1, 2):
    m = train(corpus, corpus_path, f"{out}/d{n_dev}", model_cfg=cfg,
              train_cfg=TrainConfig(epochs=3, batch=64, lr=1e-3, min_gain=0), progress=False, devices=n_dev)
    res[n_dev] = m["val_mse"]
try:
    train(corpus, corpus_path, f"{out}/d3", model_cfg=ModelConfig(latent=2, max_width=64),
          train_cfg=TrainConfig(epochs=1), progress=False, devices=3)
except Exception as exc:
    res["three"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(res))
"""


def test_two_logical_devices_train_the_model_one_device_does(tiny_corpus, tmp_path):
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tiny_corpus), str(tmp_path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    with np.load(tmp_path / "d1" / "weights.npz") as one, np.load(tmp_path / "d2" / "weights.npz") as two, \
            np.load(tmp_path / "start.npz") as start:
        assert one.files == two.files
        w0 = [start[f"arr_{i}"] for i in range(len(start.files))]
        w1 = [one[k].astype(np.float64) for k in sorted(one.files, key=_layer_order)]
        w2 = [two[k].astype(np.float64) for k in sorted(two.files, key=_layer_order)]
    moved = np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(w1, w0)))  # how far training took the weights
    apart = np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(w2, w1)))  # how far apart the two runs ended
    assert moved > 0.1 and apart < 0.02 * moved, (moved, apart)
    assert res["2"] == pytest.approx(res["1"], rel=0.02)
    assert res["three"] == "ParameterError: --devices 3: TensorFlow sees 2 CPU devices and no GPU; use at most 2"


def _layer_order(key: str):
    part, i, kind = key.split("/")  # encoder/0/W
    return (part != "encoder", int(i), kind != "W")


def test_more_devices_than_tensorflow_sees_is_one_line():
    from manne.model.devices import strategy

    with pytest.raises(ParameterError, match="--devices 2: TensorFlow sees 1 CPU device and no GPU; use at most 1"):
        strategy(2)
    with pytest.raises(ParameterError, match="devices=0 must be a positive integer"):
        strategy(0)
