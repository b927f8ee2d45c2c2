"""How a Response's fields are read: the same answers as civis-python's Response, whatever the path.

A Response reads fields in a Python-level ``__getattribute__`` (the class's own names
first, then the data through a key map shared by same-shaped objects) and wraps a page's
objects in C loops; these tests pin what that must not change.
"""
import copy
import pickle
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civis_dyn import ListResponse, Response
from civis_dyn._response import wrap_json

civis_response = pytest.importorskip("civis.response", reason="civis-python is not installed")

KEYS = ["id", "name", "Name", "lastRun", "last_run", "createdAt", "arguments",
        "environmentVariables", "value", "objectType", "provideAPIKey", "items", "json",
        "headers", "get", "json_data", "rate_limit", "x", "", "A"]
PROBES = KEYS + ["last_run", "created_at", "provide_api_key", "environment_variables",
                 "object_type", "missing", "calls_remaining", "a"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["s", "JSONValue"]))


def _objects(values):
    return st.dictionaries(st.sampled_from(KEYS), values, max_size=6)


JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    _objects(inner), st.lists(st.one_of(SCALARS, _objects(inner)), max_size=3)), max_leaves=12)
OBJECTS = _objects(JSON)


def norm(value):
    """A wrapped value as plain data that says which parts are responses."""
    if isinstance(value, (Response, civis_response.Response)):
        return ("R", [(k, norm(v)) for k, v in value.items()])
    if isinstance(value, list):
        return [norm(v) for v in value]
    if isinstance(value, dict):
        return ("D", [(k, norm(v)) for k, v in value.items()])
    return value


def outcome(read):
    try:
        value = read()
    except (AttributeError, KeyError) as exc:
        return type(exc).__name__
    return "callable" if callable(value) else norm(value)


def same_reads(ours, theirs, names=PROBES):
    for name in names:
        assert outcome(lambda: getattr(ours, name)) == outcome(lambda: getattr(theirs, name)), name
        assert outcome(lambda: ours[name]) == outcome(lambda: theirs[name]), name
        assert norm(ours.get(name, "default")) == norm(theirs.get(name, "default")), name
    assert len(ours) == len(theirs)
    assert norm(ours) == norm(theirs)
    assert repr(ours) == repr(theirs)
    assert ours.json() == theirs.json() and ours.json(snake_case=False) == theirs.json(snake_case=False)


@settings(max_examples=120, deadline=None)
@given(OBJECTS, st.booleans())
def test_reads_match_civis_python_in_any_order(data, json_values):
    theirs = civis_response.Response(data, headers={"X-RateLimit-Limit": "9"},
                                     from_json_values=json_values)
    ours = Response(data, headers={"X-RateLimit-Limit": "9"}, from_json_values=json_values)
    same_reads(ours, theirs)
    same_reads(ours, theirs, reversed(PROBES))  # after the first read, and read again
    assert ours.rate_limit == theirs.rate_limit == 9 and ours.json_data is data


@settings(max_examples=40, deadline=None)
@given(st.lists(OBJECTS, max_size=6))
def test_a_wrapped_page_reads_like_civis_pythons(items):
    ours = wrap_json(items, {"A": "b"})
    theirs = civis_response.convert_response_data_type(items, headers={"A": "b"})
    assert isinstance(ours, ListResponse) and len(ours) == len(theirs)
    for mine, other in zip(ours, theirs):
        assert type(mine) is Response and mine.headers == {"A": "b"}
        same_reads(mine, other)


def test_the_class_names_win_over_fields_of_the_same_name():
    r = Response({"json": 1, "items": 2, "get": 3, "headers": 4, "jsonData": 5, "name": "n"})
    assert r.json() == {"json": 1, "items": 2, "get": 3, "headers": 4, "json_data": 5, "name": "n"}
    assert list(r.items())[0] == ("json", 1) and r.get("get") == 3 and r.headers is None
    assert r.json_data["jsonData"] == 5 and r["json_data"] == 5 and r.name == "n"


def test_names_starting_with_two_underscores_are_items_not_attributes():
    r = Response({"__x": 1, "__copy__": 2, "y": 3})
    assert r["__x"] == 1 and r["__copy__"] == 2 and r.y == 3
    with pytest.raises(AttributeError):
        r.__x  # noqa: B018
    assert copy.copy(r) == r and copy.deepcopy(r).json() == {"__x": 1, "__copy__": 2, "y": 3}
    with pytest.raises(AttributeError, match="'missing'; keys: __x, __copy__, y"):
        r.missing  # noqa: B018
    with pytest.raises(AttributeError):
        getattr(r, "")


def test_a_subclass_reads_its_own_attributes_first_then_the_fields():
    class Job(Response):
        kind = "job"

        def describe(self):
            return f"{self.kind} {self.name}"

    job = Job({"kind": "data", "name": "n", "lastRun": {"state": "x"}})
    assert job.describe() == "job n" and job["kind"] == "data" and job.last_run.state == "x"
    with pytest.raises(AttributeError):
        job.missing  # noqa: B018


def test_reading_fields_never_changes_what_the_object_shows():
    page = wrap_json([{"id": i, "lastRun": {"state": "x"}, "author": None} for i in range(3)])
    first = [repr(item) for item in page]
    assert page[0].last_run is page[0].last_run and page[0].author is None
    assert page[1]["lastRun"].state == "x" and "last_run" in page[2]
    assert [repr(item) for item in page] == first
    again = pickle.loads(pickle.dumps(page))
    assert again == page and again[0].last_run.state == "x"


def test_objects_read_from_many_threads_at_once_give_the_same_answers():
    page = wrap_json([{"id": i, "lastRun": {"state": str(i)}, "createdAt": i} for i in range(2000)])
    errors = []

    def read(offset):
        try:
            for index in range(offset, len(page), 3):
                item = page[index]
                assert (item.id, item.created_at, item.last_run.state) == (index, index, str(index))
        except Exception as exc:  # noqa: BLE001 - any failure in a thread is reported below
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(offset,)) for offset in (0, 1, 2, 0, 1, 2)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: first reads interleave
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors


class _Marker:
    """An object inside an item, to see when the item is freed (dicts take no weak references)."""


def test_a_page_is_let_go_before_the_next_is_fetched():
    """Items the caller does not keep are freed before the next page is fetched and decoded.

    Only the first rows the page's HTML view shows stay, as received.
    """
    import weakref

    from civis_dyn import PaginatedResponse

    markers = []
    alive_at_fetch = []

    def fetch_page(number):
        alive_at_fetch.append([ref() is not None for ref in markers])
        items = []
        for index in range(30):
            marker = _Marker()
            markers.append(weakref.ref(marker))
            items.append({"id": number * 100 + index, "payload": [marker]})
        return items, {"X-Pagination-Total-Pages": "3"}

    paged = PaginatedResponse(fetch_page)
    ids = [item.id for item in paged]
    assert ids == [n * 100 + i for n in (1, 2, 3) for i in range(30)]
    # page 1 when page 2 is fetched: its 20 shown rows, and the item the loop variable holds
    assert alive_at_fetch[1] == [True] * 20 + [False] * 9 + [True]
    assert alive_at_fetch[2][30:] == [True] * 20 + [False] * 9 + [True]
    assert not any(alive_at_fetch[2][:30])  # page 1: all gone
    html = paged._repr_html_()
    assert "page 3" in html and "30 items" in html and "+10 more" in html and "300" in html
