"""``spec._routing``: the one router, used by the Stubber and the local API."""

import pytest

import civis_dyn
from civis_dyn.spec._routing import NoRoute, Router, operation_router
from civis_dyn.testing import Stubber
from civis_dyn.testing._store import Store


@pytest.fixture
def router():
    r = Router()
    r.add("GET", "/users/{id}", "users.get", {"id": "integer"})
    r.add("GET", "/users/me", "users.me")
    r.add("GET", "/a/{x}/c", "a.x.c")
    r.add("GET", "/a/b/d", "a.b.d")
    r.add("PUT", "/a/b/d", "a.b.d.put")
    r.add("GET", "/files/{name}", "files.get")
    r.add("GET", "/jobs/", "jobs.list")
    return r


@pytest.mark.parametrize("verb, path, expected", [
    ("GET", "/users/me", ("users.me", {})),                  # a literal wins over a parameter
    ("GET", "/users/7", ("users.get", {"id": 7})),           # integer parameters come as int
    ("get", "/a/b/c", ("a.x.c", {"x": "b"})),                # backtracks from the literal 'b'
    ("GET", "/a/b/d", ("a.b.d", {})),
    ("GET", "/jobs", ("jobs.list", {})),                     # trailing and doubled slashes
    ("GET", "//jobs//", ("jobs.list", {})),
    ("GET", "/files/a%2Fb", ("files.get", {"name": "a/b"})),  # segments are percent-decoded
    ("GET", ["users", "7"], ("users.get", {"id": 7})),       # or given as segments
])
def test_match(router, verb, path, expected):
    assert router.match(verb, path) == expected


def test_no_route_says_404_or_405(router):
    with pytest.raises(NoRoute) as info:
        router.match("GET", "/nothing")
    assert info.value.allow == ()
    with pytest.raises(NoRoute) as info:
        router.match("DELETE", "/a/b/d")
    assert info.value.allow == ("GET", "PUT")
    with pytest.raises(NoRoute):  # an integer parameter takes only digits
        router.match("GET", "/users/abc")


def test_the_first_route_added_wins(router):
    assert router.add("GET", "/jobs", "other") is False
    assert router.match("GET", "/jobs/") == ("jobs.list", {})


def test_operation_router_is_shared_per_spec_and_leaves_out_aliases(mini_client):
    spec = mini_client().meta.spec
    router = operation_router(spec)
    assert operation_router(spec) is router
    assert router.match("GET", "/users/me") == (("users", "get_me"), {})  # not the list_me alias
    assert router.match("GET", "/things/3/runs/4") == (("things", "get_runs"), {"id": "3", "run_id": "4"})


def test_the_stubber_and_the_local_api_route_with_it(mini_spec_path, mini_client):
    import json

    store = Store(json.loads(mini_spec_path.read_text()), clock=lambda: 0.0)
    assert isinstance(store.router._router, Router)
    route, params = store.match("GET", ["things", "5", "runs", "6"])
    assert (route.template, params) == ("/things/{id}/runs/{run_id}", (5, 6))
    client = mini_client()
    with Stubber(client) as stubber:
        stubber.add_response("things.get_runs", {"id": 6}, expected_params={"id": 5, "run_id": 6})
        assert client.things.get_runs(5, 6).id == 6
        stubber.add_response("users.get_me", {"id": 1})
        with pytest.raises(civis_dyn.testing.StubberError, match="expected a call to users.get_me, "
                                                                 "got things.get"):
            client.things.get(1)
