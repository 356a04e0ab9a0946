"""Ctrl-C while training: a SIGINT handler that only sets a flag, and a Keras callback that stops.

Python's own handler raises :class:`KeyboardInterrupt` wherever the main thread happens to be. In
TensorFlow that is often inside C++ code calling back into Python (``tf.nest``, an import), where
the interrupt surfaces as another error (``SystemError: ... returned a result with an exception
set``, then a ``TypeError``) and a traceback instead of a clean stop. So while ``manne train`` runs,
:class:`CtrlC` replaces the handler with one that only counts the presses, and
:func:`stop_on_ctrl_c`, a Keras callback, raises :class:`Interrupted` (a ``KeyboardInterrupt``) from
plain Python at the next batch end (training or validation) or epoch boundary; the training loop
then writes the best model so far, as it did for a ``KeyboardInterrupt``. A second Ctrl-C stops the
process at once (exit 130), as a kill would: every file is renamed into place whole, so the
checkpoint stays resumable and the old model of a ``--force`` run stays as it was.

The handler lives only in the main thread and only inside ``with CtrlC():``; the callback finds it
through :func:`signal.getsignal`, so no state is kept in this module.
"""

from __future__ import annotations

import os
import signal
import threading

__all__ = ["Interrupted", "CtrlC", "stop_on_ctrl_c", "installed", "pressed"]

_FIRST = b"\nCtrl-C: stopping after this batch (Ctrl-C again stops at once)\n"
_SECOND = b"\nCtrl-C again: stopped at once\n"


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, raised where training can stop cleanly (a batch end, an epoch boundary)."""


class CtrlC:
    """Count Ctrl-C presses for the block instead of raising wherever the program is.

    Attributes
    ----------
    pressed : int
        Presses so far. The first only sets this; the second writes one line and ends the process
        with status 130 (``os._exit``: no clean-up that could hang or raise).
    """

    def __init__(self):
        self.pressed = 0
        self._previous = None

    def __enter__(self) -> "CtrlC":
        # (only in the main thread, and not where SIGINT is ignored, as a background job's is: Python
        # itself leaves an ignored SIGINT ignored)
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handle(self, signum, frame) -> None:
        self.pressed += 1
        try:
            os.write(2, _FIRST if self.pressed == 1 else _SECOND)  # (not print: the handler may interrupt a print)
        except OSError:  # no stderr: say nothing
            pass
        if self.pressed > 1:
            os._exit(130)

    def check(self) -> None:
        """Raise :class:`Interrupted` if Ctrl-C was pressed."""
        if self.pressed:
            raise Interrupted


def installed() -> CtrlC | None:
    """The :class:`CtrlC` whose handler is in place, or None (Python's own handler raises at once)."""
    handler = signal.getsignal(signal.SIGINT)
    owner = getattr(handler, "__self__", None)
    return owner if isinstance(owner, CtrlC) else None


def pressed() -> int:
    """Ctrl-C presses counted by the :class:`CtrlC` in place (0 without one)."""
    ctrl_c = installed()
    return ctrl_c.pressed if ctrl_c is not None else 0


def stop_on_ctrl_c():
    """A Keras callback that raises :class:`Interrupted` at the first batch end or epoch boundary
    after a Ctrl-C (and does nothing without a :class:`CtrlC` in place).

    Put it last in the callback list, so an epoch that ended before the press is recorded and saved
    by the callbacks before it. (Built here, not at import, so that importing this module does not
    load Keras: the command installs the handler before anything heavy loads.)
    """
    from manne.model.network import keras

    class StopOnCtrlC(keras.callbacks.Callback):
        def _check(self, *args, **kwargs) -> None:
            if pressed():
                raise Interrupted

        on_train_begin = on_epoch_begin = on_epoch_end = _check
        on_train_batch_end = on_test_begin = on_test_batch_end = _check

    return StopOnCtrlC()
