"""Response, ListResponse, PaginatedResponse and find/find_one."""
import collections
import pickle

import pytest

import civis_dyn
from civis_dyn import ListResponse, PaginatedResponse, Response, find, find_one

WIRE = {
    "id": 1,
    "lastRun": {"state": "succeeded", "finishedAt": None},
    "runs": [{"id": 5, "errorMessage": None}],
    "arguments": {"MY_ARG": 1, "camelKey": {"innerKey": 2}},
    "environmentVariables": {"AWS_REGION": "x"},
    "provideAPIKey": True,
}


def test_attribute_and_item_access_in_snake_and_camel_case():
    r = Response(WIRE)
    assert r.id == 1 and r["id"] == 1
    assert r.last_run.state == "succeeded"
    assert r["last_run"]["finished_at"] is None
    assert r.lastRun.state == "succeeded"
    assert r.runs[0].error_message is None
    assert r.provide_api_key is True


def test_arguments_and_environment_variables_keep_their_case():
    r = Response(WIRE)
    assert r.arguments.MY_ARG == 1
    assert r.arguments["camelKey"]["innerKey"] == 2
    assert "camel_key" not in r.arguments
    assert r.environment_variables["AWS_REGION"] == "x"
    # as civis-python: only the keys of the object under "arguments" keep their case
    assert r.json()["arguments"] == {"MY_ARG": 1, "camelKey": {"inner_key": 2}}


def test_json_value_keeps_value_as_parsed_json():
    r = Response({"objectType": "JSONValue", "value": {"someKey": [1, {"deepKey": 2}]}})
    assert r.value == {"someKey": [1, {"deepKey": 2}]}
    assert r.json() == {"object_type": "JSONValue", "value": {"someKey": [1, {"deepKey": 2}]}}


def test_json_values_calls_keep_value_as_parsed_json(mini_client, requests_mock):
    requests_mock.get("https://api.example.test/json_values/3", json={"id": 3, "value": {"aKey": 1}})
    value = mini_client().json_values.get(3).value
    assert value == {"aKey": 1} and isinstance(value, dict)


def test_json_round_trips():
    r = Response(WIRE)
    assert r.json(snake_case=False) == WIRE
    snake = r.json()
    assert snake["last_run"] == {"state": "succeeded", "finished_at": None}
    assert snake["provide_api_key"] is True
    snake["id"] = 99  # a copy: the response is unchanged
    assert r.id == 1


def test_read_only():
    r = Response(WIRE)
    for action in (lambda: setattr(r, "id", 2), lambda: r.__setitem__("id", 2),
                   lambda: delattr(r, "id")):
        with pytest.raises(civis_dyn.CivisImmutableResponseError, match=r"\.json\(\)"):
            action()
    with pytest.raises(TypeError):
        r.id = 3


def test_mapping_behaviour_equality_and_repr():
    r = Response({"id": 1, "userName": "a"})
    assert len(r) == 2 and "user_name" in r and "userName" in r and "nope" not in r
    assert list(r) == ["id", "user_name"]
    assert list(r.items()) == [("id", 1), ("user_name", "a")]
    assert r.get("missing", 5) == 5
    assert r == {"id": 1, "user_name": "a"} and r == {"id": 1, "userName": "a"}
    assert r == Response({"id": 1, "userName": "a"}) and r != {"id": 2}
    assert repr(r) == "Response({'id': 1, 'user_name': 'a'})"
    assert "user_name" in dir(r)
    with pytest.raises(AttributeError, match="keys: id, user_name"):
        r.nope
    with pytest.raises(KeyError):
        r["nope"]


def test_pickle_and_headers():
    r = Response(WIRE, headers={"X-RateLimit-Remaining": "99", "X-RateLimit-Limit": "100"})
    assert r.calls_remaining == 99 and r.rate_limit == 100
    clone = pickle.loads(pickle.dumps(r))
    assert clone == r and clone.calls_remaining == 99 and clone.last_run.state == "succeeded"
    items = ListResponse([{"id": 1}], headers={"X-RateLimit-Limit": "7"})
    clone = pickle.loads(pickle.dumps(items))
    assert clone == items and clone.rate_limit == 7


def test_ipython_pretty_printing():
    import contextlib

    class Printer:  # the part of IPython's printer protocol that _repr_pretty_ uses
        def __init__(self):
            self.out = []

        def text(self, value):
            self.out.append(value)

        def pretty(self, value):
            self.out.append(repr(value))

        @contextlib.contextmanager
        def group(self, indent, open_text, close_text):
            self.out.append(open_text)
            yield
            self.out.append(close_text)

    printer = Printer()
    Response({"userName": "a"})._repr_pretty_(printer, cycle=False)
    assert "".join(printer.out) == "Response({'user_name': 'a'})"
    cyclic = Printer()
    Response({})._repr_pretty_(cyclic, cycle=True)
    assert cyclic.out == ["Response(...)"]


def test_list_response():
    items = ListResponse([{"id": 1, "someKey": 2}, {"id": 2}], headers={"A": "b"})
    assert isinstance(items, list) and len(items) == 2
    assert items[0].some_key == 2 and items.headers == {"A": "b"}
    assert items.json() == [{"id": 1, "some_key": 2}, {"id": 2}]
    assert items.json(snake_case=False) == [{"id": 1, "someKey": 2}, {"id": 2}]


@pytest.mark.parametrize("values", [
    [{"id": 1}, 2, None, "x", [{"id": 3}]],          # a mixed array
    [{"id": 1}, collections.OrderedDict(id=2)],        # a dict subclass, not a JSON object
    [7, {"id": 1}],
    [],
])
def test_list_response_wraps_each_item_by_its_kind(values):
    """Only a list of exact dicts takes the all-objects path; anything else is wrapped item by item."""
    items = ListResponse(values, headers={"A": "b"})
    assert len(items) == len(values)
    for item, value in zip(items, values):
        if isinstance(value, dict):
            assert isinstance(item, Response) and item.id == value["id"]
            assert item.headers == {"A": "b"} and item.json_data is value
        elif isinstance(value, list):
            assert isinstance(item, list) and item[0].id == 3
        else:
            assert item is value or item == value


def test_wrapping_is_lazy():
    """Wrapping a page converts nothing until read (its speed is measured in bench/, not here)."""
    page = [{"id": i, "lastRun": {"state": "x"}, "author": {"userName": "u"}} for i in range(100)]
    wrapped = ListResponse(page)
    assert all(item._ctx[3] is None and item._ctx[6] is None for item in wrapped)  # no key map yet
    assert wrapped[3].last_run.state == "x"
    assert wrapped[3]._ctx[3] is not None and wrapped[4]._ctx[3] is None


def test_same_shaped_objects_share_one_key_map_and_keep_their_own_order():
    page = ListResponse([{"id": 1, "lastRun": None}, {"id": 2, "lastRun": {"state": "x"}},
                         {"lastRun": None, "id": 3}], headers={"X-A": "1"})
    assert [item.last_run for item in page[:2]] == [None, {"state": "x"}]
    assert page[0]._ctx[3] is page[1]._ctx[3] is not None  # one key map, not one per object
    assert page[1].last_run is page[1].last_run and page[0]._ctx[6] is None  # scalars not cached
    assert list(page[2]) == ["last_run", "id"] and page[2].id == 3 and page[2]["lastRun"] is None
    assert page[2].headers == {"X-A": "1"} and repr(page[0]) == "Response({'id': 1, 'last_run': None})"


def test_empty_and_no_content_responses(mini_client, requests_mock):
    requests_mock.delete("https://api.example.test/things/4/runs/8", status_code=204)
    result = mini_client().things.delete_runs(4, 8)
    assert isinstance(result, Response) and len(result) == 0


def test_raw_return_type_and_last_response(mini_client, requests_mock):
    requests_mock.get("https://api.example.test/things/1", json={"id": 1})
    raw_client = mini_client(return_type="raw")
    raw = raw_client.things.get(1)
    assert raw.json() == {"id": 1} and raw_client.last_response is raw
    client = mini_client()
    result = client.things.get(1)
    assert client.last_response is result


def test_array_response_is_a_list_response(mini_client, requests_mock):
    requests_mock.get("https://api.example.test/git-repos/", json=[{"repoUrl": "u"}],
                      headers={"X-RateLimit-Remaining": "3"})
    repos = mini_client().git_repos.list()
    assert isinstance(repos, ListResponse) and repos[0].repo_url == "u" and repos.calls_remaining == 3


def _pages(requests_mock, pages, total_header=True, per_page=2):
    def callback(request, context):
        page = int(request.qs.get("page_num", ["1"])[0])
        if total_header:
            context.headers["X-Pagination-Total-Pages"] = str(len(pages))
        context.headers["X-Pagination-Per-Page"] = str(per_page)
        return pages[page - 1] if page <= len(pages) else []
    requests_mock.get("https://api.example.test/things/", json=callback)


def test_paginated_response_is_lazy_and_makes_no_extra_request(mini_client, requests_mock):
    _pages(requests_mock, [[{"id": 1}, {"id": 2}], [{"id": 3}, {"id": 4}], [{"id": 5}]])
    client = mini_client()
    result = client.things.list(iterator=True, name="x", limit=2)
    assert isinstance(result, PaginatedResponse) and client.last_response is result
    assert requests_mock.call_count == 0
    assert [r.id for r in result] == [1, 2, 3, 4, 5]
    assert requests_mock.call_count == 3  # N pages -> N requests
    queries = [r.qs for r in requests_mock.request_history]
    assert all(q["name"] == ["x"] and q["limit"] == ["2"] for q in queries)
    assert [q["page_num"] for q in queries] == [["1"], ["2"], ["3"]]


def test_paginated_response_without_total_header_stops_on_short_or_empty_page(mini_client, requests_mock):
    _pages(requests_mock, [[{"id": 1}, {"id": 2}], [{"id": 3}, {"id": 4}]], total_header=False)
    result = mini_client().things.list(iterator=True, limit=2)
    assert [r.id for r in result] == [1, 2, 3, 4]
    assert requests_mock.call_count == 3  # the empty third page ends it


def test_paginated_json_returns_dicts(mini_client, requests_mock):
    _pages(requests_mock, [[{"id": 1, "someKey": 1}]])
    assert mini_client().things.list(iterator=True).json() == [{"id": 1, "some_key": 1}]


def test_find_and_find_one():
    objects = [Response({"id": 1, "name": "a", "state": "x"}), Response({"id": 2, "name": "b"})]
    assert find(objects, name="a") == [objects[0]]
    assert find(objects, state=True) == []  # as civis-python: True matches only `is True`
    assert find(objects, id=lambda v: v > 1) == [objects[1]]
    assert find(objects, lambda o: o.id == 2) == [objects[1]]
    assert find_one(objects, name="b") is objects[1]
    assert find_one(objects, name="zzz") is None
