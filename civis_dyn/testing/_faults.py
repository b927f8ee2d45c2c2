"""Fault injection for the local Civis API.

A :class:`Faults` object decides, for each request, whether the server
answers normally or misbehaves.  It is shared by the server's threads and may
be changed while the server runs: every read and write goes through its own
small lock (never the store's lock), and the server sleeps outside any lock.

A fault is named by an *action*:

``None``
    Answer normally.
``int``
    Answer with that status and a JSON error body.  ``429`` carries a
    ``Retry-After`` header (see :attr:`Faults.retry_after`).
``"drop"``
    Close the connection before reading the request body, without an answer.
``"drop_body"``
    Send the status line, headers and half of the body, then close.
``"truncate"``
    Answer normally, but with only the first half of the JSON body (the
    ``Content-Length`` matches what is sent, so only the JSON is broken).
``"html"``
    Answer 502 with an HTML error page, as a proxy in front of the API would.
``"slow"``
    Wait :attr:`Faults.read_delay` seconds before answering normally, long
    enough to trigger a client's read timeout.
``"reset"``
    Handle the request, then reset the connection (TCP RST) without answering.
``"reset_body"``
    Send the status line, headers and half of the body, then reset (RST).
``"hold"``
    Handle the request, then send nothing until the client closes the
    connection (its read timeout) or the server stops.
``"trickle"``
    Answer normally, but a few bytes at a time with :attr:`Fault.delay`
    seconds between them (default 0.01 s): slow, yet never silent for long.
``Fault("answer", status, body=..., headers=...)``
    Answer exactly this: the status (default 200), the raw body bytes and the
    headers (``Content-Length`` is computed), e.g. a gzip bomb, a captive
    portal's page or a redirect (``status=302, headers={"Location": ...}``).
:class:`Fault`
    Any of the above with its own status, ``Retry-After`` or delay, or
    ``handled=True``: let the API handle the request (its effect stays)
    before a status or HTML fault answers, as a gateway error after the
    application ran.  ``"drop_body"``, ``"truncate"``, ``"reset"``,
    ``"reset_body"``, ``"hold"`` and ``"trickle"`` always handle it first;
    ``"drop"`` never does.  The faults that cut a body short send a small
    JSON stand-in when the real answer has no body.

Actions come from a script (:meth:`Faults.script`: a deterministic sequence
per method and path, consumed one request at a time) or, when no script
applies, from a seeded random share (:meth:`Faults.random`).
"""

from __future__ import annotations

import os
import random
import socket
import struct
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime

__all__ = ["Fault", "Faults"]

KINDS = ("status", "drop", "drop_body", "truncate", "html", "slow", "reset", "reset_body",
         "hold", "trickle", "answer")
ANSWERS = ("status", "html", "answer")            # faults that answer in the API's stead
CUTS = ("truncate", "drop_body", "reset_body")   # faults that cut the body short
CUT_FILLER = b'{"note": "the body of an empty answer, sent so that a fault can cut it"}'
TRICKLE_CHUNK = 16      # bytes per write of a "trickle" answer
TRICKLE_DELAY = 0.01    # default seconds between them


@dataclass(frozen=True)
class Fault:
    """One injected fault, with its details.

    Parameters
    ----------
    kind : str
        One of ``"status"``, ``"drop"``, ``"drop_body"``, ``"truncate"``,
        ``"html"``, ``"slow"``, ``"reset"``, ``"reset_body"``, ``"hold"``,
        ``"trickle"``.
    status : int, optional
        The status to answer (``"status"``: required; ``"html"``: 502 unless
        given).
    retry_after : float, str or datetime, optional
        ``Retry-After`` value: seconds, a string sent as is, or a datetime
        sent as an HTTP date.  Defaults to :attr:`Faults.retry_after` for 429
        and 503 answers.
    http_date : bool
        Send a numeric ``retry_after`` as the HTTP date that many seconds from
        now instead of as seconds.
    delay : float, optional
        For ``"slow"``: seconds to wait (default :attr:`Faults.read_delay`);
        for ``"trickle"``: seconds between chunks (default 0.01).
    handled : bool
        For ``"status"``, ``"html"`` and ``"answer"``: handle the request
        first, so its effect stays although the answer is an error.
    body : bytes
        For ``"answer"``: the raw body sent (default empty).
    headers : mapping or sequence of pairs
        For ``"answer"``: the headers sent (kept as a tuple of pairs, so that
        a fault stays hashable).  ``Content-Type`` defaults to JSON.
    """

    kind: str = "status"
    status: int | None = None
    retry_after: float | str | datetime | None = None
    http_date: bool = False
    delay: float | None = None
    handled: bool = False
    body: bytes = b""
    headers: tuple = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")
        if not isinstance(self.body, (bytes, bytearray)):
            raise TypeError("a fault's body must be bytes")
        pairs = self.headers.items() if hasattr(self.headers, "items") else self.headers
        pairs = tuple((str(k), str(v)) for k, v in pairs)
        if any(c in k + v for k, v in pairs for c in "\r\n"):
            raise ValueError("a fault's header cannot contain a line break")
        object.__setattr__(self, "body", bytes(self.body))
        object.__setattr__(self, "headers", pairs)
        if (self.body or pairs) and self.kind != "answer":
            raise ValueError("only an 'answer' fault has a body and headers")
        if self.kind == "status" and not isinstance(self.status, int):
            raise ValueError("a 'status' fault needs an integer status")


def as_fault(action) -> Fault | None:
    """Normalise an action (None, int, str or Fault) to a :class:`Fault`."""
    if action is None or isinstance(action, Fault):
        return action
    if isinstance(action, bool):
        raise TypeError("a fault action cannot be a bool")
    if isinstance(action, int):
        return Fault("status", status=action)
    if isinstance(action, str):
        return Fault(action)
    raise TypeError(f"not a fault action: {action!r}")


class Faults:
    """Thread-safe fault settings of a running :class:`LocalCivisAPI`.

    Parameters
    ----------
    latency : float
        Seconds added to every request (slept outside any lock).
    share : float
        Share of requests, between 0 and 1, that get a random fault from
        ``actions`` when no script applies.
    actions : sequence
        Actions drawn at random for that share (default ``(503,)``).
    seed : int, optional
        Seed of the random generator, for reproducible runs.
    retry_after : float, str or datetime
        Default ``Retry-After`` of 429 and 503 answers (seconds by default).
    read_delay : float
        Seconds a ``"slow"`` fault waits before answering.

    Examples
    --------
    >>> api.faults.script("GET", "/jobs/1", [503, 503, None])   # doctest: +SKIP
    >>> api.faults.random(0.1, actions=(429, 503), seed=7)      # doctest: +SKIP
    >>> api.faults.latency = 0.02                               # doctest: +SKIP
    """

    def __init__(self, latency=0.0, share=0.0, actions=(503,), seed=None,
                 retry_after=1, read_delay=1.0):
        self._lock = threading.Lock()
        self._scripts: dict[tuple[str, str], deque] = {}
        self._rng = random.Random(seed)
        self._latency = float(latency)
        self._share = 0.0
        self._actions: tuple = ()
        self._methods = None
        self._paths = None
        self._gathers: dict[tuple[str, str], threading.Barrier] = {}
        self.retry_after = retry_after
        self.read_delay = float(read_delay)
        self.random(share, actions)

    # -- settings ---------------------------------------------------------
    @property
    def latency(self) -> float:
        """Seconds added to each request."""
        return self._latency

    @latency.setter
    def latency(self, value: float) -> None:
        if value < 0:
            raise ValueError("latency must be >= 0")
        self._latency = float(value)

    @property
    def share(self) -> float:
        """Share of requests given a random fault."""
        return self._share

    def random(self, share: float, actions=(503,), seed=None, methods=None, paths=None) -> None:
        """Give a random ``share`` of requests a fault drawn from ``actions``.

        Parameters
        ----------
        share : float
            Between 0 (never) and 1 (always).
        actions : sequence
            Actions to draw from, uniformly.
        seed : int, optional
            Reseed the generator.
        methods, paths : iterable of str, optional
            Limit the random faults to these methods / paths (concrete paths or
            templates such as ``/jobs/{id}``).
        """
        if not 0 <= share <= 1:
            raise ValueError("share must be between 0 and 1")
        faults = tuple(as_fault(a) for a in actions)
        if share and not faults:
            raise ValueError("a random share needs at least one action")
        with self._lock:
            if seed is not None:
                self._rng.seed(seed)
            self._share = float(share)
            self._actions = faults
            self._methods = frozenset(m.upper() for m in methods) if methods else None
            self._paths = frozenset(normalize_path(p) for p in paths) if paths else None

    def script(self, method: str, path: str, actions) -> None:
        """Answer the next requests to ``method path`` with ``actions``, in order.

        Parameters
        ----------
        method : str
            HTTP method, or ``"*"`` for any.
        path : str
            A concrete path (``/jobs/1``), a template (``/jobs/{id}``), or
            ``"*"`` for any path.  A trailing slash does not matter.
        actions : iterable
            One action per request (see the module docstring); ``None``
            answers normally.  After the last one, requests answer normally.
            Scripting the same method and path again appends.
        """
        faults = [as_fault(a) for a in actions]
        key = (method.upper(), normalize_path(path))
        with self._lock:
            self._scripts.setdefault(key, deque()).extend(faults)

    def gather(self, method: str, path: str, count: int, timeout: float = 20.0) -> None:
        """Hold each ``method path`` request until ``count`` of them are waiting.

        Then they all go on together (and the next ``count`` are gathered the
        same way), so that concurrent clients really are in flight at once.
        A request that waits ``timeout`` seconds without the others arriving
        is answered normally, and so are all the others still waiting then.

        Parameters
        ----------
        method : str
            HTTP method, or ``"*"`` for any.
        path : str
            A concrete path or a template, as for :meth:`script`.
        count : int
            How many requests to gather (at least 2).
        timeout : float
            Seconds a request waits at most.
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 2:
            raise ValueError("gather needs a count of at least 2 requests")
        if not timeout > 0:
            raise ValueError("gather needs a timeout > 0")
        with self._lock:
            self._gathers[(method.upper(), normalize_path(path))] = threading.Barrier(count, timeout=timeout)

    def gathered(self, method: str, path: str) -> int:
        """How many requests a :meth:`gather` for ``method path`` holds right now."""
        with self._lock:
            barrier = self._gathers.get((method.upper(), normalize_path(path)))
        return barrier.n_waiting if barrier is not None else 0

    def pending(self, method: str | None = None, path: str | None = None) -> int:
        """Number of scripted actions not consumed yet."""
        with self._lock:
            return sum(len(q) for (m, p), q in self._scripts.items()
                       if (method is None or m == method.upper())
                       and (path is None or p == normalize_path(path)))

    def clear(self) -> None:
        """Drop all scripts and gatherings, the random share and the latency."""
        with self._lock:
            self._scripts.clear()
            self._share = 0.0
            self._actions = ()
            self._methods = self._paths = None
            self._latency = 0.0
            gathers, self._gathers = list(self._gathers.values()), {}
        for barrier in gathers:  # nobody stays held by a setting that is gone
            barrier.abort()

    # -- used by the server ----------------------------------------------
    def wait_gathered(self, method: str, path: str, template: str | None) -> None:
        """Wait, outside any lock, while a :meth:`gather` applies to this request."""
        if not self._gathers:
            return
        path = normalize_path(path)
        with self._lock:
            barrier = next((self._gathers[k] for k in (
                (method, path), (method, template), ("*", path), ("*", template),
                (method, "*"), ("*", "*"))
                if k in self._gathers), None)
        if barrier is not None:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass  # timed out or cleared: answer normally

    def pick(self, method: str, path: str, template: str | None) -> Fault | None:
        """Consume and return the action for one request (None: answer normally)."""
        if not self._scripts and not self._share:
            return None
        path = normalize_path(path)
        keys = [(method, path)]
        if template:
            keys.append((method, template))
        keys += [("*", path)] + ([("*", template)] if template else []) + [
            (method, "*"), ("*", "*")]
        with self._lock:
            for key in keys:
                queue = self._scripts.get(key)
                if queue:
                    action = queue.popleft()
                    if not queue:
                        del self._scripts[key]
                    return action
            if not self._share:
                return None
            if self._methods is not None and method not in self._methods:
                return None
            if self._paths is not None and path not in self._paths and template not in self._paths:
                return None
            if self._rng.random() < self._share:
                return self._rng.choice(self._actions)
        return None


def normalize_path(path: str) -> str:
    """``path`` without query, empty segments and trailing slash (``"*"`` stays)."""
    if path == "*":
        return path
    return "/" + "/".join(s for s in path.split("?")[0].split("/") if s)


# -- what the server does to a connection for the socket-level faults --------------
def reset_connection(sock: socket.socket) -> None:
    """Close ``sock`` with a TCP RST (``SO_LINGER`` 0): the peer sees ECONNRESET.

    The descriptor is closed at once, before any buffered reader or the
    server's own shutdown can send a clean FIN first.
    """
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        os.close(sock.detach())
    except OSError:
        pass


def hold_connection(sock: socket.socket, stopping: threading.Event, limit: float = 60.0) -> None:
    """Send nothing until the peer closes ``sock``, the server stops, or ``limit`` seconds pass."""
    sock.settimeout(0.05)
    waited = 0.0
    while not stopping.is_set() and waited < limit:
        try:
            if not sock.recv(4096):
                return
        except TimeoutError:
            waited += 0.05
        except OSError:
            return


def trickle(write, data: bytes, delay: float | None, stopping: threading.Event) -> None:
    """Write ``data`` a few bytes at a time, waiting ``delay`` seconds between writes."""
    pause = TRICKLE_DELAY if delay is None else delay
    for start in range(0, len(data), TRICKLE_CHUNK):
        if start and stopping.wait(pause):
            return
        write(data[start:start + TRICKLE_CHUNK])
