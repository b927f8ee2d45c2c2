"""Logic written once, run blocking or awaited: generators of effects and their two drivers.

A feature that talks to the API (a convenience, a lookup, waiting for a run,
following its logs) is written as a generator that *yields what it needs
done* and gets the answer back::

    def _get_name(client, id):
        job = yield Call(client.jobs.get, id)      # an API call
        yield Sleep(1.0)                           # a pause
        return job.name

:func:`run_blocking` performs the effects in the calling thread
(``client.jobs.get(id)``, :func:`time.sleep`); :func:`run_async` awaits them
(``await client.jobs.get(id)``, :func:`asyncio.sleep`). So the blocking and
the async client share every decision and differ only in these two small
loops, as :mod:`civis_dyn._pipeline`'s ``attempts`` is shared by the two
request drivers. An exception an effect raises is thrown into the generator
at its ``yield``, where it can be caught as if the call had raised it.

Effects
-------
:class:`Call`
    ``fn(*args, **kwargs)``; awaited when it returns an awaitable.
:class:`Collect`
    Every item of the iterator ``fn(*args, **kwargs)`` returns, as a list
    (``async for`` over an async one: one request per page).
:class:`Sleep`
    Wait ``seconds``.
:class:`Emit`
    Hand ``value`` to whoever iterates (:func:`iterate_blocking`,
    :func:`iterate_async`); the generator goes on when the next item is asked for.
"""

import time

# asyncio and inspect are imported by the async driver when it runs: building a
# blocking client (which imports this module) loads neither

__all__ = ["Call", "Collect", "Emit", "Sleep", "is_async_client", "iterate_async",
           "iterate_blocking", "perform", "retrieve", "run_async", "run_blocking"]


class Call:
    """Effect: call ``fn(*args, **kwargs)`` (awaited on the async client)."""

    __slots__ = ("fn", "args", "kwargs")

    def __init__(self, fn, /, *args, **kwargs):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs

    def __repr__(self):
        return f"Call({getattr(self.fn, '__qualname__', self.fn)!s})"


class Collect(Call):
    """Effect: every item of the (async) iterator ``fn(*args, **kwargs)``, as a list."""

    __slots__ = ()


class Sleep:
    """Effect: wait ``seconds``."""

    __slots__ = ("seconds",)

    def __init__(self, seconds):
        self.seconds = seconds

    def __repr__(self):
        return f"Sleep({self.seconds!r})"


class Emit:
    """Effect: give ``value`` to the iterating caller."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _blocking_effect(effect, sleep):
    if isinstance(effect, Sleep):
        return sleep(effect.seconds)
    value = effect.fn(*effect.args, **effect.kwargs)
    return list(value) if isinstance(effect, Collect) else value


async def _async_effect(effect, sleep):
    from inspect import isawaitable

    if isinstance(effect, Sleep):
        return await sleep(effect.seconds)
    value = effect.fn(*effect.args, **effect.kwargs)
    if isinstance(effect, Collect):
        if hasattr(value, "__aiter__"):
            return [item async for item in value]
        if isawaitable(value):
            value = await value
        return list(value)
    return await value if isawaitable(value) else value


def _advance(steps, value, error):
    """Resume ``steps`` with ``value`` (or throw ``error`` into it): ``(False, next effect)``,
    or ``(True, its return value)`` once it has finished."""
    try:
        return False, (steps.throw(error) if error is not None else steps.send(value))
    except StopIteration as finished:
        return True, finished.value


def _steps_blocking(steps, sleep):
    """Drive ``steps``; yield what it emits; return its value (a generator itself)."""
    value, error = None, None
    while True:
        done, effect = _advance(steps, value, error)
        error = None  # no reference cycle through the traceback
        if done:
            return effect
        if isinstance(effect, Emit):
            value = None
            yield effect.value
            continue
        try:
            value = _blocking_effect(effect, sleep)
        except Exception as exc:
            value, error = None, exc


def run_blocking(steps, *, sleep=time.sleep):
    """Run the generator ``steps`` to its end in the calling thread; return its value.

    Parameters
    ----------
    steps : generator
        Yields effects (see the module notes); it must not :class:`Emit`.
    sleep : callable, optional
        Performs :class:`Sleep` (default :func:`time.sleep`; tests inject a clock).
    """
    driver = _steps_blocking(steps, sleep)
    try:
        emitted = next(driver)
    except StopIteration as finished:
        return finished.value
    raise TypeError(f"run_blocking(): the steps emitted {emitted!r}; use iterate_blocking()")


def iterate_blocking(steps, *, sleep=time.sleep):
    """A generator of what ``steps`` emits, performing its other effects in between."""
    return _steps_blocking(steps, sleep)


async def _drive_async(steps, sleep):
    value, error = None, None
    while True:
        done, effect = _advance(steps, value, error)
        error = None
        if done:
            return effect
        if isinstance(effect, Emit):
            raise TypeError(f"run_async(): the steps emitted {effect.value!r}; "
                            f"use iterate_async()")
        try:
            value = await _async_effect(effect, sleep)
        except Exception as exc:
            value, error = None, exc


def _async_sleep(sleep):
    if sleep is not None:
        return sleep
    import asyncio

    return asyncio.sleep


async def run_async(steps, *, sleep=None):
    """Run the generator ``steps`` to its end, awaiting each effect; return its value.

    Cancelling the awaiting task closes ``steps`` at its current ``yield``
    (its ``finally`` blocks run; nothing is thrown into it). ``sleep``
    performs :class:`Sleep` (default :func:`asyncio.sleep`).
    """
    sleep = _async_sleep(sleep)
    try:
        return await _drive_async(steps, sleep)
    finally:
        steps.close()


async def iterate_async(steps, *, sleep=None):
    """An async generator of what ``steps`` emits, awaiting its other effects in between."""
    sleep = _async_sleep(sleep)
    value, error = None, None
    try:
        while True:
            done, effect = _advance(steps, value, error)
            error = None
            if done:
                return
            if isinstance(effect, Emit):
                value = None
                yield effect.value
                continue
            try:
                value = await _async_effect(effect, sleep)
            except Exception as exc:
                value, error = None, exc
    finally:
        steps.close()


def is_async_client(client):
    """True for an :class:`~civis_dyn.AsyncAPIClient` (its ``meta`` says so)."""
    return getattr(getattr(client, "meta", None), "asynchronous", False) is True


def perform(client, steps):
    """``steps`` run for ``client``: the value (blocking client), or a coroutine (async client)."""
    if is_async_client(client):
        return run_async(steps)
    return run_blocking(steps)


def retrieve(future):
    """A done-callback for an asyncio future whose outcome may never be awaited: reads its
    exception, so asyncio does not log it as never retrieved (whoever awaits it still gets it)."""
    if not future.cancelled():
        future.exception()
