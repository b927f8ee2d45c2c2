"""LocalCivisAPI over real HTTP on 127.0.0.1, with plain ``requests``.

Most tests use a small hand-written schema (``MINI``) so they run without the
shared real schema; the ``real_spec`` ones check every route of the real one.
Run lifecycles use an injected clock, never sleeps.
"""
import email.utils
import gzip
import hashlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from scaffold.clock import FakeClock
from scaffold.schemas import array, body, obj, op, param, ref

from civis_dyn.testing._local_api import Fault, Faults, LocalCivisAPI, RequestRecord

KEY = "local-test-key"


# -- a small schema of our own (the shared builder) -------------------------------
_ref, _array, _obj = ref, array, obj


def _p(name, kind="integer", where="path", desc=None):
    return param(name, where, kind, required=where == "path", description=desc)


def _body(name):
    return body(name, name)


def _op(status, schema=None, params=()):
    return op(schema, *params, status=status)


ID = _p("id")
LIST_PARAMS = [
    _p("name", "string", "query"), _p("color", "string", "query"),
    _p("size_class", "string", "query"), _p("archived", "string", "query"),
    _p("limit", "integer", "query", "Number of results. Defaults to 20. Maximum allowed is 50."),
    _p("page_num", "integer", "query", "Page number. Defaults to the first page, 1."),
    _p("order", "string", "query", "The field to order by. Defaults to id."),
    _p("order_dir", "string", "query", "Either asc or desc, defaulting to asc."),
]
RUN_ID = _p("run_id")


def _object_paths(base, detail, create, runs=True):
    paths = {
        f"{base}/": {"get": _op(200, _array(detail), LIST_PARAMS),
                     "post": _op(201, _ref(detail), [_body(create)])},
        f"{base}/{{id}}": {"get": _op(200, _ref(detail), [ID]),
                           "put": _op(200, _ref(detail), [ID, _body(create)]),
                           "patch": _op(200, _ref(detail), [ID, _body(create)]),
                           "delete": _op(204, None, [ID])},
        f"{base}/{{id}}/archive": {"put": _op(200, _ref(detail), [ID, _body("Archive")])},
        f"{base}/{{id}}/shares": {"get": _op(200, _array("ShareIndex"), [ID])},
        f"{base}/{{id}}/shares/users": {"put": _op(200, _ref("ShareIndex"),
                                                   [ID, _body("ShareUsers")])},
        f"{base}/{{id}}/shares/groups": {"put": _op(200, _ref("ShareIndex"),
                                                    [ID, _body("ShareGroups")])},
        f"{base}/{{id}}/shares/users/{{user_id}}": {"delete": _op(204, None, [ID, _p("user_id")])},
        f"{base}/{{id}}/shares/groups/{{group_id}}": {
            "delete": _op(204, None, [ID, _p("group_id")])},
        f"{base}/{{id}}/projects": {"get": _op(200, _array("Project"), [ID])},
        f"{base}/{{id}}/projects/{{project_id}}": {
            "put": _op(204, None, [ID, _p("project_id")]),
            "delete": _op(204, None, [ID, _p("project_id")])},
    }
    if runs:
        run_list = [ID, _p("limit", "integer", "query", "Defaults to 20."),
                    _p("page_num", "integer", "query"),
                    _p("order", "string", "query", "Defaults to id."),
                    _p("order_dir", "string", "query", "defaulting to desc.")]
        paths.update({
            f"{base}/{{id}}/runs": {"post": _op(202, _ref("Run"), [ID]),
                                    "get": _op(200, _array("Run"), run_list)},
            f"{base}/{{id}}/runs/{{run_id}}": {"get": _op(200, _ref("Run"), [ID, RUN_ID]),
                                               "delete": _op(202, None, [ID, RUN_ID])},
            f"{base}/{{id}}/runs/{{run_id}}/logs": {"get": _op(200, _array("Log"), [
                ID, RUN_ID, _p("last_id", "integer", "query"),
                _p("limit", "integer", "query", "Default of 10000.")])},
            f"{base}/{{id}}/runs/{{run_id}}/outputs": {
                "get": _op(200, _array("Output"), [ID, RUN_ID]),
                "post": _op(202, _ref("Output"), [ID, RUN_ID, _body("OutputCreate")])},
        })
    return paths


S, I, B, N = ({"type": t} for t in ("string", "integer", "boolean", "number"))
USER = _ref("User")

MINI = {
    "swagger": "2.0",
    "info": {"title": "mini", "version": "1"},
    "paths": {
        **_object_paths("/things", "Thing", "ThingCreate"),
        **_object_paths("/projects", "Project", "ProjectCreate", runs=False),
        "/scripts/containers": {"post": _op(201, _ref("Container"), [_body("ContainerCreate")])},
        "/scripts/containers/{id}": {"get": _op(200, _ref("Container"), [ID])},
        "/scripts/containers/{id}/runs": {"post": _op(202, _ref("ContainerRun"), [ID])},
        "/scripts/containers/{id}/runs/{run_id}": {
            "get": _op(200, _ref("ContainerRun"), [ID, RUN_ID])},
        "/scripts/{id}": {"get": _op(200, _ref("Job"), [ID])},
        "/jobs/{id}": {"get": _op(200, _ref("Job"), [ID])},
        "/jobs/{id}/runs": {"post": _op(201, _ref("Run"), [ID])},
        "/workflows/": {"post": _op(201, _ref("Workflow"), [_body("WorkflowCreate")])},
        "/workflows/{id}": {"get": _op(200, _ref("Workflow"), [ID])},
        "/workflows/{id}/executions": {"post": _op(201, _ref("Execution"),
                                                   [ID, _body("ExecutionCreate")])},
        "/workflows/{id}/executions/{execution_id}": {
            "get": _op(200, _ref("Execution"), [ID, _p("execution_id")])},
        "/workflows/{id}/executions/{execution_id}/cancel": {
            "post": _op(202, _ref("Execution"), [ID, _p("execution_id")])},
        "/users/me": {"get": _op(200, _ref("UserMe"))},
    },
    "definitions": {
        "User": _obj(id=I, name=S, username=S, initials=S, online=B),
        "UserMe": _obj(id=I, name=S, username=S, email=S),
        "ThingCreate": _obj(name=S, size=I, color=S, sizeClass=S, ratio=N, enabled=B,
                            tags={"type": "array", "items": S},
                            meta=_obj(label=S, depth=I), arguments={"type": "object"}),
        "Thing": _obj(id=I, name=S, size=I, color=S, sizeClass=S, ratio=N, enabled=B,
                      tags={"type": "array", "items": S}, meta=_obj(label=S, depth=I),
                      arguments={"type": "object"}, state=S, lastRun=_ref("Run"),
                      createdAt=S, updatedAt=S, author=USER, archived=B,
                      projects={"type": "array", "items": _ref("Project")}),
        "Project": _obj(id=I, name=S, createdAt=S, author=USER, archived=B),
        "ProjectCreate": _obj(name=S),
        "Archive": _obj(status=B),
        "Run": _obj(id=I, state=S, createdAt=S, startedAt=S, finishedAt=S, error=S),
        "ContainerRun": _obj(id=I, containerId=I, state=S, isCancelRequested=B, createdAt=S,
                             startedAt=S, finishedAt=S, error=S),
        "Log": _obj(id=I, createdAt=S, message=S, level=S),
        "Output": _obj(objectType=S, objectId=I, name=S, link=S),
        "OutputCreate": _obj(objectType=S, objectId=I),
        "ContainerCreate": _obj(name=S, dockerImageName=S, arguments={"type": "object"}),
        "Container": _obj(id=I, name=S, dockerImageName=S, state=S, finishedAt=S,
                          author=USER, createdAt=S),
        "Job": _obj(id=I, name=S, state=S, lastRun=_ref("Run"), archived=B),
        "WorkflowCreate": _obj(name=S),
        "Workflow": _obj(id=I, name=S, state=S, lastExecutionId=I),
        "ExecutionCreate": _obj(input={"type": "object"}),
        "Execution": _obj(id=I, state=S, user=USER, input={"type": "object"}, startedAt=S,
                          finishedAt=S, createdAt=S),
        "ShareUsers": _obj(userIds={"type": "array", "items": I}, permissionLevel=S),
        "ShareGroups": _obj(groupIds={"type": "array", "items": I}, permissionLevel=S),
        "ShareSet": _obj(users={"type": "array", "items": _obj(id=I, name=S)},
                         groups={"type": "array", "items": _obj(id=I, name=S)}),
        "ShareIndex": _obj(readers=_ref("ShareSet"), writers=_ref("ShareSet"),
                           owners=_ref("ShareSet"), totalUserShares=I, totalGroupShares=I),
    },
}


@pytest.fixture
def api(clock):
    with LocalCivisAPI(spec=MINI, api_key=KEY, clock=clock, run_delays=(1.0, 2.0)) as server:
        yield server


def _session(key=KEY):
    s = requests.Session()
    s.trust_env = False          # never send loopback traffic through a proxy
    if key:
        s.headers["Authorization"] = f"Bearer {key}"
    return s


@pytest.fixture
def http(api):
    class Http:
        def __init__(self):
            self.s = _session()

        def __getattr__(self, verb):
            def call(path, **kw):
                return self.s.request(verb.upper(), api.url + path.lstrip("/"), timeout=5, **kw)
            return call

    h = Http()
    yield h
    h.s.close()


# -- CRUD and routing ------------------------------------------------------------
def test_url_key_and_spec(api):
    assert api.url == f"http://127.0.0.1:{api.port}/"
    assert api.api_key == KEY and api.spec is MINI
    assert KEY not in repr(api)
    assert len(LocalCivisAPI(spec=MINI).api_key) >= 32


def test_create_get_patch_put_delete(http):
    r = http.post("/things/", json={"name": "a", "size": 3, "meta": {"label": "x"}})
    assert r.status_code == 201
    thing = r.json()
    assert thing["id"] == 1 and thing["name"] == "a" and thing["size"] == 3
    assert thing["createdAt"].endswith("Z") and thing["updatedAt"] == thing["createdAt"]
    assert thing["author"] == {"id": 1, "name": "Local User", "username": "local",
                               "initials": "LU", "online": True}
    got = http.get("/things/1").json()
    # Missing fields come from the response schema: null, [] or a filled object.
    assert got["color"] is None and got["tags"] == [] and got["meta"] == {"label": "x",
                                                                          "depth": None}
    assert got["archived"] is False and got["lastRun"] is None and got["state"] == "idle"
    assert http.get("/things/1/").json() == got                      # trailing slash
    r = http.patch("/things/1", json={"color": "red", "tags": ["t"]})
    assert r.status_code == 200 and r.json()["color"] == "red" and r.json()["size"] == 3
    r = http.put("/things/1", json={"name": "b"})
    assert r.json()["name"] == "b" and r.json()["size"] is None and r.json()["color"] is None
    assert r.json()["createdAt"] == thing["createdAt"] and r.json()["author"]["id"] == 1
    assert http.delete("/things/1").status_code == 204
    r = http.get("/things/1")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found" and r.json()["code"] == 404
    assert "errorDescription" in r.json()
    assert http.post("/things/", json={"name": "c"}).json()["id"] == 2   # ids are not reused


def test_unknown_path_404_wrong_verb_405(http):
    r = http.get("/nothing/here")
    assert r.status_code == 404 and r.json() == {
        "error": "not_found", "errorDescription": "No route matches /nothing/here", "code": 404}
    r = http.delete("/things/")
    assert r.status_code == 405 and set(r.headers["Allow"].split(", ")) == {"GET", "POST"}
    assert r.json()["code"] == 405
    assert http.get("/things/abc").status_code == 404          # integer parameter
    assert http.get("/users/me").json()["username"] == "local"


def test_nested_collections_and_jobs_view(http):
    c = http.post("/scripts/containers", json={"name": "c", "dockerImageName": "img"}).json()
    t = http.post("/things/", json={"name": "t"}).json()
    assert c["id"] == 1 and t["id"] == 1                        # ids are per collection
    job = http.get(f"/jobs/{c['id']}").json()
    assert job["name"] == "c" and job["state"] == "idle"
    assert http.get(f"/scripts/{c['id']}").json()["name"] == "c"
    run = http.post(f"/jobs/{c['id']}/runs")
    assert run.status_code == 201
    r = http.get(f"/scripts/containers/{c['id']}/runs/{run.json()['id']}").json()
    assert r["containerId"] == c["id"] and r["state"] == "queued"
    assert http.get("/jobs/99").status_code == 404


# -- lists -------------------------------------------------------------------------
def test_list_filters(http):
    for name, color, size_class in [("a", "red", "big"), ("b", "blue", "big"),
                                    ("c", "red", "small"), ("d", None, None)]:
        http.post("/things/", json={"name": name, "color": color, "sizeClass": size_class})
    names = lambda r: [x["name"] for x in r.json()]  # noqa: E731
    assert names(http.get("/things/")) == ["a", "b", "c", "d"]
    assert names(http.get("/things/", params={"color": "red"})) == ["a", "c"]
    assert names(http.get("/things/", params={"size_class": "big"})) == ["a", "b"]
    assert names(http.get("/things/", params={"color": "red", "size_class": "small"})) == ["c"]
    assert names(http.get("/things/", params={"color": "blue,red"})) == ["a", "b", "c"]
    assert names(http.get("/things/", params={"color": "green"})) == []
    assert names(http.get("/things/", params={"order": "name", "order_dir": "desc"})) == [
        "d", "c", "b", "a"]


def test_pagination_headers_and_pages(http):
    for i in range(45):
        http.post("/things/", json={"name": f"n{i}"})
    r = http.get("/things/")
    assert len(r.json()) == 20 and r.json()[0]["id"] == 1
    h = r.headers
    assert (h["X-Pagination-Current-Page"], h["X-Pagination-Per-Page"],
            h["X-Pagination-Total-Entries"], h["X-Pagination-Total-Pages"]) == (
        "1", "20", "45", "3")
    r = http.get("/things/", params={"page_num": 3})
    assert [x["id"] for x in r.json()] == list(range(41, 46))
    assert r.headers["X-Pagination-Current-Page"] == "3"
    r = http.get("/things/", params={"limit": 10, "page_num": 2})
    assert [x["id"] for x in r.json()] == list(range(11, 21))
    assert r.headers["X-Pagination-Total-Pages"] == "5"
    r = http.get("/things/", params={"limit": 500})                 # capped at the maximum
    assert r.headers["X-Pagination-Per-Page"] == "50" and len(r.json()) == 45
    assert http.get("/things/", params={"page_num": 9}).json() == []
    assert "X-Pagination-Per-Page" not in http.get("/things/1").headers


def test_archive_and_list_default(http):
    http.post("/things/", json={"name": "keep"})
    http.post("/things/", json={"name": "old"})
    r = http.put("/things/2/archive", json={"status": True})
    assert r.status_code == 200 and r.json()["archived"] is True
    assert [x["name"] for x in http.get("/things/").json()] == ["keep"]
    assert [x["name"] for x in http.get("/things/", params={"archived": "true"}).json()] == [
        "old"]
    assert len(http.get("/things/", params={"archived": "all"}).json()) == 2
    assert http.put("/things/2/archive", json={"status": False}).json()["archived"] is False


def test_shares(http):
    http.post("/things/", json={"name": "s"})
    r = http.put("/things/1/shares/users", json={"userIds": [5, 6], "permissionLevel": "read"})
    assert r.status_code == 200
    assert r.json()["readers"]["users"] == [{"id": 5, "name": "User 5"},
                                            {"id": 6, "name": "User 6"}]
    http.put("/things/1/shares/groups", json={"groupIds": [7], "permissionLevel": "write"})
    index = http.get("/things/1/shares").json()
    assert isinstance(index, list) and len(index) == 1
    index = index[0]
    assert index["writers"]["groups"] == [{"id": 7, "name": "Group 7"}]
    assert index["owners"]["users"] == [{"id": 1, "name": "Local User"}]
    assert index["totalUserShares"] == 3 and index["totalGroupShares"] == 1
    assert http.delete("/things/1/shares/users/5").status_code == 204
    assert http.delete("/things/1/shares/groups/7").status_code == 204
    index = http.get("/things/1/shares").json()[0]
    assert index["readers"]["users"] == [{"id": 6, "name": "User 6"}]
    assert index["writers"]["groups"] == []
    assert http.delete("/things/1/shares/users/5").status_code == 404
    r = http.put("/things/1/shares/users", json={"userIds": [5], "permissionLevel": "own"})
    assert r.status_code == 400 and "permissionLevel" in r.json()["errorDescription"]


def test_projects_membership(http):
    project = http.post("/projects/", json={"name": "P"}).json()
    http.post("/things/", json={"name": "t"})
    assert http.put(f"/things/1/projects/{project['id']}").status_code == 204
    listed = http.get("/things/1/projects").json()
    assert [(p["id"], p["name"]) for p in listed] == [(project["id"], "P")]
    assert [p["name"] for p in http.get("/things/1").json()["projects"]] == ["P"]
    assert http.delete(f"/things/1/projects/{project['id']}").status_code == 204
    assert http.get("/things/1/projects").json() == []
    assert http.delete(f"/things/1/projects/{project['id']}").status_code == 404


# -- runs ----------------------------------------------------------------------------
def test_run_lifecycle(http, clock):
    http.post("/things/", json={"name": "job"})
    r = http.post("/things/1/runs")
    assert r.status_code == 202
    run = r.json()
    assert run["state"] == "queued" and run["startedAt"] is None and run["error"] is None
    url = f"/things/1/runs/{run['id']}"
    clock.advance(1.0)
    running = http.get(url).json()
    assert running["state"] == "running" and running["startedAt"] is not None
    assert http.get("/things/1").json()["state"] == "running"
    clock.advance(2.0)
    done = http.get(url).json()
    assert done["state"] == "succeeded" and done["finishedAt"] is not None
    thing = http.get("/things/1").json()
    assert thing["state"] == "succeeded" and thing["lastRun"]["id"] == run["id"]
    second = http.post("/things/1/runs").json()
    assert http.get("/things/1").json()["lastRun"]["id"] == second["id"]
    assert [x["id"] for x in http.get("/things/1/runs").json()] == [second["id"], run["id"]]
    assert http.get("/things/1/runs").headers["X-Pagination-Total-Entries"] == "2"
    assert http.get("/things/1/runs/999").status_code == 404
    assert http.post("/things/77/runs").status_code == 404
    assert http.get(f"{url}/outputs").json() == []


def test_run_failures(http, clock):
    http.post("/things/", json={"name": "this will FAIL"})
    http.post("/things/", json={"name": "ok", "arguments": {"fail": "boom"}})
    http.post("/things/", json={"name": "fine"})
    runs = [http.post(f"/things/{i}/runs").json()["id"] for i in (1, 2, 3)]
    clock.advance(3.0)
    states = [http.get(f"/things/{i}/runs/{r}").json() for i, r in zip((1, 2, 3), runs)]
    assert [s["state"] for s in states] == ["failed", "failed", "succeeded"]
    assert "fail" in states[0]["error"] and states[1]["error"] == "boom"
    assert states[2]["error"] is None
    assert http.get("/things/1").json()["state"] == "failed"


def test_cancel_run(http, clock):
    http.post("/things/", json={"name": "job"})
    rid = http.post("/things/1/runs").json()["id"]
    clock.advance(1.5)
    r = http.delete(f"/things/1/runs/{rid}")
    assert r.status_code == 202 and r.content == b""
    clock.advance(5)
    run = http.get(f"/things/1/runs/{rid}").json()
    assert run["state"] == "cancelled" and run["finishedAt"] is not None
    logs = http.get(f"/things/1/runs/{rid}/logs").json()
    assert logs[-1]["message"] == "Run cancelled"
    assert "Run succeeded" not in [x["message"] for x in logs]


def test_logs_appear_over_the_life_of_a_run(http, clock):
    http.post("/things/", json={"name": "job"})
    rid = http.post("/things/1/runs").json()["id"]
    url = f"/things/1/runs/{rid}/logs"
    first = http.get(url).json()
    assert [x["message"] for x in first] == ["Run queued"]
    assert set(first[0]) == {"id", "createdAt", "message", "level"}
    clock.advance(3.0)
    logs = http.get(url).json()
    assert [x["id"] for x in logs] == [1, 2, 3, 4]
    assert logs[-1]["message"] == "Run succeeded"
    assert [x["id"] for x in http.get(url, params={"last_id": 2}).json()] == [3, 4]
    assert [x["id"] for x in http.get(url, params={"last_id": 1, "limit": 1}).json()] == [2]
    assert http.get(url, params={"last_id": 4}).json() == []


def test_outputs(http):
    http.post("/things/", json={"name": "job"})
    rid = http.post("/things/1/runs").json()["id"]
    url = f"/things/1/runs/{rid}/outputs"
    assert http.get(url).json() == []
    r = http.post(url, json={"objectType": "File", "objectId": 42})
    assert r.status_code == 202 and r.json()["objectId"] == 42 and r.json()["name"]
    assert [(o["objectType"], o["objectId"]) for o in http.get(url).json()] == [("File", 42)]
    assert http.post(url, json={"objectType": "File"}).status_code == 400


def test_workflow_executions(http, clock):
    http.post("/workflows/", json={"name": "wf"})
    e = http.post("/workflows/1/executions", json={"input": {"x": 1}})
    assert e.status_code == 201 and e.json()["state"] == "queued"
    assert e.json()["user"]["id"] == 1 and e.json()["input"] == {"x": 1}
    clock.advance(3)
    assert http.get(f"/workflows/1/executions/{e.json()['id']}").json()["state"] == "succeeded"
    assert http.get("/workflows/1").json()["lastExecutionId"] == e.json()["id"]
    e2 = http.post("/workflows/1/executions", json={}).json()
    r = http.post(f"/workflows/1/executions/{e2['id']}/cancel")
    assert r.status_code == 202 and r.json()["state"] == "cancelled"
    bad = http.post("/workflows/1/executions", json={"input": {"fail": True}}).json()
    clock.advance(3)
    assert http.get(f"/workflows/1/executions/{bad['id']}").json()["state"] == "failed"


def test_run_delays_real_clock():
    """With the default clock, tiny delays and polling under a deadline."""
    with LocalCivisAPI(spec=MINI, api_key=KEY, run_delays=(0.01, 0.02)) as api, \
            _session() as s:
        s.post(api.url + "things/", json={"name": "x"})
        rid = s.post(api.url + "things/1/runs").json()["id"]
        deadline = time.monotonic() + 5
        seen = []
        while time.monotonic() < deadline:
            state = s.get(api.url + f"things/1/runs/{rid}").json()["state"]
            if not seen or seen[-1] != state:
                seen.append(state)
            if state == "succeeded":
                break
        assert seen[-1] == "succeeded" and seen[0] in ("queued", "running")
        api.run_delays = (5, 5)
        rid = s.post(api.url + "things/1/runs").json()["id"]
        assert s.get(api.url + f"things/1/runs/{rid}").json()["state"] == "queued"


# -- auth, validation, rate-limit headers ----------------------------------------------
def test_auth(api):
    with _session(None) as s:
        r = s.get(api.url + "things/")
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
        assert r.json()["code"] == 401 and r.json()["errorDescription"]
        r = s.get(api.url + "things/", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401 and "wrong" not in r.text and KEY not in r.text
        assert s.get(api.url + "things/", auth=(KEY, "")).status_code == 200
        assert s.get(api.url + "things/", auth=("nope", KEY)).status_code == 401
        assert s.get(api.url + "endpoints").status_code == 401
        assert s.get(api.url + "things/", headers={"Authorization": "Basic %%%"}).status_code \
            == 401


def test_type_validation_names_the_field(http):
    cases = [({"name": "a", "size": "big"}, "size"), ({"enabled": "yes"}, "enabled"),
             ({"ratio": "1.5x"}, "ratio"), ({"tags": ["a", {}]}, "tags[1]"),
             ({"tags": {"a": 1}}, "tags"), ({"meta": {"depth": "deep"}}, "meta.depth"),
             ({"meta": []}, "meta"), ({"size": True}, "size"), ([1, 2], "body")]
    for body, field in cases:
        r = http.post("/things/", json=body)
        assert r.status_code == 400, body
        assert r.json()["error"] == "bad_request" and r.json()["code"] == 400
        assert r.json()["errorDescription"].startswith(field + " "), r.json()
    ok = http.post("/things/", json={"size": 2, "ratio": 1, "enabled": False, "color": None})
    assert ok.status_code == 201
    # what the real API coerces (and so the client sends as given) is accepted too
    coerced = http.post("/things/", json={"ratio": "1.5", "tags": "a", "enabled": "true"})
    assert coerced.status_code == 201, coerced.json()
    r = http.post("/things/", data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["errorDescription"]
    r = http.get("/things/", params={"limit": "ten"})
    assert r.status_code == 400 and r.json()["errorDescription"].startswith("limit ")
    assert http.patch("/things/1", json={"size": "x"}).status_code == 400
    assert http.get("/things/1").json()["size"] == 2
    assert len(http.get("/things/").json()) == 2


def test_rate_limit_headers_everywhere(api, http):
    with _session(None) as anonymous:
        answers = [http.get("/things/"), http.get("/nope"),
                   http.post("/things/", json={"size": "x"}), anonymous.get(api.url + "things/")]
    for r in answers:
        assert int(r.headers["X-RateLimit-Limit"]) == 1000
        assert 0 <= int(r.headers["X-RateLimit-Remaining"]) < 1000


# -- /endpoints ----------------------------------------------------------------------------
def test_endpoints_etag(api, http):
    r = http.get("/endpoints")
    assert r.status_code == 200 and json.loads(r.content) == MINI
    assert r.content == api.spec_bytes
    etag = r.headers["ETag"]
    assert etag == '"' + hashlib.sha256(api.spec_bytes).hexdigest() + '"'
    r = http.get("/endpoints/", headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b"" and r.headers["ETag"] == etag
    assert http.get("/endpoints", headers={"If-None-Match": '"other"'}).status_code == 200
    assert http.get("/endpoints", headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    later = email.utils.formatdate(time.time() + 3600, usegmt=True)
    earlier = email.utils.formatdate(time.time() - 3600 * 24 * 365, usegmt=True)
    assert http.get("/endpoints", headers={"If-Modified-Since": later}).status_code == 304
    assert http.get("/endpoints", headers={"If-Modified-Since": earlier}).status_code == 200
    assert "Last-Modified" in r.headers


def test_a_published_schema_is_served_and_routed_and_the_objects_stay(api, http):
    made = http.post("/things/", json={"name": "kept"}).json()
    old_etag, old_bytes = api.etag, api.spec_bytes
    assert http.get("/gadgets/").status_code == 404
    newer = json.loads(json.dumps(MINI))
    newer["paths"]["/gadgets/"] = {"get": _op(200, _array("Thing"), LIST_PARAMS)}
    api.publish_spec(newer)
    assert api.spec == newer and api.etag != old_etag and api.spec_bytes != old_bytes
    r = http.get("/endpoints", headers={"If-None-Match": old_etag})
    assert r.status_code == 200 and r.json() == newer and r.headers["ETag"] == api.etag
    assert r.headers["Last-Modified"] == api.last_modified
    assert http.get("/endpoints", headers={"If-None-Match": api.etag}).status_code == 304
    assert http.get("/gadgets/").status_code == 200
    assert http.get(f"/things/{made['id']}").json()["name"] == "kept"


def test_the_key_can_change_while_serving(api, http):
    assert http.get("/things/").status_code == 200
    api.api_key = "another-key"
    assert http.get("/things/").status_code == 401
    assert requests.get(api.url + "things/", headers={"Authorization": "Bearer another-key"},
                        timeout=5).status_code == 200
    with pytest.raises(ValueError, match="non-empty string"):
        api.api_key = ""


def _until(condition, limit=10.0):
    """Wait for ``condition()`` to hold (checked every 10 ms); fail after ``limit`` seconds."""
    ready = threading.Event()
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        ready.wait(0.01)


def test_gathered_requests_wait_for_each_other(api):
    api.seed("/things", {"name": "a"})
    api.faults.gather("GET", "/things/{id}", 3, timeout=10)
    statuses = []

    def fetch():
        statuses.append(_session().get(api.url + "things/1", timeout=15).status_code)

    threads = [threading.Thread(target=fetch) for _ in range(3)]
    for thread in threads[:2]:
        thread.start()
    _until(lambda: api.faults.gathered("GET", "/things/{id}") == 2)
    assert statuses == [] and api.count("GET", "/things/1") == 0   # both held
    threads[2].start()
    for thread in threads:
        thread.join(15)
    assert statuses == [200, 200, 200] and api.count("GET", "/things/1") == 3
    assert api.faults.gathered("GET", "/things/{id}") == 0
    with pytest.raises(ValueError, match="at least 2"):
        api.faults.gather("GET", "/things/1", 1)


def test_clearing_the_faults_releases_gathered_requests(api):
    api.faults.gather("*", "*", 5, timeout=30)
    done = []
    waiting = threading.Thread(target=lambda: done.append(
        _session().get(api.url + "things/", timeout=15).status_code))
    waiting.start()
    _until(lambda: api.faults.gathered("*", "*") == 1)
    assert done == []
    api.faults.clear()
    waiting.join(15)
    assert done == [200] and api.faults.gathered("*", "*") == 0


def test_spec_from_file_bytes_and_gzip(tmp_path):
    import gzip
    raw = json.dumps(MINI).encode()
    (tmp_path / "s.json").write_bytes(raw)
    (tmp_path / "s.json.gz").write_bytes(gzip.compress(raw))
    for spec in (tmp_path / "s.json", str(tmp_path / "s.json.gz"), raw):
        api = LocalCivisAPI(spec=spec)
        assert api.spec == MINI and api.spec_bytes == raw


# -- fault injection ----------------------------------------------------------------------
def test_scripted_503_then_success(api, http):
    http.post("/things/", json={"name": "x"})
    api.faults.script("GET", "/things/1", [503, 503, None])
    assert [http.get("/things/1").status_code for _ in range(4)] == [503, 503, 200, 200]
    api.faults.script("GET", "/things/{id}", [500, 502, 504])       # a template
    assert [http.get(f"/things/{i}").status_code for i in (1, 2, 1, 1)] == [500, 502, 504, 200]
    api.faults.script("*", "*", [503])
    r = http.post("/things/", json={"name": "y"})
    assert r.status_code == 503 and r.json()["code"] == 503
    assert api.created("/things/") == 1                             # the 503 created nothing
    assert api.faults.pending() == 0


def test_retry_after_forms(api, http):
    api.faults.script("GET", "/things/", [429, Fault(status=429, retry_after=7),
                                          Fault(status=429, retry_after=30, http_date=True),
                                          Fault(status=503, retry_after="2")])
    r = http.get("/things/")
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert r.json()["error"] == "rate_limited"
    assert http.get("/things/").headers["Retry-After"] == "7"
    when = email.utils.parsedate_to_datetime(http.get("/things/").headers["Retry-After"])
    assert 20 < when.timestamp() - time.time() < 40
    assert http.get("/things/").headers["Retry-After"] == "2"
    api.faults.retry_after = 0
    api.faults.script("GET", "/things/", [429])
    assert http.get("/things/").headers["Retry-After"] == "0"
    assert "Retry-After" not in http.get("/things/").headers


def test_dropped_connection(api, http):
    api.faults.script("GET", "/things/", ["drop"])
    with pytest.raises(requests.ConnectionError):
        http.get("/things/")
    api.faults.script("POST", "/things/", ["drop"])
    with pytest.raises(requests.ConnectionError):
        http.post("/things/", json={"name": "lost"})
    assert api.created("/things/") == 0
    api.faults.script("GET", "/things/", ["drop_body"])
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        http.get("/things/")
    assert http.get("/things/").status_code == 200               # a new connection works
    assert [r.status for r in api.requests[:3]] == [None, None, 200]


def test_truncated_json_and_html(api, http):
    http.post("/things/", json={"name": "x" * 50})
    api.faults.script("GET", "/things/1", ["truncate", "html", Fault("html", status=503)])
    r = http.get("/things/1")
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    assert 0 < len(r.content) == int(r.headers["Content-Length"])
    r = http.get("/things/1")
    assert r.status_code == 502 and r.headers["Content-Type"].startswith("text/html")
    assert b"<html>" in r.content
    assert http.get("/things/1").status_code == 503
    assert http.get("/things/1").json()["name"] == "x" * 50


def test_an_answer_fault_sends_exactly_the_given_status_body_and_headers(api, http):
    api.faults.script("GET", "/things/", [
        Fault("answer", body=gzip.compress(b"[1, 2]"),
              headers={"Content-Encoding": "gzip", "Content-Length": "1", "X-Fake": "yes"}),
        Fault("answer", 200, body=b"<html>sign in to the wifi</html>",
              headers=[("Content-Type", "text/html")]),
        Fault("answer", 302, headers={"Location": "http://elsewhere.example.test/things/"})])
    r = http.get("/things/")
    assert (r.status_code, r.json(), r.headers["X-Fake"]) == (200, [1, 2], "yes")
    assert int(r.headers["Content-Length"]) == len(gzip.compress(b"[1, 2]"))   # computed
    r = http.get("/things/")
    assert r.headers["Content-Type"] == "text/html" and r.text.startswith("<html>")
    r = http.s.get(api.url + "things/", allow_redirects=False)
    assert r.status_code == 302 and r.content == b""
    assert r.headers["Location"] == "http://elsewhere.example.test/things/"
    assert [x.status for x in api.requests] == [200, 200, 302] and api.faults.pending() == 0


def test_an_answer_fault_acts_first_only_when_handled(api, http):
    api.faults.script("POST", "/things/", [Fault("answer", 500, body=b"{}"),
                                           Fault("answer", 502, body=b"", handled=True)])
    assert http.post("/things/", json={"name": "lost"}).status_code == 500
    assert api.created("/things/") == 0
    assert http.post("/things/", json={"name": "kept"}).status_code == 502
    assert api.created("/things/") == 1


def test_an_answer_fault_is_hashable_and_checked():
    fault = Fault("answer", 302, headers={"Location": "/x"})
    assert fault.headers == (("Location", "/x"),) and hash(fault) == hash(
        Fault("answer", 302, headers=[("Location", "/x")]))
    with pytest.raises(ValueError, match="line break"):
        Fault("answer", headers={"X-Evil": "a\r\nSet-Cookie: b"})
    with pytest.raises(TypeError, match="bytes"):
        Fault("answer", body="text")
    with pytest.raises(ValueError, match="only an 'answer' fault"):
        Fault("status", 500, body=b"x")


def test_the_request_log_names_the_credential_by_fingerprint_only(api, http):
    http.get("/things/")
    assert requests.get(api.url + "things/", headers={"Authorization": "Bearer wrong"},
                        timeout=5).status_code == 401
    assert requests.get(api.url + "things/", timeout=5).status_code == 401
    api.faults.script("GET", "/things/", ["drop"])
    with pytest.raises(requests.ConnectionError):
        http.get("/things/")
    mine = RequestRecord.auth_of(KEY)
    assert [(r.status, r.auth) for r in api.requests] == [
        (200, mine), (401, RequestRecord.auth_of("wrong")), (401, None), (None, mine)]
    assert mine.startswith("Bearer sha256:") and len(mine) == len("Bearer sha256:") + 12
    assert KEY not in repr(api.requests)
    assert {r.host for r in api.requests} == {f"127.0.0.1:{api.port}"}
    http.get("/things/", headers={"Cookie": "session=secret-cookie", "If-None-Match": '"x"'})
    last = api.requests[-1]
    assert last.headers["if-none-match"] == '"x"' and last.headers["Host"] == last.host
    assert not {"authorization", "cookie"} & {name.lower() for name in last.headers}
    assert "secret-cookie" not in repr(api.requests)


def test_latency_and_slow_reads(api, http):
    api.faults.latency = 0.05
    t = time.perf_counter()
    assert http.get("/things/").status_code == 200
    assert time.perf_counter() - t >= 0.05
    api.faults.latency = 0
    api.faults.read_delay = 2.0
    api.faults.script("GET", "/things/", ["slow"])
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.s.get(api.url + "things/", timeout=0.1)
    api.faults.script("GET", "/things/", [Fault("slow", delay=0.05)])
    assert http.get("/things/").status_code == 200
    with pytest.raises(ValueError):
        api.faults.latency = -1


def test_random_faults_are_reproducible():
    def statuses(seed):
        faults = Faults(share=0.5, actions=(500, 503), seed=seed)
        with LocalCivisAPI(spec=MINI, api_key=KEY, faults=faults) as api, _session() as s:
            return [s.get(api.url + "things/").status_code for _ in range(30)]

    first = statuses(3)
    assert first == statuses(3)
    assert {500, 503, 200} == set(first)
    with LocalCivisAPI(spec=MINI, api_key=KEY) as api, _session() as s:
        api.faults.random(1.0, actions=(502,), methods=["POST"])
        assert s.get(api.url + "things/").status_code == 200
        assert s.post(api.url + "things/", json={}).status_code == 502
        api.faults.clear()
        assert s.post(api.url + "things/", json={}).status_code == 201
    with pytest.raises(ValueError):
        Faults(share=2)
    with pytest.raises(ValueError):
        Fault("explode")


# -- counters, connections, threads -------------------------------------------------------
def test_request_log_and_counters(api, http):
    http.post("/things/", json={"name": "a"})
    http.post("/things/", json={"name": "b"})
    http.get("/things/1", params={"x": "1"})
    http.get("/things/2/")
    assert api.requests[2][:6] == ("GET", "/things/1", {"x": "1"}, 200,
                                   RequestRecord.auth_of(KEY), f"127.0.0.1:{api.port}")
    assert api.requests[2].headers["Accept"] == "*/*"
    assert api.count() == 4
    assert api.count("POST") == 2 and api.count("post", "/things/") == 2
    assert api.count(path="/things/1") == 1 and api.count("GET", "/things/{id}") == 2
    assert api.created("/things") == 2 and api.created("/things/") == 2
    assert api.creations == {"/things": 2}
    assert api.created("/projects") == 0


def test_keep_alive_one_connection(api):
    with _session() as s:
        for _ in range(100):
            r = s.get(api.url + "users/me")
            assert r.status_code == 200
    assert api.connections == 1
    assert api.count() == 100


def test_threads(api):
    ids, errors = [], []

    def worker():
        try:
            with _session() as s:
                for _ in range(25):
                    ids.append(s.post(api.url + "things/", json={"name": "t"}).json()["id"])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(ids) == list(range(1, 201))
    assert api.created("/things") == 200


def _raw(api, data):
    import socket
    with socket.create_connection(("127.0.0.1", api.port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def test_raw_http_edge_cases(api):
    auth = f"Authorization: Bearer {KEY}\r\n".encode()
    answer = _raw(api, b"NONSENSE\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ") and b'"code": 400' in answer
    body = b'{"name": "chunked"}'
    answer = _raw(api, b"POST /things/ HTTP/1.1\r\nHost: x\r\n" + auth
                  + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                  + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 201 ") and b"Connection: close" in answer
    assert b'"name":"chunked"' in answer
    answer = _raw(api, b"HEAD /things/ HTTP/1.1\r\n" + auth + b"Connection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 405 ") and answer.endswith(b"\r\n\r\n")
    answer = _raw(api, b"GET /users/me HTTP/1.0\r\n" + auth + b"\r\n")   # 1.0: closes
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"}")
    answer = _raw(api, b"POST /things/ HTTP/1.1\r\n" + auth + b"Content-Length: %d\r\n"
                  b"Expect: 100-continue\r\nConnection: close\r\n\r\n" % len(body) + body)
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 ")


def test_default_spec_is_the_bundled_one():
    bundled = Path(__file__).resolve().parents[2] / "schemas" / "civis_api_spec.json"
    if not bundled.exists():
        pytest.skip("the bundled schema is not built yet")
    with LocalCivisAPI() as api, _session(api.api_key) as s:
        assert api.spec_bytes == bundled.read_bytes()
        assert s.get(api.url + "endpoints").content == api.spec_bytes
        assert s.get(api.url + "users/me").json()["id"] == 1


def test_start_stop(clock):
    api = LocalCivisAPI(spec=MINI, api_key=KEY)
    api.start()
    api.start()                                   # idempotent
    url = api.url
    with _session() as s:
        assert s.get(url + "users/me").status_code == 200   # leaves a keep-alive open
        api.stop()
        api.stop()
        with pytest.raises(requests.ConnectionError):
            s.get(url + "users/me", timeout=2)
    assert api.connections == 0


def test_seed(api, http):
    api.seed("/things", {"id": 10, "name": "seeded"})
    assert http.get("/things/10").json()["name"] == "seeded"
    assert http.post("/things/", json={}).json()["id"] == 11
    run = api.seed("/things/10/runs")
    assert http.get(f"/things/10/runs/{run['id']}").json()["state"] == "queued"
    assert api.created("/things") == 1


def test_serve_prints_url_and_key(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(MINI))
    code = ("import sys; from civis_dyn.testing._local_api import serve; "
            f"serve(port=0, spec={str(spec)!r}, api_key='serve-key')")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            cwd=root)
    try:
        url = proc.stdout.readline().split()[-1]
        assert url.startswith("http://127.0.0.1:") and not url.endswith("/")
        assert "serve-key" in proc.stdout.readline()
        assert "Ctrl+C" in proc.stdout.readline()
        with _session("serve-key") as s:
            assert s.get(url + "/users/me", timeout=5).json()["id"] == 1
        proc.send_signal(2)                          # SIGINT -> KeyboardInterrupt
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


# -- the real schema ------------------------------------------------------------------------
def _concrete(template, values=None):
    out = []
    for seg in template.split("/"):
        if seg.startswith("{"):
            out.append(str((values or {}).get(seg[1:-1], 1)) if seg not in ("{schema_name}",
                                                                              "{table_name}",
                                                                              "{name}")
                       else "x")
        else:
            out.append(seg)
    return "/".join(out)


def test_real_schema_every_template_routes(real_spec):
    api = LocalCivisAPI(spec=real_spec, api_key=KEY)
    store = api._store
    count = 0
    for route in store.router.routes:
        segs = [s for s in route.template.split("/") if s]
        concrete = [("x" if t != "integer" else "7") if s.startswith("{") else s
                    for s, t in zip(segs, _types(route, segs))]
        got, _ = store.match(route.method, concrete)
        assert got.key == route.key, (route, got)
        count += 1
    assert count == sum(m in ("get", "put", "post", "patch", "delete")
                        for item in real_spec["paths"].values() for m in item)


def _types(route, segs):
    types = iter(route.param_types)
    return [next(types) if s.startswith("{") else None for s in segs]


def test_real_schema_crud_everywhere(real_spec):
    """Create one object in every collection with a POST, then GET every path under it."""
    with LocalCivisAPI(spec=real_spec, api_key=KEY, run_delays=(0, 0)) as api, _session() as s:
        store = api._store
        created = {}
        for route in store.router.routes:
            if route.method == "POST" and route.plan[0] == "create" and "{" not in route.template:
                r = s.post(api.url + route.template.lstrip("/"), json={"name": "x"})
                assert r.status_code == route.status, (route, r.text)
                created[route.key] = r.json().get("id") or r.json().get("deploymentId")
        assert len(created) > 40 and all(isinstance(v, int) for v in created.values())
        checked = 0
        for route in store.router.routes:
            if route.method != "GET" or route.param_names[:1] != ("id",):
                continue
            top = route.plan[1]["chain"][0][0] if route.plan[1] and route.plan[1].get(
                "chain") else route.plan[1]["sub"]
            if top not in created:
                continue
            r = s.get(api.url + _concrete(route.template, {"id": created[top]}).lstrip("/"))
            if len(route.param_names) == 1:
                assert r.status_code == 200, (route, r.status_code, r.text[:200])
                checked += 1
            else:
                assert r.status_code in (200, 404), (route, r.status_code, r.text[:200])
        assert checked > 150
        assert s.get(api.url + f"jobs/{created['/scripts/containers']}").json()["name"] == "x"


def test_real_schema_runs_and_client(real_spec):
    clock = FakeClock()
    with LocalCivisAPI(spec=real_spec, api_key=KEY, clock=clock, run_delays=(1, 1)) as api, \
            _session() as s:
        base = api.url
        for kind in ("containers", "python3", "sql", "r", "javascript", "dbt", "custom"):
            jid = s.post(base + f"scripts/{kind}", json={"name": kind}).json()["id"]
            run = s.post(base + f"scripts/{kind}/{jid}/runs")
            assert run.status_code == 202 and run.json()["state"] == "queued"
            clock.advance(2)
            got = s.get(base + f"scripts/{kind}/{jid}/runs/{run.json()['id']}").json()
            assert got["state"] == "succeeded"
            assert s.get(base + f"jobs/{jid}").json()["lastRun"]["id"] == run.json()["id"]
            logs = s.get(base + f"jobs/{jid}/runs/{run.json()['id']}/logs").json()
            assert logs[-1]["message"] == "Run succeeded"
        sid = s.post(base + "services/", json={"name": "svc"}).json()["id"]
        dep = s.post(base + f"services/{sid}/deployments", json={}).json()
        assert dep["deploymentId"] and dep["serviceId"] == sid and dep["state"] == "queued"
        clock.advance(5)
        assert s.get(base + f"services/{sid}/deployments/{dep['deploymentId']}").json()[
            "state"] == "running"
        assert s.delete(base + f"services/{sid}/deployments/{dep['deploymentId']}"
                        ).status_code == 204
        jobs = s.get(base + "jobs/")
        assert jobs.headers["X-Pagination-Per-Page"] == "50" and len(jobs.json()) == 7
        assert s.get(base + "jobs/", params={"state": "succeeded"}).headers[
            "X-Pagination-Total-Entries"] == "7"
        try:
            import civis_dyn
            civis_dyn.APIClient
        except (ImportError, AttributeError):  # pragma: no cover - core not there yet
            pytest.skip("civis_dyn.APIClient is not available")
        client = api.client()
        assert client.users.get_me().username == "local"
