"""``AiohttpTransport``: the asyncio HTTP transport (the ``[async]`` extra).

The async twin of :class:`~civis_dyn.HTTPTransport`: one pooled
:class:`aiohttp.ClientSession`, sending an :class:`~civis_dyn.HTTPRequest`
exactly as planned and returning an :class:`~civis_dyn.HTTPResponse`. It does
the wire only (the pipeline decides retries, redirects and errors), never
follows redirects, keeps no credentials in the session and raises errors that
carry neither the request nor aiohttp's exception (no ``__cause__``).

Why aiohttp (measured by ``bench/async_bench.py``, see the README): it is the
most used and actively released asyncio HTTP client, and at 100 concurrent
requests it was the faster of aiohttp and httpx here, with less memory per
request in flight. aiohttp is imported on first use only.
"""

import asyncio

from ._errors import ArgumentValueError, CivisConnectionError, CivisTimeoutError, InvalidResponseError
from ._http import Headers, HTTPResponse, encode_query
from ._limits import BodyTooLarge, response_setting

__all__ = ["AiohttpTransport"]

_CHUNK = 64 * 1024


def _aiohttp():
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("civis_dyn.AsyncAPIClient's default transport needs aiohttp: "
                          "pip install 'civis-dyn[async]'") from None
    return aiohttp


def _proxied():
    """True when proxy variables are set: then aiohttp reads them (as requests does).

    Not always: with ``trust_env`` aiohttp looks the proxy up in a worker
    thread on every request, which costs more than the request itself.
    """
    import os

    return any(os.environ.get(name) for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                                   "http_proxy", "https_proxy", "all_proxy"))


class AiohttpTransport:
    """A pooled asyncio HTTP transport over :class:`aiohttp.ClientSession`.

    Each attempt ends within its request's connect + read timeout in all.
    The session is made on first use, inside the running event loop; use
    one transport per event loop.

    Parameters
    ----------
    pool_size : int, optional
        Connections kept open in all (default 100).
    """

    def __init__(self, *, pool_size=100):
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
            raise ArgumentValueError(f"AiohttpTransport(): 'pool_size' must be an int >= 1, "
                                     f"not {pool_size!r}")
        self._pool_size = pool_size
        self._session = None
        self._timeouts = {}

    def _get_session(self):
        session = self._session
        if session is None or session.closed:
            aiohttp = _aiohttp()
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            session = self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=True, trust_env=_proxied(),
                cookie_jar=aiohttp.DummyCookieJar(), skip_auto_headers=("User-Agent",))
        return session

    async def send(self, request):
        """Send ``request`` once; return the answer whatever its status.

        Raises
        ------
        CivisConnectionError, CivisTimeoutError
            When no answer came (``reason`` and ``sent`` say why).
        """
        aiohttp = _aiohttp()
        session = self._get_session()
        query = encode_query(request.params)
        url = _encoded_url(f"{request.url}?{query}" if query else request.url)
        error = None
        try:
            async with session.request(request.method, url, data=request.body,
                                       headers=dict(request.headers),
                                       timeout=self._timeout(aiohttp, request.timeout),
                                       allow_redirects=False) as response:
                limit = request.max_bytes
                length = response.content_length
                if length is not None and (limit is None or length <= limit) \
                        and "Content-Encoding" not in response.headers:
                    body = await response.read()  # the common case: one read, no chunk loop
                else:
                    body, error = await _read_within(response, limit, request)
                if error is None:
                    return HTTPResponse(response.status, Headers(response.headers.items()),
                                        body, str(response.url), response.reason or "")
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
            error = _connection_error(aiohttp, exc)
        raise error  # outside the except block: no __context__ holding aiohttp's objects

    def _timeout(self, aiohttp, timeouts):
        """The :class:`aiohttp.ClientTimeout` of ``(connect, read)`` (a few, made once each).

        As the blocking transport's: ``connect`` to connect, ``read`` of silence
        between bytes (``sock_read``), and connect + read in all.
        """
        made = self._timeouts.get(timeouts)
        if made is None:
            connect, read = timeouts
            made = aiohttp.ClientTimeout(total=connect + read, sock_connect=connect,
                                         sock_read=read)
            if len(self._timeouts) < 64:  # deadlines shrink timeouts: keep the cache small
                self._timeouts[timeouts] = made
        return made

    async def aclose(self):
        """Close the pooled connections (the next request opens new ones)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        await self.aclose()

    def __repr__(self):
        return f"<AiohttpTransport pool_size={self._pool_size}>"


async def _read_within(response, limit, request):
    """``(body, None)``, or ``(b"", InvalidResponseError)`` past ``limit`` decoded bytes."""
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if limit is not None and size > limit:
            answer = HTTPResponse(response.status, Headers(response.headers.items()),
                                  b"", str(response.url), response.reason or "")
            return b"", InvalidResponseError(
                response.status, str(BodyTooLarge("the response body", limit,
                                                  response_setting())),
                answer, request.method, request.path)
    return b"".join(chunks), None


def _encoded_url(text):
    """``text`` (already percent-encoded) as aiohttp's URL type; yarl comes with aiohttp."""
    import yarl

    return yarl.URL(text, encoded=True)


def _connection_error(aiohttp, exc):
    """Our error for an aiohttp failure: a short message, ``reason`` and ``sent`` (no cause)."""
    import socket

    name = type(exc).__name__
    text = str(exc) or name
    text = text if len(text) <= 200 else text[:200] + "…"
    message = f"{name}: {text}"
    connect_timeout = getattr(aiohttp, "ConnectionTimeoutError", ())
    if isinstance(exc, connect_timeout):
        return CivisTimeoutError(message, reason="connect-timeout", sent=False)
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return CivisTimeoutError(f"ReadTimeout: {text}", reason="timeout", sent=True)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return CivisConnectionError(message, reason="incomplete", sent=True)
    if isinstance(exc, aiohttp.ClientSSLError):
        return CivisConnectionError(message, reason="tls", sent=False)
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = getattr(exc, "os_error", None)
        if isinstance(cause, socket.gaierror) or isinstance(
                exc, getattr(aiohttp, "ClientConnectorDNSError", ())):
            return CivisConnectionError(message, reason="dns", sent=False)
        if isinstance(cause, ConnectionRefusedError):
            return CivisConnectionError(message, reason="refused", sent=False)
        return CivisConnectionError(message, reason="other", sent=False)
    if isinstance(exc, (aiohttp.InvalidURL, ValueError)):
        return CivisConnectionError(message, reason="invalid", sent=False)
    return CivisConnectionError(message, reason="reset", sent=True)
