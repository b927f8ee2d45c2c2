"""What API calls return: :class:`Response`, :class:`ListResponse`, :class:`PaginatedResponse`.

A :class:`Response` wraps the decoded JSON object as it came off the wire
(camelCase keys) and converts lazily: the snake_case key map is built on the
first key access and nested objects are wrapped on first access, so wrapping
a page costs little more than ``json.loads`` of it.

Conversion rules (as civis-python's):

* keys become snake_case at every level, except inside the values of
  ``arguments`` and ``environmentVariables``, which keep their original case;
* in a JSON value object (``objectType == "JSONValue"``, or any response of a
  ``json_values`` call) ``value`` stays plain parsed JSON.
"""

import copy
import hashlib
import json

from ._errors import CivisImmutableResponseError, InvalidResponseError
from .spec._naming import camel_to_snake

__all__ = ["ListResponse", "PaginatedResponse", "Response", "find", "find_one"]

_KEEP_CASE_KEYS = frozenset({"arguments", "environmentVariables", "environment_variables"})
_MISSING = object()


def _header_int(headers, name):
    if not headers:
        return None
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _wrap(value, keep_case=False, json_value=False):
    if isinstance(value, dict):
        return Response(value, keep_case=keep_case, json_value=json_value)
    if isinstance(value, list):
        return [_wrap(v, keep_case, json_value) for v in value]
    return value


def _snake_json(value, keep_case=False, json_value=False):
    """Deep-convert decoded JSON to snake_case keys, honouring the keep-case rules."""
    if isinstance(value, dict):
        is_json_value = json_value or value.get("objectType") == "JSONValue"
        out = {}
        for key, item in value.items():
            name = key if keep_case else camel_to_snake(key)
            if is_json_value and key == "value":
                out[name] = copy.deepcopy(item)
            else:
                out[name] = _snake_json(item, keep_case or key in _KEEP_CASE_KEYS, json_value)
        return out
    if isinstance(value, list):
        return [_snake_json(v, keep_case, json_value) for v in value]
    return value


def _rebuild(raw, headers, keep_case, json_value):
    return Response(raw, headers=headers, keep_case=keep_case, json_value=json_value)


class Response:
    """A read-only, attribute-style view of a JSON object returned by the API.

    Parameters
    ----------
    json_data : dict
        The decoded JSON object, with the API's (camelCase) keys.
    headers : Mapping, optional
        The HTTP response headers.

    Examples
    --------
    >>> r = Response({"id": 1, "lastRun": {"state": "succeeded"}})
    >>> r.last_run.state, r["lastRun"]["state"], r.json()
    ('succeeded', 'succeeded', {'id': 1, 'last_run': {'state': 'succeeded'}})
    """

    __slots__ = ("_raw", "_headers", "_keys", "_cache", "_keep_case", "_json_value")

    def __init__(self, json_data=None, *, headers=None, keep_case=False, json_value=False):
        if json_data is None:
            json_data = {}
        elif not isinstance(json_data, dict):
            raise TypeError(f"Response wraps a JSON object (dict), not {type(json_data).__name__}")
        set_ = object.__setattr__
        set_(self, "_raw", json_data)
        set_(self, "_headers", headers)
        set_(self, "_keys", None)
        set_(self, "_cache", None)
        set_(self, "_keep_case", keep_case)
        set_(self, "_json_value", json_value)

    # -- key lookup -------------------------------------------------------
    def _key_map(self):
        keys = self._keys
        if keys is None:
            raw = self._raw
            if self._keep_case:
                keys = {k: k for k in raw}
            else:
                keys = {camel_to_snake(k): k for k in raw}
                for k in raw:  # camelCase access works too
                    keys.setdefault(k, k)
            object.__setattr__(self, "_keys", keys)
        return keys

    def _value(self, key, default=_MISSING):
        wire = self._key_map().get(key)
        if wire is None:
            if default is _MISSING:
                raise KeyError(key)
            return default
        cache = self._cache
        if cache is None:
            cache = {}
            object.__setattr__(self, "_cache", cache)
        try:
            return cache[wire]
        except KeyError:
            pass
        value = self._raw[wire]
        if wire == "value" and (self._json_value or self._raw.get("objectType") == "JSONValue"):
            wrapped = value
        else:
            wrapped = _wrap(value, self._keep_case or wire in _KEEP_CASE_KEYS, self._json_value)
        cache[wire] = wrapped
        return wrapped

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._value(name)
        except KeyError:
            raise AttributeError(f"Response has no attribute {name!r}; keys: "
                                 f"{', '.join(self.keys()) or '(none)'}") from None

    def __getitem__(self, key):
        return self._value(key)

    def get(self, key, default=None):
        """Return the value for ``key`` (snake_case or camelCase), else ``default``."""
        return self._value(key, default)

    def __contains__(self, key):
        return key in self._key_map()

    def keys(self):
        """The snake_case keys (original keys where the case is kept)."""
        if self._keep_case:
            return list(self._raw)
        return [camel_to_snake(k) for k in self._raw]

    def values(self):
        """The (wrapped) values, in key order."""
        return [self._value(k) for k in self.keys()]

    def items(self):
        """``(snake_case key, wrapped value)`` pairs."""
        return [(k, self._value(k)) for k in self.keys()]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self._raw)

    # -- whole-object views -----------------------------------------------
    def json(self, snake_case=True):
        """Return the object as a new plain dict.

        Parameters
        ----------
        snake_case : bool, optional
            True (default): snake_case keys, as attribute access shows them.
            False: the API's keys, exactly as received.
        """
        if not snake_case:
            return copy.deepcopy(self._raw)
        if self._keep_case:
            return copy.deepcopy(self._raw)
        return _snake_json(self._raw, False, self._json_value)

    @property
    def headers(self):
        """The HTTP response headers (None for nested objects)."""
        return self._headers

    @property
    def calls_remaining(self):
        """``X-RateLimit-Remaining`` as an int, or None."""
        return _header_int(self._headers, "X-RateLimit-Remaining")

    @property
    def rate_limit(self):
        """``X-RateLimit-Limit`` as an int, or None."""
        return _header_int(self._headers, "X-RateLimit-Limit")

    # -- read-only --------------------------------------------------------
    @staticmethod
    def _read_only(*_):
        raise CivisImmutableResponseError(
            "Response objects are read-only; call .json() to get a dict you can change")

    __setattr__ = __delattr__ = __setitem__ = __delitem__ = _read_only

    # -- comparison, display, pickling ------------------------------------
    def __eq__(self, other):
        if isinstance(other, Response):
            return self._raw == other._raw
        if isinstance(other, dict):
            return other == self._raw or other == self.json()
        return NotImplemented

    __hash__ = None

    def __repr__(self):
        return f"Response({self.json()!r})"

    def _repr_pretty_(self, printer, cycle):
        if cycle:
            printer.text("Response(...)")
            return
        with printer.group(9, "Response(", ")"):
            printer.pretty(self.json())

    def __dir__(self):
        return sorted(set(object.__dir__(self)) | {k for k in self.keys() if k.isidentifier()})

    def __reduce__(self):
        headers = dict(self._headers) if self._headers is not None else None
        return (_rebuild, (self._raw, headers, self._keep_case, self._json_value))


class ListResponse(list):
    """A list of :class:`Response` (or plain values) returned for a JSON array.

    Attributes
    ----------
    headers : Mapping or None
        The HTTP response headers.
    """

    def __init__(self, items=(), *, headers=None, json_value=False):
        super().__init__(_wrap(v, False, json_value) for v in items)
        self._raw = items
        self.headers = headers

    def json(self, snake_case=True):
        """Return the items as plain dicts (snake_case keys by default)."""
        if not snake_case:
            return copy.deepcopy(list(self._raw))
        return [_snake_json(v) for v in self._raw]

    @property
    def calls_remaining(self):
        """``X-RateLimit-Remaining`` as an int, or None."""
        return _header_int(self.headers, "X-RateLimit-Remaining")

    @property
    def rate_limit(self):
        """``X-RateLimit-Limit`` as an int, or None."""
        return _header_int(self.headers, "X-RateLimit-Limit")

    def __reduce__(self):
        headers = dict(self.headers) if self.headers is not None else None
        return (_rebuild_list, (list(self._raw), headers))


def _rebuild_list(raw, headers):
    return ListResponse(raw, headers=headers)


class PaginatedResponse:
    """A lazy iterator over every item of a paginated list endpoint.

    No request is made before the first ``next()``. Pages are fetched one
    after the other with the caller's other query parameters; the caller's
    ``limit`` is the page size. Iteration stops after the page named by
    ``X-Pagination-Total-Pages`` when the API sends it (no extra request for
    an empty page), otherwise on the first empty or short page.

    A misbehaving server cannot make iteration endless: the total number of
    pages is taken from the first answer that states it (later answers may
    lower it, never raise it), and a page whose items repeat an earlier page
    (a server that ignores ``page_num``) stops iteration with
    :class:`~civis_dyn.InvalidResponseError`.

    Parameters
    ----------
    fetch_page : callable
        ``fetch_page(page_num) -> (items, headers)`` for one page, where
        ``items`` is the decoded JSON list.
    start_page : int, optional
        The first page (default 1).
    """

    def __init__(self, fetch_page, start_page=1):
        self._fetch_page = fetch_page
        self._page = start_page
        self._items = iter(())
        self._done = False
        self._last_page = None     # the bound from the first answer that stated a total
        self._seen_pages = {}      # fingerprint of a page's items -> its page number
        self.headers = None
        self.pages_fetched = 0

    def __iter__(self):
        return self

    def __next__(self):
        while True:
            try:
                return next(self._items)
            except StopIteration:
                if self._done:
                    raise
                self._load_next_page()

    def _load_next_page(self):
        items, headers = self._fetch_page(self._page)
        self.pages_fetched += 1
        self.headers = headers
        total_pages = _header_int(headers, "X-Pagination-Total-Pages")
        per_page = _header_int(headers, "X-Pagination-Per-Page")
        if total_pages is not None:
            self._last_page = (total_pages if self._last_page is None
                               else min(self._last_page, total_pages))
            total_pages = self._last_page
        if items:
            self._check_new(items)
        if not items:
            self._done = True
        elif total_pages is not None:
            self._done = self._page >= total_pages
        elif per_page is not None and len(items) < per_page:
            self._done = True
        self._page += 1
        self._items = iter([_wrap(v) for v in items])

    def _check_new(self, items):
        """Raise when ``items`` repeat a page already returned (same ids, else same JSON)."""
        fingerprint = _page_fingerprint(items)
        if fingerprint is None:
            return
        earlier = self._seen_pages.get(fingerprint)
        if earlier is not None:
            self._done = True
            raise InvalidResponseError(
                200, f"page {self._page} of a paginated list repeats page {earlier} (the server "
                     f"ignores page_num?); stopped after {self.pages_fetched} pages")
        self._seen_pages[fingerprint] = self._page

    def json(self, snake_case=True):
        """Consume the remaining items and return them as plain dicts."""
        return [item.json(snake_case) if isinstance(item, Response) else item for item in self]


def _page_fingerprint(items):
    """What identifies a page: its items' ids when all have one, else a hash of its JSON."""
    ids = tuple(item.get("id") if isinstance(item, dict) else None for item in items)
    if None not in ids:
        try:
            hash(ids)
            return ids
        except TypeError:
            pass
    try:
        text = json.dumps(items, sort_keys=True, separators=(",", ":"), default=repr)
    except (TypeError, ValueError, RecursionError):
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def find(object_list, filter_func=None, **kwargs):
    """Filter :class:`Response` objects by attribute values.

    Parameters
    ----------
    object_list : iterable of Response
    filter_func : callable, optional
        Keep the objects for which ``filter_func(obj)`` is true.
    **kwargs
        ``name=value``: keep objects whose ``name`` equals ``value``; a value
        of ``True`` keeps objects that have the attribute at all; a callable
        value is called with the attribute's value.

    Returns
    -------
    list of Response
    """
    absent = object()

    def matches(obj):
        if filter_func is not None and not filter_func(obj):
            return False
        for key, expected in kwargs.items():
            value = obj.get(key, absent) if hasattr(obj, "get") else getattr(obj, key, absent)
            if value is absent:
                return False
            if expected is True:
                continue
            if callable(expected):
                if not expected(value):
                    return False
            elif value != expected:
                return False
        return True

    return [obj for obj in object_list if matches(obj)]


def find_one(object_list, filter_func=None, **kwargs):
    """Return the first object :func:`find` keeps, or None."""
    results = find(object_list, filter_func, **kwargs)
    return results[0] if results else None
