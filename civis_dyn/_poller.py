"""The shared poller: one scheduling thread for every future of the process.

A :class:`SharedPoller` keeps a heap of ``(next poll time, task)`` and a single
daemon thread that sleeps until the earliest task is due. Due tasks are handed
to a small, fixed pool of daemon *worker* threads that make the HTTP calls, so
a slow answer for one run does not delay the others and the number of threads
never depends on the number of futures: 1,000 futures cost one scheduling
thread plus at most ``workers`` HTTP threads (none with ``workers=0``, where the
scheduling thread polls sequentially).

A task is any object with a ``poll_once()`` method that performs one poll and
returns the delay in seconds until the next one, or None when it is finished.
The heap's lock is held only to push and pop entries: never across a network
call, never while a task runs.

All threads are started on first use and are daemons, so an idle poller costs
nothing and never keeps the interpreter alive. After :func:`os.fork` the child
gets a fresh, empty poller (the parent's threads do not exist there).
"""

import heapq
import itertools
import logging
import os
import threading
import time
from collections import deque

from ._errors import ArgumentValueError

__all__ = ["SharedPoller", "in_poller_thread", "shared_poller"]

log = logging.getLogger("civis_dyn.futures")

#: HTTP worker threads of the process-wide poller (env ``CIVIS_DYN_POLL_WORKERS``).
DEFAULT_WORKERS = 8


class SharedPoller:
    """Schedules ``task.poll_once()`` calls for many tasks with few threads.

    Parameters
    ----------
    workers : int, optional
        HTTP worker threads (at most; started only when there is work).
        ``0`` makes the scheduling thread run the polls itself, one by one.
    clock : callable, optional
        Monotonic clock in seconds (default :func:`time.monotonic`).
    name : str, optional
        Prefix of the threads' names.
    """

    def __init__(self, workers=DEFAULT_WORKERS, *, clock=time.monotonic, name="civis_dyn-poller"):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ArgumentValueError(f"SharedPoller(): 'workers' must be an int >= 0, not {workers!r}")
        self._clock = clock
        self._name = name
        self._max_workers = workers
        lock = threading.Lock()
        self._condition = threading.Condition(lock)       # the heap changed
        self._work_available = threading.Condition(lock)  # tasks wait for a worker
        self._heap = []                  # (due, sequence, task)
        self._sequence = itertools.count()
        self._ready = deque()            # due tasks waiting for a worker
        self._scheduler = None
        self._workers = []
        self._idle_workers = 0
        self._polls = 0

    # -- public -----------------------------------------------------------
    def schedule(self, task, delay=0.0):
        """Poll ``task`` after ``delay`` seconds (and then as it asks)."""
        with self._condition:
            due = self._clock() + max(0.0, float(delay))
            earliest = not self._heap or due < self._heap[0][0]
            heapq.heappush(self._heap, (due, next(self._sequence), task))
            if self._scheduler is None:
                self._scheduler = self._start_thread(self._schedule_loop, "")
            elif earliest:
                self._condition.notify_all()

    @property
    def threads(self):
        """The threads this poller has started (scheduling thread first)."""
        with self._condition:
            return ([self._scheduler] if self._scheduler else []) + list(self._workers)

    @property
    def pending(self):
        """How many tasks wait for their next poll or for a worker."""
        with self._condition:
            return len(self._heap) + len(self._ready)

    @property
    def polls(self):
        """How many polls were started so far."""
        return self._polls

    def __repr__(self):
        return (f"<SharedPoller workers={self._max_workers} threads={len(self.threads)} "
                f"pending={self.pending} polls={self._polls}>")

    # -- threads ----------------------------------------------------------
    def _start_thread(self, target, suffix):
        def marked():
            _thread_marks.poller = True
            target()

        thread = threading.Thread(target=marked, name=self._name + suffix, daemon=True)
        thread.start()
        return thread

    def _schedule_loop(self):
        condition = self._condition
        while True:
            with condition:
                while True:
                    now = self._clock()
                    if self._heap and self._heap[0][0] <= now:
                        break
                    timeout = (self._heap[0][0] - now) if self._heap else None
                    condition.wait(timeout)
                due = []
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap)[2])
                self._polls += len(due)
                if self._max_workers:
                    self._ready.extend(due)
                    self._wake_workers(len(due))
                    continue
            for task in due:  # sequential mode: no lock held while polling
                self._run(task)

    def _wake_workers(self, count):
        """Hand ``count`` new tasks to the workers (called with the lock held)."""
        self._work_available.notify(count)
        missing = min(count - self._idle_workers, self._max_workers - len(self._workers))
        for _ in range(max(0, missing)):
            suffix = f"-worker-{len(self._workers) + 1}"
            self._workers.append(self._start_thread(self._work_loop, suffix))

    def _work_loop(self):
        work_available = self._work_available
        while True:
            with work_available:
                while not self._ready:
                    self._idle_workers += 1
                    try:
                        work_available.wait()
                    finally:
                        self._idle_workers -= 1
                task = self._ready.popleft()
            self._run(task)

    def _run(self, task):
        try:
            delay = task.poll_once()
        except BaseException:  # a task must never kill a poller thread
            log.exception("civis_dyn poller: %r failed while polling; it is no longer polled", task)
            return
        if delay is not None:
            self.schedule(task, delay)


_thread_marks = threading.local()


def in_poller_thread():
    """True in a thread started by a :class:`SharedPoller`."""
    return getattr(_thread_marks, "poller", False)


_shared = None
_shared_lock = threading.Lock()


def _workers_from_env():
    text = os.environ.get("CIVIS_DYN_POLL_WORKERS")
    if not text:
        return DEFAULT_WORKERS
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        log.warning("ignoring CIVIS_DYN_POLL_WORKERS=%r (not an int >= 0)", text)
        return DEFAULT_WORKERS
    return value


def shared_poller():
    """Return the process-wide :class:`SharedPoller` (made on first use)."""
    global _shared
    poller = _shared
    if poller is None:
        with _shared_lock:
            if _shared is None:
                _shared = SharedPoller(_workers_from_env())
            poller = _shared
    return poller


def _forget_after_fork():
    global _shared, _shared_lock
    _shared = None
    _shared_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
