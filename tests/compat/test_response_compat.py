"""Response, ListResponse and PaginatedResponse behave as civis-python 2.10.1's."""
import pickle
import pprint
from string import ascii_lowercase
from unittest import mock

import pytest

from civis_dyn import CivisImmutableResponseError, ListResponse, PaginatedResponse, Response


def test_responses_are_hashable():
    """civis-python: ``hash(response)`` hashes its JSON, so responses go in sets and dict keys."""
    a, b = Response({"id": 1, "name": "x"}), Response({"id": 1, "name": "x"})
    assert hash(a) == hash(b) and len({a, b, Response({"id": 2})}) == 2
    assert {a: "found"}[b] == "found"


def test_json_data_and_constructor_keywords():
    """civis-python: ``Response(json_data, *, headers, snake_case, from_json_values)`` and ``json_data``."""
    raw = {"fooBar": 1, "value": {"innerKey": 2}}
    r = Response(raw, headers={"X-RateLimit-Limit": "10"}, snake_case=True, from_json_values=True)
    assert r.json_data is raw and r.rate_limit == 10 and r.headers == {"X-RateLimit-Limit": "10"}
    assert r.value == {"innerKey": 2} and r.json() == {"foo_bar": 1, "value": {"innerKey": 2}}
    kept = Response({"FOO_BAR": 1}, snake_case=False)
    assert kept.FOO_BAR == 1 and "foo_bar" not in kept
    empty = Response(None)
    assert empty.json_data is None and empty.json() == {} and len(empty) == 0


def test_no_public_method_hides_an_api_field():
    """civis-python: a Response has only json/get/items (+ json_data, headers, rate info).

    ``JobInput.values`` (and any field named ``keys``) must read the API's field.
    """
    r = Response({"values": [1, 2], "keys": ["a"], "id": 3})
    assert r.values == [1, 2] and r.keys == ["a"]
    public = {n for n in dir(Response) if not n.startswith("_")}
    assert public == {"json", "get", "items", "json_data", "headers", "calls_remaining",
                      "rate_limit"}


def test_json_of_nested_and_listed_responses_is_plain():
    """civis-python: ``json()`` gives plain dicts at every depth, also for a ListResponse of Responses."""
    items = ListResponse([Response({"id": 1, "lastRun": {"runState": "x"}})])
    assert items.json() == [{"id": 1, "last_run": {"run_state": "x"}}]
    assert type(items.json()[0]["last_run"]) is dict
    assert items.json(snake_case=False) == [{"id": 1, "lastRun": {"runState": "x"}}]
    nested = Response({"a": [{"bC": {"dE": 1}}]}).json()
    assert nested == {"a": [{"b_c": {"d_e": 1}}]} and type(nested["a"][0]["b_c"]) is dict


def test_list_response_takes_headers_positionally():
    """civis-python: ``ListResponse(responses, headers)``."""
    items = ListResponse([Response({"id": 1})], {"X-RateLimit-Remaining": "5"})
    assert items.headers == {"X-RateLimit-Remaining": "5"} and items[0].id == 1


def test_nested_repr_shows_nested_responses():
    """civis-python: ``repr`` shows nested objects as ``Response({...})``."""
    assert repr(Response({"foo": {"barBaz": 456}})) == "Response({'foo': Response({'bar_baz': 456})})"
    assert repr(Response(None)) == "Response({})"


def test_pprint_wraps_long_responses_like_dicts():
    """civis-python: ``pprint`` lays a long Response out as a dict inside ``Response(...)``."""
    r = Response({"foo": {"a": 0}, "fooBar": {ascii_lowercase[i]: i for i in range(15)}})
    lines = pprint.pformat(r).splitlines()
    assert lines[0] == "Response({'foo': Response({'a': 0}),"
    assert lines[1] == "          'foo_bar': Response({'a': 0,"
    assert lines[2] == "                               'b': 1,"
    assert lines[-1] == "                               'o': 14})})"


def test_ipython_pretty_uses_pprint():
    """civis-python: ``_repr_pretty_`` prints ``pprint.pformat(response)``."""
    printer = mock.Mock()
    r = Response({"a": 1})
    r._repr_pretty_(printer, cycle=False)
    printer.text.assert_called_once_with(pprint.pformat(r))


def test_nested_responses_are_read_only():
    """civis-python: writing to a response or a nested one raises CivisImmutableResponseError."""
    r = Response({"fooBar": {"barBaz": 1}})
    with pytest.raises(CivisImmutableResponseError):
        r["foo_bar"]["bar_baz"] = 2
    with pytest.raises(CivisImmutableResponseError):
        r.foo_bar.bar_baz = 2


def test_equality_with_dicts_and_other_types():
    """civis-python: a Response equals the snake_case dict of it, and is never equal to other types."""
    r = Response({"foo": 123, "bar": {"bazQux": 456}})
    assert r == {"foo": 123, "bar": {"baz_qux": 456}} and r == Response({"foo": 123, "bar": {"bazQux": 456}})
    for other in (789, "str", ["list"], ("tuple",), {"set"}, None):
        assert r != other


def test_only_the_arguments_object_keeps_its_case():
    """civis-python: keys directly under ``arguments`` keep their case; objects inside are snake_cased."""
    r = Response({"arguments": {"MY_ARG": {"innerKey": 1}}})
    assert r.arguments.MY_ARG.inner_key == 1
    assert r.json() == {"arguments": {"MY_ARG": {"inner_key": 1}}}


def test_json_value_lists_keep_values_and_pickle_keeps_the_flag():
    """civis-python (``from_json_values``): a JSON value's ``value`` is never snake_cased, also after pickling."""
    items = ListResponse([{"id": 1, "value": {"someKey": 1}}], json_value=True)
    assert items.json() == [{"id": 1, "value": {"someKey": 1}}]
    clone = pickle.loads(pickle.dumps(items))
    assert clone.json() == items.json() and clone[0].value == {"someKey": 1}
    single = pickle.loads(pickle.dumps(Response({"value": {"aB": 1}}, from_json_values=True)))
    assert single.value == {"aB": 1}


def test_paginated_response_civis_python_constructor():
    """civis-python: ``PaginatedResponse(path, initial_params, endpoint)`` pages until an empty page."""
    pages = [[{"id": 1}, {"id": 2}], [{"id": 3}], []]
    endpoint = mock.Mock(_return_type="snake")
    endpoint._make_request.side_effect = [mock.Mock(content=b"[]", headers={}, **{"json.return_value": p})
                                          for p in pages]
    paginator = PaginatedResponse("/objects", {"param": "v"}, endpoint)
    endpoint._make_request.assert_not_called()
    assert [r["id"] for r in paginator] == [1, 2, 3]
    assert endpoint._make_request.call_args_list[1] == mock.call("GET", "/objects",
                                                                 {"param": "v", "page_num": 2})



def test_paginated_json_values_keep_their_values():
    """civis-python: items of a paged ``json_values`` answer keep ``value`` as plain JSON."""
    pages = {1: ([{"id": 1, "value": {"aKey": 1}}], {}), 2: ([], {})}
    items = list(PaginatedResponse(pages.__getitem__, json_value=True))
    assert items[0].value == {"aKey": 1} and items[0].json()["value"] == {"aKey": 1}
