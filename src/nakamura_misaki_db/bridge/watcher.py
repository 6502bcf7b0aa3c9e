"""A thread that watches the run's own session from a connection of its own, while a block runs.

The bridge's two watchers (the lock-wait reporter in ``progress`` and the concurrent build's bound in
``bounded``) poll ``pg_stat_activity`` / ``pg_locks`` about the run's backend: the run's connection is
busy waiting, so only another one can see it. A watcher must never break the run: it gives up
silently when it cannot connect or its queries fail (the run's own lock_timeout still bounds it).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, Self


class SessionWatcher:
    def __init__(self, connect: Callable[[], Any], backend_pid: int, interval: float) -> None:
        self.connect = connect
        self.pid = backend_pid
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def polls(self) -> Any:
        """Yields once per interval until the block ends."""
        while not self._stop.wait(self.interval):
            yield

    def watch(self, conn: Any) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        try:
            conn = self.connect()
        except Exception:
            return
        try:
            self.watch(conn)
        except Exception:
            pass
        finally:
            with contextlib.suppress(Exception):
                conn.close()
