"""SIGINT, SIGTERM and SIGHUP for the whole length of a build.

`trio.open_signal_receiver` handles signals only inside its block. Around it,
trio's own SIGINT handler raises KeyboardInterrupt wherever the main thread
happens to be, and SIGTERM and SIGHUP kill parc outright. During the
shutdown of a build (reaping leftovers, closing the live display, writing
the state and `.parc/last-build.json`), either would leave a traceback, a
hidden cursor, an incomplete report or processes left running.

`SignalGuard` installs one handler for the three signals that never raises
once the build has started (`arm`). It records each signal and forwards it
to the executor while the executor listens (`listen`); from the second
signal on it also calls the kill actions at once (`on_repeat`), whether
the executor still listens or not. Before `arm`, the handler raises
`Interrupted`, so Ctrl-C still gives up waiting for the project lock.

A signal that was ignored when the guard was installed stays ignored, so
`nohup parc build` survives the terminal closing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    import trio

    from parc.runtime.executor import BuildResult

logger = logging.getLogger("parc.runtime")

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

PAUSE_VARIABLE = "PARC_TEST_PAUSE_AT"
"""Names the shutdown phases, separated by commas, at which parc waits for a signal; for tests."""

PAUSE_LIMIT = 30.0
"""The maximum time a test pause waits for its signal, in seconds."""

_Handler = Callable[[int, types.FrameType | None], object] | int | None


class Interrupted(KeyboardInterrupt):
    """A signal that arrived before the build started; parc exits with 128 + `signum`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class SignalGuard:
    """The handler of SIGINT, SIGTERM and SIGHUP from `install` until `restore`.

    `received` lists every signal handled since `install`, in order.
    """

    def __init__(self) -> None:
        self.received: list[int] = []
        self.armed = False
        self.on_repeat: list[Callable[[], None]] = []
        """Called from the handler at the second signal and at every later one."""
        self._previous: dict[int, _Handler] = {}
        self._listener: Callable[[int], None] | None = None

    @property
    def first(self) -> int | None:
        """The first signal received, which sets the exit code, or None."""
        return self.received[0] if self.received else None

    def install(self) -> None:
        """Handle the three signals that are not ignored; call only from the main thread."""
        for signum in HANDLED_SIGNALS:
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN:
                continue
            self._previous[signum] = previous
            signal.signal(signum, self._handle)

    def restore(self) -> None:
        """Put back the handlers that `install` replaced."""
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def arm(self) -> None:
        """Record signals from now on instead of raising `Interrupted`."""
        self.armed = True

    @contextlib.contextmanager
    def listen(self, token: trio.lowlevel.TrioToken) -> Iterator[trio.MemoryReceiveChannel[int]]:
        """Yield a channel of the signals, starting with those received before the block.

        Each signal is sent into the channel with `token.run_sync_soon`,
        which is safe to call from a signal handler. A signal that arrives
        after the block ends is only recorded.
        """
        import trio

        send, receive = trio.open_memory_channel[int](len(HANDLED_SIGNALS) * 64)

        def deliver(signum: int) -> None:
            # The channel may be closed by the time trio runs this.
            with contextlib.suppress(trio.WouldBlock, trio.ClosedResourceError):
                send.send_nowait(signum)

        def forward(signum: int) -> None:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(deliver, signum, idempotent=False)

        for signum in self.received:
            send.send_nowait(signum)
        self._listener = forward
        try:
            yield receive
        finally:
            self._listener = None
            send.close()

    def _handle(self, signum: int, frame: types.FrameType | None) -> None:
        if not self.armed:
            raise Interrupted(signum)
        self.received.append(signum)
        logger.debug("received %s", signal.Signals(signum).name)
        if len(self.received) > 1:
            for action in self.on_repeat:
                action()
        if self._listener is not None:
            self._listener(signum)


_active: SignalGuard | None = None


def active_guard() -> SignalGuard | None:
    """Return the guard that handles the signals now, or None."""
    return _active


@contextlib.contextmanager
def guard_signals() -> Iterator[SignalGuard | None]:
    """Install a `SignalGuard` for the block, or reuse the one that is installed.

    Yields None outside the main thread, where Python cannot set handlers.
    """
    global _active
    if _active is not None:
        yield _active
        return
    if threading.current_thread() is not threading.main_thread():
        yield None
        return
    guard = SignalGuard()
    guard.install()
    _active = guard
    try:
        yield guard
    finally:
        _active = None
        guard.restore()


def with_late_signal(result: BuildResult | None) -> BuildResult | None:
    """Mark `result` as interrupted when a signal arrived after its steps ended.

    The executor sets `interrupted_by` only for a signal that came while it
    ran. A later one, during the shutdown, still means that the user asked
    parc to stop, so the exit code reports it, and a script that runs
    `parc build && deploy` does not deploy.

    NOTE: a signal after the report is written (while the database closes
    and the lock is released) is recorded but changes no exit code.
    """
    guard = _active
    if result is None or result.interrupted_by is not None or guard is None:
        return result
    if guard.first is None:
        return result
    return attrs.evolve(result, interrupted_by=guard.first)


def pause_for_tests(phase: str) -> None:
    """Wait at `phase` of the shutdown until the next signal, when `PARC_TEST_PAUSE_AT` names it.

    parc creates the file `parc-paused-PHASE` in its working directory when
    it starts to wait, so a test can tell when to send the signal. The wait
    blocks the thread, trio's loop included, and ends after `PAUSE_LIMIT`
    seconds without a signal.
    """
    phases = os.environ.get(PAUSE_VARIABLE)
    if not phases or phase not in phases.split(","):
        return
    guard = _active
    seen = len(guard.received) if guard is not None else 0
    Path(f"parc-paused-{phase}").touch()
    deadline = time.monotonic() + PAUSE_LIMIT
    while time.monotonic() < deadline:
        if guard is not None and len(guard.received) > seen:
            return
        time.sleep(0.01)
