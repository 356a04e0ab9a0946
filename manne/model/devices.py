"""Where training runs: the thread pools sized once for the machine, and the devices it uses.

Thread pools. TensorFlow's two pools (intra-op: the threads one matmul splits over; inter-op: ops
run side by side) are sized from the cores this process may use, once, before TensorFlow starts
(:func:`size_threads`, through ``TF_NUM_INTRAOP_THREADS`` and ``TF_NUM_INTEROP_THREADS``: the
values it reads at start-up). NumPy's BLAS pool is held to one thread while Keras trains
(:func:`blas_limited`): the batches are gathered by indexing, not BLAS, and idle BLAS threads that
spin for work only take the cores from TensorFlow's.

Devices. TensorFlow uses a GPU when it sees one. ``devices=N`` trains on N of them at once with
:class:`tf.distribute.MirroredStrategy` (each batch split across the devices, gradients summed
across them): N GPUs, or, for tests, N logical CPU devices made with
``tf.config.set_logical_device_configuration`` before TensorFlow starts (:func:`split_cpu`).
"""

from __future__ import annotations

import contextlib
import os

from manne.errors import ParameterError

__all__ = ["size_threads", "blas_limited", "split_cpu", "strategy", "cores"]


def cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS
        return max(1, os.cpu_count() or 1)


def size_threads(threads: int | None = None) -> int:
    """Size TensorFlow's pools for ``threads`` cores (default: :func:`cores`) before it starts.

    Intra-op gets every core, inter-op at most 2 (a dense autoencoder has little to run side by
    side). Values already in the environment win. Returns the intra-op size. Without effect once
    TensorFlow has started (its pools are fixed then).
    """
    n = int(threads or cores())
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(n))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", str(min(2, n)))
    return int(os.environ["TF_NUM_INTRAOP_THREADS"])


@contextlib.contextmanager
def blas_limited(threads: int = 1):
    """NumPy's BLAS pool held to ``threads`` for the block (threadpoolctl), then restored."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of scikit-learn/librosa, normally present
        yield
        return
    with threadpool_limits(limits=threads, user_api="blas"):
        yield


def split_cpu(n: int) -> None:
    """Show TensorFlow the CPU as ``n`` logical devices (for testing several devices without GPUs).

    Raises
    ------
    RuntimeError
        If TensorFlow has already started (call this before anything else uses it).
    """
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)])


def strategy(devices: int = 1):
    """The :mod:`tf.distribute` strategy that trains on ``devices`` devices.

    1: TensorFlow's default (its first GPU, else the CPU). More: a ``MirroredStrategy`` over the
    first ``devices`` GPUs, or, where TensorFlow sees no GPU, over as many logical CPU devices.

    Raises
    ------
    ParameterError
        If ``devices`` is below 1 or more than TensorFlow sees.
    """
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise ParameterError(f"devices={devices!r} must be a positive integer")
    import tensorflow as tf

    if devices == 1:
        return tf.distribute.get_strategy()
    gpus = tf.config.list_logical_devices("GPU")
    pool = gpus or tf.config.list_logical_devices("CPU")
    if devices > len(pool):
        kind = "GPU" if gpus else "CPU"
        raise ParameterError(f"--devices {devices}: TensorFlow sees {len(pool)} {kind} device{'s' * (len(pool) != 1)}"
                             f"{'' if gpus else ' and no GPU'}; use at most {len(pool)}")
    return tf.distribute.MirroredStrategy([d.name for d in pool[:devices]])
