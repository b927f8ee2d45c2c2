"""The asyncio driver of the request pipeline, and the async transport seam.

:class:`AsyncDriver` is :class:`~civis_dyn._pipeline.SyncDriver`'s loop with
``await transport.send(...)`` and ``await asyncio.sleep(...)``: every decision
(planning, the key and plain-http rules, retries, redirects, the call's
deadline, error statuses, decoding) is made by the same pure functions of
:mod:`civis_dyn._pipeline`, so the two clients cannot drift apart.

An async transport is any object with ``async send(request) -> HTTPResponse``
and ``async aclose()`` (:class:`AsyncTransport`). civis_dyn ships
:class:`~civis_dyn._async_transport.AiohttpTransport` (the ``[async]`` extra)
and :class:`SyncTransportAdapter`, which lets a blocking transport (the
Stubber's, ``LocalCivisAPI.transport()``) serve an async client.
"""

import asyncio
import inspect
from typing import Protocol, runtime_checkable

from ._errors import ArgumentTypeError, CivisConnectionError
from ._http import HTTPRequest, HTTPResponse
from ._pipeline import (
    Driver,
    RequestDefaults,
    RetryPolicy,
    Wait,
    attempts,
    check_status,
)

__all__ = ["AsyncDriver", "AsyncTransport", "SyncTransportAdapter", "as_async_transport"]



@runtime_checkable
class AsyncTransport(Protocol):
    """What sends requests for an :class:`~civis_dyn.AsyncAPIClient`.

    The async twin of :class:`civis_dyn.Transport`: it does the wire only,
    raises :class:`civis_dyn.CivisConnectionError` (``reason`` and ``sent``
    set) when no answer came and returns every answer whatever its status.
    """

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        """Send ``request`` and return the answer."""

    async def aclose(self) -> None:
        """Release pooled connections."""


class SyncTransportAdapter:
    """An :class:`AsyncTransport` over a blocking :class:`civis_dyn.Transport`.

    For the test doubles (``Stubber().transport``, ``LocalCivisAPI().transport()``),
    which answer at once in process. A blocking transport that waits on the
    network should run in a thread: pass ``in_thread=True`` (each send then
    goes through :func:`asyncio.to_thread`).

    Parameters
    ----------
    transport : civis_dyn.Transport
    in_thread : bool, optional
        Send from a worker thread instead of the event loop's (default False).
    """

    def __init__(self, transport, *, in_thread=False):
        self.transport = transport
        self.in_thread = in_thread
        self.networked = getattr(transport, "networked", True)

    async def send(self, request):
        """Send ``request`` through the blocking transport."""
        if self.in_thread:
            return await asyncio.to_thread(self.transport.send, request)
        return self.transport.send(request)

    async def aclose(self):
        """Close the blocking transport."""
        self.transport.close()

    def __repr__(self):
        return f"<SyncTransportAdapter of {self.transport!r}>"


def as_async_transport(transport):
    """``transport`` as an :class:`AsyncTransport` (blocking ones are wrapped in the adapter).

    Raises
    ------
    ArgumentTypeError
        For an object that has no ``send()``.
    """
    send = getattr(transport, "send", None)
    if send is None or not callable(send):
        raise ArgumentTypeError(f"transport must be a civis_dyn AsyncTransport (async send() and "
                                f"aclose()) or Transport, not {type(transport).__name__}")
    if inspect.iscoroutinefunction(send):
        return transport
    return SyncTransportAdapter(transport)


class AsyncDriver(Driver):
    """Sends planned requests over an :class:`AsyncTransport`, with retries.

    Parameters
    ----------
    transport : AsyncTransport
    defaults : RequestDefaults
    policy : RetryPolicy
        Retries and the call's deadline, as for the blocking driver. Its
        ``clock`` measures elapsed time; its ``sleep`` is used when it is a
        coroutine function (tests), else :func:`asyncio.sleep`.
    """

    __slots__ = ()

    @classmethod
    def from_config(cls, config, transport=None, environ=None):
        """The driver of a :class:`~civis_dyn._config.ClientConfig` (see ``SyncDriver.from_config``).

        The default transport is a new :class:`~civis_dyn._async_transport.AiohttpTransport`
        (``pip install civis-dyn[async]``); a blocking transport is adapted.
        """
        defaults = RequestDefaults.from_config(config, environ)
        policy = RetryPolicy.coerce(config.retries)
        if transport is None:
            from ._async_transport import AiohttpTransport

            transport = AiohttpTransport()
        return cls(as_async_transport(transport), defaults, policy)

    async def send(self, request, retries=None):
        """Send ``request``, following same-origin GET redirects and retrying per the policy.

        The coroutine twin of :meth:`SyncDriver.send <civis_dyn._pipeline.SyncDriver.send>`:
        returns the final :class:`HTTPResponse` whatever its status.
        """
        policy = self.retry_policy if retries is None else retries
        transport = self.transport
        steps = attempts(policy, request)
        step = next(steps)
        while True:
            if isinstance(step, Wait):  # (only then: inspect costs more than a request's planning)
                sleep = policy.sleep if inspect.iscoroutinefunction(policy.sleep) else asyncio.sleep
                await sleep(step.seconds)
                outcome = None
            else:
                try:
                    outcome = (await transport.send(step), None)
                except CivisConnectionError as exc:
                    outcome = (None, exc)
            try:
                step = steps.send(outcome)
            except StopIteration as finished:
                return finished.value

    async def request(self, method, path, *, params=None, json_body=None, headers=None,
                      retries=None, max_bytes=None):
        """Plan, send and check one request; return the :class:`HTTPResponse` (status < 400)."""
        request = self.plan(method, path, params=params, json_body=json_body, headers=headers,
                            max_bytes=max_bytes)
        response = await self.send(request, retries)
        check_status(request, response)
        return response

    async def aclose(self):
        """Close the transport."""
        await self.transport.aclose()

    def __repr__(self):
        return f"<AsyncDriver {self.defaults.base_url} over {self.transport!r}>"
