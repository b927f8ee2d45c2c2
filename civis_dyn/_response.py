"""What API calls return: :class:`Response`, :class:`ListResponse`, :class:`PaginatedResponse`.

A :class:`Response` wraps the decoded JSON object as it came off the wire
(camelCase keys) and converts lazily: the snake_case key map is built on the
first key access and nested objects are wrapped on first access, so wrapping
a page costs little more than ``json.loads`` of it.

The observable behaviour is civis-python 2.10.1's:

* keys are read in snake_case or in the API's case, as attributes or items;
* the object under ``arguments`` or ``environmentVariables`` keeps its keys'
  case (objects nested inside it are converted again, as in civis-python);
* in a JSON value object (``objectType == "JSONValue"``, or a response of a
  ``json_values`` call) ``value`` stays plain parsed JSON;
* the public names of a response are only civis-python's (``json``, ``get``,
  ``items``, ``json_data``, ``headers``, ``calls_remaining``, ``rate_limit``),
  so no other method can hide an API field of the same name.
"""

import copy
import hashlib
import json
import pprint
from collections import deque
from itertools import repeat
from operator import countOf, itemgetter

from . import _display, _frames
from ._errors import ArgumentTypeError, CivisImmutableResponseError, InvalidResponseError
from ._progress import progress_bar
from .spec._naming import KEEP_CASE_KEYS, camel_to_snake

__all__ = ["ListResponse", "PaginatedResponse", "Response", "find", "find_one", "wrap_json"]

_MISSING = object()
_set = object.__setattr__
_SHARED_SHAPES = 4096  # key maps kept for this many distinct object shapes (then rebuilt)
_key_maps = {}  # (keep_case, *wire keys) -> (key map, attribute key map), shared by same-shaped objects
_shown_keys = {}  # (keep_case, *wire keys) -> {shown key: wire key}


def _shared(cache, shape, build):
    found = cache.get(shape)
    if found is None:
        if len(cache) >= _SHARED_SHAPES:
            cache.clear()
        found = cache[shape] = build(shape)
    return found


def _build_key_map(shape):
    """``({readable key: wire key}, the same without names starting with "__")``.

    Attributes never read names starting with two underscores from the data (items do).
    """
    keep_case, wire = shape[0], shape[1:]
    if keep_case:
        keys = {k: k for k in wire}
    else:
        keys = {camel_to_snake(k): k for k in wire}
        for k in wire:  # camelCase access works too
            keys.setdefault(k, k)
    if any(k[:2] == "__" for k in keys):
        return keys, {k: v for k, v in keys.items() if k[:2] != "__"}
    return keys, keys


def _build_shown_keys(shape):
    keep_case, wire = shape[0], shape[1:]
    return {k: k for k in wire} if keep_case else {camel_to_snake(k): k for k in wire}


def _header_int(headers, name):
    if not headers:
        return None
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _wrap(value):
    """Wrap a value nested in a response: objects become (snake_case) responses."""
    if isinstance(value, dict):
        return _response(value, _NESTED)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def plain_json(value, snake_case):
    """A wrapped value as plain JSON (dicts and lists)."""
    if isinstance(value, Response):
        return value.json(snake_case)
    if isinstance(value, list):
        return [plain_json(v, snake_case) for v in value]
    return value


def wrap_json(data, headers=None, json_value=False, item_schema=None):
    """What an API method returns for decoded JSON ``data`` (``return_type="snake"``).

    A :class:`ListResponse` for an array, a :class:`Response` for an object
    or no content (None), the value itself for a bare JSON scalar.
    ``json_value``: the answer of a ``json_values`` call (its ``value`` stays plain JSON).
    ``item_schema``: the schema of one item of an array (for ``to_pandas()``).
    """
    if isinstance(data, list):
        return ListResponse(data, headers=headers, json_value=json_value, item_schema=item_schema)
    if data is None or isinstance(data, dict):
        return Response(data, headers=headers, json_value=json_value)
    return data


def _rebuild(raw, headers, keep_case, json_value):
    return Response(raw, headers=headers, snake_case=not keep_case, from_json_values=json_value)


class Response:
    """A read-only, attribute-style view of a JSON object returned by the API.

    Parameters
    ----------
    json_data : dict or None
        The decoded JSON object, with the API's (camelCase) keys; None for
        an empty (204) answer.
    headers : Mapping, optional
        The HTTP response headers.
    snake_case : bool, optional
        True (default): keys are also readable in snake_case. False: only
        the keys as given (used for ``arguments``).
    from_json_values : bool, optional
        The object comes from a ``json_values`` call: its ``value`` is kept
        as plain parsed JSON.

    Attributes
    ----------
    json_data : dict or None
        The object as received (API's key case).
    headers : Mapping or None
        The HTTP response headers (None for nested objects).
    calls_remaining, rate_limit : int or None
        ``X-RateLimit-Remaining`` and ``X-RateLimit-Limit``.

    Examples
    --------
    >>> r = Response({"id": 1, "lastRun": {"state": "succeeded"}})
    >>> r.last_run.state, r["lastRun"]["state"], r.json()
    ('succeeded', 'succeeded', {'id': 1, 'last_run': {'state': 'succeeded'}})
    """

    # Two slots: _raw, the decoded JSON object, and _ctx, its context, a tuple
    # shared by many objects (see _context). Reading a field is one Python-level
    # __getattribute__: the class's own names first (as a failed lookup would let
    # __getattr__ see them), then two dict lookups in the shared key map. (A
    # __getattr__ would pay for the failed lookup's AttributeError on every read.)
    __slots__ = ("_raw", "_ctx")

    def __init__(self, json_data=None, *, headers=None, snake_case=True, from_json_values=False,
                 keep_case=None, json_value=None):
        if json_data is not None and type(json_data) is not dict and not isinstance(json_data, dict):
            raise ArgumentTypeError(f"Response wraps a JSON object (dict), not {type(json_data).__name__}")
        if keep_case is None:
            keep_case = not snake_case
        if json_value is None:
            json_value = from_json_values
        _set_raw(self, json_data)
        _set_ctx(self, _context(headers, keep_case, json_value))

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__getattribute__ = _subclass_getattribute

    def __getattribute__(self, name):
        if name in _OWN_NAMES:
            return _object_getattribute(self, name)
        ctx = _get_ctx(self)
        raw = _get_raw(self)
        keys = ctx[5]
        if keys is None:  # the object's first read: _resolve, inlined (the hot path of a page)
            shape = tuple(raw) if raw else ()
            resolved = ctx[4].get(shape)
            if resolved is None:
                resolved = _resolve(ctx, shape)
            _set_ctx(self, resolved)
            ctx = resolved
            keys = ctx[5]
        wire = keys.get(name)
        if wire is not None:
            value = raw[wire]
            if isinstance(value, (dict, list)):
                return _wrapped(self, ctx, wire)
            return value
        return _missing_attribute(self, name)

    def __getitem__(self, key):
        return _value(self, key)

    def get(self, key, default=None):
        """Return the value for ``key`` (snake_case or the API's case), else ``default``."""
        return _value(self, key, default)

    def items(self):
        """The ``(snake_case key, value)`` pairs, as a dict's items view."""
        return _data(self).items()

    def __contains__(self, key):
        return key in _context_of(self)[3]

    def __iter__(self):
        return iter(_shown_keys_of(self))

    def __len__(self):
        return len(_shown_keys_of(self))

    # -- whole-object views -----------------------------------------------
    @property
    def json_data(self):
        """The object as received, with the API's keys (None for an empty answer)."""
        return _get_raw(self)

    def json(self, snake_case=True):
        """Return the object as a new plain dict.

        Parameters
        ----------
        snake_case : bool, optional
            True (default): snake_case keys, as attribute access shows them.
            False: the API's keys, exactly as received.
        """
        raw = _get_raw(self)
        if raw is None:
            return {}
        if not snake_case:
            return copy.deepcopy(raw)
        ctx = _get_ctx(self)
        return _snake_json(raw, ctx[1], ctx[2])

    @property
    def headers(self):
        """The HTTP response headers (None for nested objects)."""
        return _get_ctx(self)[0]

    @property
    def calls_remaining(self):
        """``X-RateLimit-Remaining`` as an int, or None."""
        return _header_int(_get_ctx(self)[0], "X-RateLimit-Remaining")

    @property
    def rate_limit(self):
        """``X-RateLimit-Limit`` as an int, or None."""
        return _header_int(_get_ctx(self)[0], "X-RateLimit-Limit")

    # -- read-only --------------------------------------------------------
    @staticmethod
    def _read_only(*_):
        raise CivisImmutableResponseError(
            "Response objects are read-only; call .json() to get a dict you can change")

    __setattr__ = __delattr__ = __setitem__ = __delitem__ = _read_only

    # -- comparison, hashing, display, pickling ---------------------------
    def __eq__(self, other):
        if isinstance(other, Response):
            return _get_raw(self) == _get_raw(other) or _data(self) == _data(other)
        if isinstance(other, dict):
            return _data(self) == other or other == _get_raw(self)
        return False

    def __hash__(self):
        return hash(json.dumps(_get_raw(self), sort_keys=True, default=repr))

    def __repr__(self):
        return f"Response({_data(self)!r})"

    def _repr_pretty_(self, printer, cycle):
        if cycle:
            printer.text("Response(...)")
        else:
            printer.text(pprint.pformat(self))

    def _repr_html_(self):
        return _display.object_html(self.json())

    def _ipython_key_completions_(self):
        """The keys ``r["..."]`` completes in IPython and Jupyter (snake_case)."""
        return list(_shown_keys_of(self))

    def __dir__(self):
        return sorted(set(object.__dir__(self)) | {k for k in _shown_keys_of(self) if k.isidentifier()})

    def __reduce__(self):
        headers, keep_case, json_value = _get_ctx(self)[:3]
        headers = dict(headers) if headers is not None else None
        return (_rebuild, (_get_raw(self), headers, keep_case, json_value))


_set_raw = Response._raw.__set__
_get_raw = Response._raw.__get__
_set_ctx = Response._ctx.__set__
_get_ctx = Response._ctx.__get__
_object_getattribute = object.__getattribute__
_new = object.__new__
#: The names a read finds on the class, never in the data (civis-python's instance
#: and class attributes win over keys of the same name, too)
_OWN_NAMES = frozenset(dir(Response))


# -- contexts ------------------------------------------------------------------
# A context is a tuple (headers, keep_case, json_value, key map, shape-or-memo,
# attribute key map, cache):
# * unresolved (what objects are made with: one per page, or _NESTED/_KEEP_CASE):
#   key maps None, index 4 a memo {shape: resolved context}, cache None;
# * resolved (after an object's first read; shared by a page's same-shaped objects):
#   index 3 {readable key: wire key}, index 4 the shape (the wire keys in order),
#   index 5 the same map without names starting with "__" (attributes never read
#   those from the data), cache None;
# * an object's own (after it first wraps a nested object or list): its resolved
#   context with index 6 {wire key: wrapped value}.
def _context(headers, keep_case, json_value):
    """A new unresolved context: objects made with it share it and its resolved contexts."""
    return (headers, bool(keep_case), bool(json_value), None, {}, None, None)


def _resolve(ctx, shape):
    """The resolved context of ``shape`` for the unresolved ``ctx`` (made once per shape)."""
    memo = ctx[4]
    resolved = memo.get(shape)
    if resolved is None:
        keys, attribute_keys = _shared(_key_maps, (ctx[1], *shape), _build_key_map)
        resolved = (ctx[0], ctx[1], ctx[2], keys, shape, attribute_keys, None)
        if len(memo) >= _SHARED_SHAPES:
            memo.clear()
        memo[shape] = resolved
    return resolved


def _context_of(response):
    """``response``'s resolved context (resolving it on its first read)."""
    ctx = _get_ctx(response)
    if ctx[3] is None:
        raw = _get_raw(response)
        ctx = _resolve(ctx, tuple(raw) if raw else ())
        _set_ctx(response, ctx)
    return ctx


_NESTED = _context(None, False, False)
_KEEP_CASE = _context(None, True, False)


def _response(raw, ctx):
    """A :class:`Response` of ``raw`` (a dict), made without ``__init__``'s checks."""
    response = _new(Response)
    _set_raw(response, raw)
    _set_ctx(response, ctx)
    return response


# -- reading -------------------------------------------------------------------
def _value(response, key, default=_MISSING):
    """The (wrapped) value of ``key``, readable or wire, else ``default`` or KeyError."""
    ctx = _context_of(response)
    wire = ctx[3].get(key)
    if wire is None:
        if default is _MISSING:
            raise KeyError(key)
        return default
    value = _get_raw(response)[wire]
    if isinstance(value, (dict, list)):
        return _wrapped(response, ctx, wire)
    return value  # a scalar is its own wrapped form: nothing to cache


def _wrapped(response, ctx, wire):
    """The wrapped value of wire key ``wire`` (nested objects and lists made once, then kept)."""
    cache = ctx[6]
    if cache is None:
        cache = {}
        ctx = ctx[:6] + (cache,)
        _set_ctx(response, ctx)
    else:
        try:
            return cache[wire]
        except KeyError:
            pass
    raw = _get_raw(response)
    value = raw[wire]
    if wire == "value" and (ctx[2] or raw.get("objectType") == "JSONValue"):
        wrapped = value
    elif wire in KEEP_CASE_KEYS and isinstance(value, dict):
        wrapped = _response(value, _KEEP_CASE)
    else:
        wrapped = _wrap(value)
    cache[wire] = wrapped
    return wrapped


def _shown_keys_of(response):
    """``{key as shown: wire key}`` in order, one per distinct shown key (shared)."""
    ctx = _get_ctx(response)
    shape = ctx[4] if ctx[3] is not None else tuple(_get_raw(response) or ())
    return _shared(_shown_keys, (ctx[1], *shape), _build_shown_keys)


def _data(response):
    """The shown keys mapped to the wrapped values (civis-python's view of the object)."""
    _context_of(response)
    raw = _get_raw(response)
    out = {}
    for key, wire in _shown_keys_of(response).items():
        value = raw[wire]
        if isinstance(value, (dict, list)):
            value = _wrapped(response, _get_ctx(response), wire)
        out[key] = value
    return out


def _missing_attribute(response, name):
    """AttributeError for ``name`` (found neither on the class nor in the data)."""
    try:
        return _object_getattribute(response, name)  # a subclass's instance attributes
    except AttributeError:
        pass
    if name[:2] == "__":
        raise AttributeError(name)
    raise AttributeError(f"Response object has no attribute {name!r}; keys: "
                         f"{', '.join(_shown_keys_of(response)) or '(none)'}") from None


def _subclass_getattribute(self, name):
    """A subclass's reads: its own attributes first (it may add some), then the data."""
    try:
        return _object_getattribute(self, name)
    except AttributeError:
        pass
    return Response.__getattribute__(self, name)


def _snake_json(raw, keep_case=False, json_value=False):
    """A new dict of ``raw`` with the keys :meth:`Response.json` shows (the same rules as access)."""
    plain_value = json_value or raw.get("objectType") == "JSONValue"
    out = {}
    for key, value in raw.items():
        name = key if keep_case else camel_to_snake(key)
        if key == "value" and plain_value:
            out[name] = copy.deepcopy(value)
        elif isinstance(value, dict):
            out[name] = _snake_json(value, key in KEEP_CASE_KEYS)
        elif isinstance(value, list):
            out[name] = _snake_list(value)
        else:
            out[name] = value
    return out


def _snake_list(values):
    return [_snake_json(v) if isinstance(v, dict) else _snake_list(v) if isinstance(v, list)
            else v for v in values]


def _pprint_response(printer, obj, stream, indent, allowance, context, level):
    """Lay out a long :class:`Response` as :mod:`pprint` lays out a dict, inside ``Response(...)``."""
    data = _data(obj)
    stream.write("Response({")
    if printer._indent_per_level > 1:
        stream.write(" " * (printer._indent_per_level - 1))
    if data:
        items = data.items()
        if printer._sort_dicts:
            items = sorted(items, key=_safe_pair)
        printer._format_dict_items(items, stream, indent + len("Response("), allowance + 1,
                                   context, level)
    stream.write("})")


def _safe_pair(pair):
    """Sort key for ``(key, value)`` pairs of mixed, maybe unorderable types (as pprint sorts)."""
    return tuple(_Orderable(x) for x in pair)


class _Orderable:
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __lt__(self, other):
        try:
            return self.obj < other.obj
        except TypeError:
            return (str(type(self.obj)), id(self.obj)) < (str(type(other.obj)), id(other.obj))


# pprint dispatches on the type's __repr__: long responses wrap like dicts (as civis-python's)
pprint.PrettyPrinter._dispatch[Response.__repr__] = _pprint_response


class ListResponse(list):
    """A list of :class:`Response` (or plain values) returned for a JSON array.

    Parameters
    ----------
    responses : iterable
        The items: :class:`Response` objects (kept as they are) or decoded
        JSON (objects are wrapped as :class:`Response`).
    headers : Mapping, optional
        The HTTP response headers.
    json_value : bool, optional
        The items come from a ``json_values`` call.

    Attributes
    ----------
    headers : Mapping or None
        The HTTP response headers.
    """

    def __init__(self, responses=(), headers=None, *, json_value=False, item_schema=None):
        super().__init__(_wrap_items(responses, _context(headers, False, json_value)))
        self.headers = headers
        self._json_value = json_value
        self.item_schema = item_schema

    def to_pandas(self, flatten=False):
        """Return the items as a ``pandas.DataFrame`` (pandas imported on use).

        Columns are in the schema's order with its types (integers, floats, booleans,
        datetimes); ``flatten=True`` turns nested objects into dotted columns.
        """
        return _frames.to_frame(self.json(), self.item_schema, flatten)

    def json(self, snake_case=True):
        """Return the items as plain dicts (snake_case keys by default)."""
        return [plain_json(item, snake_case) for item in self]

    @property
    def calls_remaining(self):
        """``X-RateLimit-Remaining`` as an int, or None."""
        return _header_int(self.headers, "X-RateLimit-Remaining")

    @property
    def rate_limit(self):
        """``X-RateLimit-Limit`` as an int, or None."""
        return _header_int(self.headers, "X-RateLimit-Limit")

    def _repr_html_(self):
        return _display.table_html([v.json() if isinstance(v, Response) else v for v in self])

    def __reduce__(self):
        headers = dict(self.headers) if self.headers is not None else None
        return (_rebuild_list, (list(self), headers, self._json_value))


def _wrap_items(values, ctx):
    """``values`` with each JSON object wrapped as a :class:`Response` of context ``ctx``."""
    if type(values) is not list:
        values = list(values)
    if _only_dicts(values):  # a page of objects: made in C loops
        count = len(values)
        items = list(map(_new, repeat(Response, count)))
        _drain(map(_set_raw, items, values))
        _drain(map(_set_ctx, items, repeat(ctx, count)))
        return items
    return [_response(value, ctx) if isinstance(value, dict) else _wrap(value) for value in values]


def _only_dicts(values):
    """True when every item of the list ``values`` is exactly a dict (in one C loop)."""
    return countOf(map(type, values), dict) == len(values)


_item_id = itemgetter("id")


def _drain(iterator):
    deque(iterator, 0)


def _rebuild_list(items, headers, json_value=False):
    return ListResponse(items, headers, json_value=json_value)


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
    fetch_page : callable or str
        ``fetch_page(page_num) -> (items, headers)`` for one page, where
        ``items`` is the decoded JSON list. civis-python's form,
        ``PaginatedResponse(path, initial_params, endpoint)``, is accepted
        too: pages are then ``endpoint._make_request("GET", path, params)``.
    start_page : int or dict, optional
        The first page (default 1); in civis-python's form, the query
        parameters.
    endpoint : object, optional
        civis-python's form only (see ``fetch_page``).
    json_value : bool, optional
        The items come from a ``json_values`` call (their ``value`` stays plain JSON).
    progress : bool, optional
        A progress bar while pages load when the total is known and there is more than
        one page (None: in a terminal or notebook with tqdm installed; see
        ``CIVIS_DYN_PROGRESS``).
    item_schema : dict, optional
        The schema of one item, for :meth:`to_pandas`.
    """

    def __init__(self, fetch_page, start_page=1, endpoint=None, *, json_value=False,
                 progress=None, item_schema=None):
        if endpoint is not None:
            fetch_page, start_page = _endpoint_pages(fetch_page, start_page, endpoint), 1
        self._fetch_page = fetch_page
        self.item_schema = item_schema
        self._progress = progress
        self._bar = None
        self._page = start_page
        self._items = iter(())
        # the items of the page fetched last are held only by the iterator over them (a
        # list iterator lets go of its list once exhausted): a page the caller does not
        # keep is freed before the next one is fetched, not kept alive (and traversed by
        # the garbage collector) while the next is decoded. _repr_html_ keeps its rows.
        self._shown = []           # the first rows of the page fetched last, as received
        self._page_length = 0
        self._done = False
        self._last_page = None     # the bound from the first answer that stated a total
        self._seen_pages = {}      # fingerprint of a page's items -> its page number
        self.headers = None
        self.pages_fetched = 0
        self._json_value = json_value

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
        self._take_page(*self._fetch_page(self._page))

    def _take_page(self, items, headers):
        """The bookkeeping of a page fetched (here, or awaited by the async iterator)."""
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
        self._track(items, headers, total_pages)
        self._page += 1
        self._shown = items[:_display.TABLE_ROWS]
        self._page_length = len(items)
        self._items = iter(list(items) if getattr(self._fetch_page, "raw_items", False)
                           else _wrap_items(items, _context(None, False, self._json_value)))

    def _track(self, items, headers, total_pages):
        if self._bar is None and total_pages is not None and total_pages > self._page:
            total = _header_int(headers, "X-Pagination-Total-Entries")
            self._bar = progress_bar(total=total, desc="pages", unit="item",
                                     progress=self._progress)
        if self._bar is not None:
            self._bar.update(len(items))
            if self._done:
                self._bar.close()

    def _repr_html_(self):
        """The page fetched last, as a table; never fetches (pages load as you iterate)."""
        if not self.pages_fetched:
            return "<p><b>PaginatedResponse</b>: nothing fetched yet (iterate to load pages)</p>"
        rows = [_display_row(v, self._json_value) for v in self._shown]
        total = _header_int(self.headers, "X-Pagination-Total-Entries")
        return _display.table_html(rows, total=self._page_length if total is None else total,
                                   title=f"PaginatedResponse, page {self._page - 1}")

    def to_pandas(self, flatten=False):
        """Consume the remaining items and return them as a ``pandas.DataFrame``.

        See :meth:`ListResponse.to_pandas`.
        """
        return _frames.to_frame(self.json(), self.item_schema, flatten)

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
        return [plain_json(item, snake_case) for item in self]


def _display_row(value, json_value):
    """A row of :meth:`PaginatedResponse._repr_html_`: ``value`` as its item shows in JSON."""
    if type(value) is dict:
        return _snake_json(value, False, json_value)
    value = _wrap(value)
    return value.json() if isinstance(value, Response) else value


def _endpoint_pages(path, initial_params, endpoint):
    """``fetch_page`` for civis-python's ``PaginatedResponse(path, params, endpoint)``."""
    params = dict(initial_params or {})
    raw = getattr(endpoint, "_return_type", "snake") == "raw"
    json_value = (path or "").lstrip("/").startswith("json_values")

    def fetch_page(page_num):
        params["page_num"] = page_num
        response = endpoint._make_request("GET", path, dict(params))
        items = response.json() if response.content != b"" else []
        if raw:
            return items, response.headers
        return [Response(v, headers=response.headers, from_json_values=json_value)
                if isinstance(v, dict) else v for v in items], response.headers

    fetch_page.raw_items = True
    return fetch_page


def _page_fingerprint(items):
    """What identifies a page: its items' ids when all have one, else a hash of its JSON."""
    if _only_dicts(items):  # the usual page: in C loops
        try:
            ids = tuple(map(_item_id, items))
        except KeyError:
            ids = (None,)
    else:
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
    """Filter objects (typically :class:`Response`) by attribute values, as civis-python does.

    Parameters
    ----------
    object_list : iterable
        The objects to filter.
    filter_func : callable, optional
        Keep the objects for which ``bool(filter_func(obj))`` is true. When
        given, ``kwargs`` are ignored.
    **kwargs
        ``name=value``: keep the objects that have attribute ``name`` and for
        which: ``value(obj.name)`` is true when ``value`` is callable;
        ``obj.name is value`` when ``value`` is True or False; else
        ``obj.name == value``.

    Returns
    -------
    list
    """
    if filter_func is None:
        def filter_func(obj):
            for key, expected in kwargs.items():
                if not hasattr(obj, key):
                    return False
                actual = getattr(obj, key)
                if callable(expected):
                    if not expected(actual):
                        return False
                elif isinstance(expected, bool):
                    if actual is not expected:
                        return False
                elif actual != expected:
                    return False
            return True

    return [obj for obj in object_list if filter_func(obj)]


def find_one(object_list, filter_func=None, **kwargs):
    """Return the first object :func:`find` keeps, or None."""
    results = find(object_list, filter_func, **kwargs)
    return results[0] if results else None
