"""Control work that touches the disk or loads models, on its own thread, so the OSC thread never
waits behind it: a fader moved while a show loads takes effect at once.

Each worker runs one kind of job (show switches, preset files, map reloads). `latest_wins`
workers run the newest waiting job and drop the older ones once it succeeds (two show switches in
a row: the second is the one the VJ wants); if the newest fails (a corrupt bundle), the one asked
for before it runs instead, so the last *valid* request is what ends up playing. The others keep
a short queue in order and refuse past it. When
a job ends, its reply (or `/latentvj/error`) goes to whoever asked, through the `reply` callback
the request came with.
"""
from __future__ import annotations

import collections
import logging
import threading
from dataclasses import dataclass
from typing import Callable

from .log_limits import ErrorLog
from .state import ControlError

log = logging.getLogger("latentvj.control")

Reply = Callable[[tuple], None]  # sends (address, *args) to whoever asked; None: nobody to tell


@dataclass
class _Job:
    seq: int
    what: str
    run: Callable[[], tuple | None]  # the reply on success; raises ControlError
    reply: Reply | None


class SlowWorker:
    def __init__(self, name: str, latest_wins: bool, error_address: str, depth: int = 16) -> None:
        self.name = name
        self.error_address = error_address
        self.latest_wins = latest_wins
        self.depth = depth
        self._jobs: collections.deque[_Job] = collections.deque()  # latest-wins: at most depth, the oldest answered and dropped
        self._seq = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._busy = False
        self._errors = ErrorLog(log)
        self.done = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._loop, name=f"control-{name}", daemon=True)
        self._thread.start()

    def submit(self, what: str, run: Callable[[], tuple | None], reply: Reply | None) -> None:
        """Queue a job; raises ControlError when a plain queue is full (latest-wins drops its oldest)."""
        pushed_out = None
        with self._cond:
            if not self.latest_wins and len(self._jobs) >= self.depth:
                raise ControlError(f"{what}: {len(self._jobs)} {self.name} jobs are already waiting; try again")
            if len(self._jobs) == self.depth:
                pushed_out = self._jobs.popleft()
            self._seq += 1
            self._jobs.append(_Job(self._seq, what, run, reply))
            self._cond.notify()
        if pushed_out is not None:
            self._superseded([pushed_out], what)

    def idle(self) -> bool:
        with self._cond:
            return not self._jobs and not self._busy

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                job = self._jobs.pop() if self.latest_wins else self._jobs.popleft()
                self._busy = True
            try:
                out = job.run()
                self.done += 1
                if self.latest_wins:
                    self._drop_older(job)
            except ControlError as exc:
                self.failed += 1
                log.warning("%s", exc)
                out = (self.error_address, str(exc))
            except Exception as exc:  # a bug must not end the worker (and with it every later switch)
                self.failed += 1
                self._errors.report(exc, f"{self.name}: unexpected error in {job.what}")
                out = (self.error_address, f"{job.what}: internal error ({type(exc).__name__}); see the daemon's log")
            finally:
                with self._cond:
                    self._busy = False
            if out is not None:
                self._answer(job, out)

    def _answer(self, job: _Job, out: tuple) -> None:
        if job.reply is None:
            return
        try:
            job.reply(out)
        except OSError:
            pass  # the requester's network went away; the work is done all the same
        except Exception as exc:  # a reply that cannot be sent must not end the worker either
            self._errors.report(exc, f"{self.name}: could not reply to {job.what}")

    def _drop_older(self, done: _Job) -> None:
        """`done` succeeded: what was asked before it is superseded."""
        with self._cond:
            older = [j for j in self._jobs if j.seq < done.seq]
            for j in older:
                self._jobs.remove(j)
        if older:
            self._superseded(older, done.what)

    def _superseded(self, jobs: list[_Job], by: str) -> None:
        """Every request gets an answer: one overtaken by a newer one is told so, never left waiting."""
        log.info("%s: %s superseded %s", self.name, by, ", ".join(j.what for j in jobs))
        for j in jobs:
            self._answer(j, (self.error_address, f"{j.what}: not done, superseded by {by}, asked for after it"))

    def stop(self, timeout: float = 2.0) -> None:
        with self._cond:
            self._stopping = True
            self._jobs.clear()
            self._cond.notify()
        self._thread.join(timeout)
