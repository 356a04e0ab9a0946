"""BLAS threads for the real-time decode, set through threadpoolctl.

A multi-threaded BLAS splits a large matrix-vector product over all cores. On a busy machine a
helper thread may wait for a time slice, which turns a 0.2 ms decode into tens of milliseconds: a
drop-out. A real-time decode is better off on one thread, so :class:`~manne.synth.instrument.Synth`
calls :func:`limit_blas_threads` with its ``blas_threads`` (1 by default) when it is built.

threadpoolctl finds the BLAS libraries loaded in the process (OpenBLAS, MKL, BLIS) on Linux,
macOS and Windows and sets each one's thread pool. Apple's Accelerate, which NumPy's macOS arm64
wheels may use, has no such setting: there the call finds nothing and changes nothing.
"""

from __future__ import annotations

import numbers

from manne.errors import ParameterError

__all__ = ["limit_blas_threads", "blas_threads"]


def limit_blas_threads(n: int) -> bool:
    """Cap every BLAS library loaded in the process (NumPy's among them) at ``n`` threads.

    The setting is process-wide and lasts (it is not undone when an engine is dropped).

    Returns
    -------
    ok : bool
        Whether a BLAS library was found and set.

    Raises
    ------
    ParameterError
        If ``n`` is not a positive integer.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ParameterError(f"blas_threads={n!r} must be a positive integer (or None to leave BLAS alone)")
    from threadpoolctl import threadpool_limits

    if not blas_threads():
        return False
    threadpool_limits(limits=int(n), user_api="blas")
    return True


def blas_threads() -> dict[str, int]:
    """Threads of each loaded BLAS library: ``{file path: num_threads}``."""
    from threadpoolctl import threadpool_info

    return {d["filepath"]: int(d["num_threads"]) for d in threadpool_info() if d.get("user_api") == "blas"}
