"""``retries=tenacity.Retrying(...)``: civis-python's way to set retries, read without tenacity.

civis-python 2.10 takes a :class:`tenacity.Retrying` and uses its ``stop``
and ``wait`` strategies, while deciding itself *which* answers are retried
(429/502/503/504 for idempotent verbs, 429/503 for POST) and always
re-raising the last error. :class:`TenacityRetryPolicy` does the same inside
civis_dyn's transport: it is a :class:`~civis_dyn.RetryPolicy` whose stop
and wait decisions are asked of the given object. Nothing imports tenacity:
any object with callable ``stop`` and ``wait`` attributes and a ``copy``
method (a ``Retrying``'s shape) is accepted.

The strategies are called with a small stand-in for tenacity's
``RetryCallState`` carrying ``attempt_number``, ``seconds_since_start``,
``start_time``, ``idle_for`` and ``retry_object``; strategies that read the
outcome (the response) see None there.
"""

from dataclasses import dataclass, field

from ._pipeline import RetryPolicy

__all__ = ["TenacityRetryPolicy", "is_tenacity_retrying"]


def is_tenacity_retrying(obj):
    """True for an object shaped like :class:`tenacity.Retrying` (duck-typed)."""
    return (callable(getattr(obj, "stop", None)) and callable(getattr(obj, "wait", None))
            and callable(getattr(obj, "copy", None)) and not isinstance(obj, RetryPolicy))


class _CallState:
    """The part of tenacity's ``RetryCallState`` that stop and wait strategies read."""

    def __init__(self, retrying, attempt_number, seconds_since_start):
        self.retry_object = retrying
        self.attempt_number = attempt_number
        self.seconds_since_start = seconds_since_start
        self.start_time = 0.0
        self.outcome_timestamp = seconds_since_start
        self.idle_for = 0.0
        self.outcome = None
        self.next_action = None
        self.fn = None
        self.args = ()
        self.kwargs = {}


@dataclass(frozen=True)
class TenacityRetryPolicy(RetryPolicy):
    """A :class:`~civis_dyn.RetryPolicy` that asks a ``tenacity.Retrying`` when to stop and how long to wait.

    Parameters
    ----------
    retrying : tenacity.Retrying
        Its ``stop(state)`` decides whether attempt ``n`` (after ``s``
        seconds) may be followed by another; its ``wait(state)`` gives the
        delay, raised to the server's ``Retry-After`` when that is longer.
        ``retrying.enabled = False`` turns retries off. Which statuses are
        retried is civis_dyn's (and civis-python's) fixed choice.
    """

    retrying: object = field(default=None, compare=False)

    @classmethod
    def from_retrying(cls, retrying):
        """The policy for ``retrying`` (a copy is kept, as civis-python copies it)."""
        # the bounds are the Retrying's stop, asked in allows(); these never bind
        return cls(retrying=retrying.copy(), max_attempts=1 << 30, max_elapsed=1e15)

    def allows(self, attempt, elapsed, wait):
        """True when attempt ``attempt`` may be followed by another one."""
        if getattr(self.retrying, "enabled", True) is False:
            return False
        return not self.retrying.stop(_CallState(self.retrying, attempt, elapsed))

    def delay(self, attempt, retry_after=None):
        """Seconds to wait before attempt ``attempt + 1``."""
        wait = float(self.retrying.wait(_CallState(self.retrying, attempt, None)) or 0.0)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait
