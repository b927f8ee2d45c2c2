"""One polling step for runs, shared by futures, blocking waits and the demo.

A :class:`RunWatch` holds what polling one run has seen so far (the last run,
its state, the backoff, the transient faults in a row). :meth:`RunWatch.step`
does one poll: ``get()`` -> state -> ``on_change(run)`` when the state changed
-> outcome, and says how long to wait before the next poll. It never sleeps
and keeps no thread: :class:`~civis_dyn.CivisFuture` drives it from the shared
poller, :func:`wait_until_final` from the calling thread.

A poll that fails with a transient fault (a body that is not the JSON it
should be, a connection error or timeout, HTTP 429/5xx after the transport's
own retries) is retried on the next step, up to :data:`FAULTS_IN_A_ROW`
faults in a row; the next fault, or any other error, is raised.
"""

import logging
import time
from typing import NamedTuple

from ._errors import (
    CivisAPIError,
    CivisAPIKeyError,
    CivisConnectionError,
    CivisRunTimeoutError,
    InvalidResponseError,
)
from ._effects import Call, Sleep, run_blocking
from ._response import Response

__all__ = ["Backoff", "FAULTS_IN_A_ROW", "RunWatch", "Step", "as_response", "delay_before_next",
           "is_transient", "state_of", "until_final", "wait_until_final"]

log = logging.getLogger("civis_dyn.futures")

#: The default schedule: first delay, factor, ceiling (seconds).
FIRST_INTERVAL = 1.0
BACKOFF_FACTOR = 1.2
MAX_INTERVAL = 15.0
#: Transient faults in a row a poll survives (the next one is raised).
FAULTS_IN_A_ROW = 3
#: Statuses worth polling again after the transport's own retries gave up.
_TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class Backoff:
    """Delays between polls: fixed, or 1 s growing by 1.2x up to 15 s.

    Parameters
    ----------
    fixed : float, optional
        Seconds between polls; None for the growing schedule.
    """

    __slots__ = ("fixed", "current")

    def __init__(self, fixed=None):
        self.fixed = fixed
        self.current = FIRST_INTERVAL

    def next(self):
        """The next delay (seconds)."""
        if self.fixed is not None:
            return self.fixed
        delay = self.current
        self.current = min(MAX_INTERVAL, self.current * BACKOFF_FACTOR)
        return delay

    def reset(self):
        """Start the growing schedule again from 1 s."""
        self.current = FIRST_INTERVAL


def as_response(value):
    """A :class:`Response` from what an API method returned (any ``return_type``)."""
    if isinstance(value, Response) or value is None:
        return value
    if isinstance(value, dict):
        return Response(value)
    json_method = getattr(value, "json", None)
    if callable(json_method) and hasattr(value, "status_code"):  # return_type="raw"
        data = json_method() if getattr(value, "content", b"") else {}
        return Response(data if isinstance(data, dict) else {}, headers=value.headers)
    return value


def field_of(run, name):
    """``run[name]`` of a Response, a dict or any object with attributes (None if absent)."""
    if run is None:
        return None
    getter = getattr(run, "get", None)
    return getter(name) if callable(getter) else getattr(run, name, None)


def state_of(run):
    """The run's state, lower-cased (None when it has none)."""
    state = field_of(run, "state")
    return state.lower() if isinstance(state, str) else state


def is_transient(exc):
    """True for a polling error worth another poll (see the module notes)."""
    if isinstance(exc, (InvalidResponseError, CivisConnectionError)):
        return True
    return (isinstance(exc, CivisAPIError) and not isinstance(exc, CivisAPIKeyError)
            and getattr(exc, "status_code", None) in _TRANSIENT_STATUSES)


class Step(NamedTuple):
    """What one poll found.

    Attributes
    ----------
    run : Response or None
        The run as last read (the previous one after a transient fault).
    state : str or None
        Its state.
    outcome : str or None
        ``"succeeded"``, ``"failed"``, ``"cancelled"``, or None (poll again).
    delay : float or None
        Seconds until the next poll (None when final).
    fault : Exception or None
        The transient fault this poll survived, if any.
    """

    run: object
    state: object
    outcome: object
    delay: object
    fault: object = None


_NEVER = object()


class RunWatch:
    """The state of polling one run.

    Parameters
    ----------
    get : callable
        ``get()`` returns the run (an API method's answer of any return type).
    states : civis_dyn.spec._runs.RunStates
        What the run's states mean.
    polling_interval : float, optional
        Seconds between polls; default 1 s growing by 1.2x up to 15 s.
    faults_in_a_row : int, optional
        Transient faults survived in a row (default :data:`FAULTS_IN_A_ROW`).
    """

    __slots__ = ("get", "states", "backoff", "last_run", "_last_state", "faults",
                 "faults_in_a_row")

    def __init__(self, get, states, polling_interval=None, faults_in_a_row=FAULTS_IN_A_ROW):
        self.get = get
        self.states = states
        self.backoff = Backoff(polling_interval)
        self.last_run = None
        self._last_state = _NEVER
        self.faults = 0
        self.faults_in_a_row = faults_in_a_row

    @property
    def state(self):
        """The last state seen (None before the first poll)."""
        return None if self._last_state is _NEVER else self._last_state

    def step(self, on_change=None):
        """Poll once; call ``on_change(run)`` when the state changed; return a :class:`Step`.

        Raises
        ------
        Exception
            What ``get()`` raised, unless it was a transient fault within the
            budget; what ``on_change`` raised.
        """
        return run_blocking(self.poll(on_change))

    def poll(self, on_change=None):
        """The steps of :meth:`step` (see :mod:`civis_dyn._effects`): the async client awaits
        ``get()``; the :class:`Step` is the generator's value."""
        try:
            run = yield Call(self.get)
        except Exception as exc:
            return self.failed(exc)
        return self.read(run, on_change)

    def failed(self, exc):
        """The :class:`Step` of a poll whose ``get()`` raised ``exc`` (re-raised unless transient).

        With :meth:`read`, the two halves of :meth:`step`.
        """
        self.faults += 1
        if not is_transient(exc) or self.faults > self.faults_in_a_row:
            raise exc
        log.info("polling a run failed (%s: %s); polling again (%d of %d faults in a row)",
                 type(exc).__name__, exc, self.faults, self.faults_in_a_row)
        return Step(self.last_run, self.state, None, self.backoff.next(), exc)

    def read(self, run, on_change=None):
        """The :class:`Step` of a poll that read ``run`` (see :meth:`failed`)."""
        run = as_response(run)
        self.faults = 0
        self.last_run = run
        state = state_of(run)
        if state != self._last_state:
            self._last_state = state
            if on_change is not None:
                on_change(run)
        outcome = self.states.outcome(state)
        return Step(run, state, outcome, None if outcome else self.backoff.next())

    def restart(self, get):
        """Watch another run (a retry) with the same settings, from a fresh schedule."""
        self.get = get
        self.backoff.reset()
        self.last_run = None
        self._last_state = _NEVER
        self.faults = 0


def wait_until_final(watch, *, job_id=None, run_id=None, timeout=None, on_change=None,
                     clock=time.monotonic, sleep=time.sleep):
    """Poll ``watch`` in the calling thread until its run is final; return the final :class:`Step`.

    Parameters
    ----------
    watch : RunWatch
    timeout : float, optional
        Seconds to wait at most (default: no limit).
    on_change : callable, optional
        ``on_change(run)`` on every change of state; what it raises propagates.
    job_id, run_id : int, optional
        Which run this is (for the timeout's message and attributes).

    Raises
    ------
    CivisRunTimeoutError
        Not final after ``timeout`` seconds (``.response``: the last known state).
    """
    return run_blocking(until_final(watch, job_id=job_id, run_id=run_id, timeout=timeout,
                                    on_change=on_change, clock=clock), sleep=sleep)


def until_final(watch, *, job_id=None, run_id=None, timeout=None, on_change=None,
                clock=time.monotonic):
    """The steps of :func:`wait_until_final` (see :mod:`civis_dyn._effects`).

    Each poll is ``yield Call(watch.get)`` (awaited on the async client); the
    final :class:`Step` is the generator's value.
    """
    deadline = None if timeout is None else clock() + timeout
    while True:
        step = yield from watch.poll(on_change)
        if step.outcome is not None:
            return step
        yield Sleep(delay_before_next(step, deadline, clock, job_id=job_id, run_id=run_id,
                                      timeout=timeout))


def delay_before_next(step, deadline, clock=time.monotonic, *, job_id=None, run_id=None,
                      timeout=None):
    """Seconds to wait before the next poll of a run not yet final (pure but for ``clock``).

    ``step.delay``, cut to what is left before ``deadline`` (a ``clock()`` time, or None).

    Raises
    ------
    CivisRunTimeoutError
        When ``deadline`` has passed (``.response``: the last known state).
    """
    delay = step.delay
    if deadline is not None:
        remaining = deadline - clock()
        if remaining <= 0:
            raise CivisRunTimeoutError(
                f"job {job_id} run {run_id} not done after {timeout} s "
                f"(last known state: {step.state!r})", response=step.run, job_id=job_id,
                run_id=run_id, timeout=timeout)
        delay = min(delay, remaining)
    return delay
