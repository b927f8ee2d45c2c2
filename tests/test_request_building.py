"""What goes on the wire: verb, exact path, query (with ``name[]`` arrays), JSON body wire names."""
import json
import platform

import pytest

BASE = "https://api.example.test"


def sent(requests_mock):
    request = requests_mock.last_request
    body = json.loads(request.body) if request.body else None
    return request.method, request.path, request.qs, body


def test_get_with_path_parameter(mini_client, requests_mock):
    requests_mock.get(f"{BASE}/things/5", json={"id": 5})
    mini_client().things.get(5)
    assert sent(requests_mock) == ("GET", "/things/5", {}, None)


def test_collection_path_keeps_its_trailing_slash_and_query_wire_names(mini_client, requests_mock):
    requests_mock.get(f"{BASE}/things/", json=[])
    mini_client().things.list(name="x", archived=False, page_num=2, limit=None)
    request = requests_mock.last_request
    assert request.path == "/things/"
    assert request.qs == {"name": ["x"], "archived": ["false"], "page_num": ["2"]}  # None omitted


def test_array_query_parameters_use_the_brackets_convention(mini_client, requests_mock):
    requests_mock.get(f"{BASE}/things/", json=[])
    mini_client().things.list(tags=["a", "b c"])
    assert "tags%5B%5D=a&tags%5B%5D=b+c" in requests_mock.last_request.url


def test_post_body_uses_exact_wire_names_and_omits_none(mini_client, requests_mock):
    requests_mock.post(f"{BASE}/things/", json={"id": 1})
    mini_client().things.post("n", 7, provide_api_key=True, tags=None, weight=1.5,
                              schedule={"scheduled": True, "scheduled_days": [1, 2]})
    method, path, qs, body = sent(requests_mock)
    assert (method, path, qs) == ("POST", "/things/", {})
    assert body == {"name": "n", "fromTemplateId": 7, "provideAPIKey": True, "weight": 1.5,
                    "schedule": {"scheduled": True, "scheduledDays": [1, 2]}}
    assert requests_mock.last_request.headers["Content-Type"] == "application/json"


def test_free_form_objects_are_sent_as_given(mini_client, requests_mock):
    requests_mock.post(f"{BASE}/things/", json={"id": 1})
    mini_client().things.post("n", 7, arguments={"MY_VAR": 1, "someKey": {"x_y": 2}})
    assert sent(requests_mock)[3]["arguments"] == {"MY_VAR": 1, "someKey": {"x_y": 2}}


def test_patch_sends_only_given_fields(mini_client, requests_mock):
    requests_mock.patch(f"{BASE}/things/3", json={"id": 3})
    mini_client().things.patch(3, name="new")
    assert sent(requests_mock) == ("PATCH", "/things/3", {}, {"name": "new"})


def test_patch_with_nothing_sends_an_empty_object(mini_client, requests_mock):
    requests_mock.patch(f"{BASE}/things/3", json={"id": 3})
    mini_client().things.patch(3)
    assert sent(requests_mock) == ("PATCH", "/things/3", {}, {})


def test_put_with_path_and_required_body(mini_client, requests_mock):
    requests_mock.put(f"{BASE}/things/9/shares/users", json={"totalUserShares": 2})
    result = mini_client().things.put_shares_users(9, [1, 2], "read", send_shared_email=False)
    assert sent(requests_mock) == ("PUT", "/things/9/shares/users", {},
                                   {"userIds": [1, 2], "permissionLevel": "read",
                                    "sendSharedEmail": False})
    assert result.total_user_shares == 2


def test_post_without_body_parameters_sends_no_body(mini_client, requests_mock):
    requests_mock.post(f"{BASE}/things/4/runs", status_code=201, json={"id": 1, "state": "queued"})
    run = mini_client().things.post_runs(4)
    assert sent(requests_mock) == ("POST", "/things/4/runs", {}, None)
    assert run.state == "queued"


def test_delete_with_two_path_parameters(mini_client, requests_mock):
    requests_mock.delete(f"{BASE}/things/4/runs/8", status_code=202)
    assert mini_client().things.delete_runs(4, 8) == {}
    assert sent(requests_mock) == ("DELETE", "/things/4/runs/8", {}, None)


@pytest.mark.parametrize("value, quoted", [("a/b", "a%2Fb"), ("x y", "x%20y"), ("é", "%C3%A9")])
def test_path_parameters_are_url_quoted(mini_client, requests_mock, value, quoted):
    requests_mock.get(f"{BASE}/aliases/scripts/{quoted}", json={"id": 1})
    mini_client().aliases.get_object_type("scripts", value)
    assert requests_mock.last_request.path.lower() == f"/aliases/scripts/{quoted}".lower()


def test_dates_are_sent_as_iso_strings(mini_client, requests_mock):
    import datetime

    requests_mock.get(f"{BASE}/things/", json=[])
    mini_client().things.list(name=datetime.date(2024, 1, 2))
    assert requests_mock.last_request.qs == {"name": ["2024-01-02"]}


def test_headers_auth_and_user_agent(mini_client, requests_mock, monkeypatch):
    monkeypatch.setenv("CIVIS_JOB_ID", "11")
    monkeypatch.setenv("CIVIS_RUN_ID", "22")
    requests_mock.get(f"{BASE}/things/1", json={})
    mini_client(user_agent="my-script/2").things.get(1)
    headers = requests_mock.last_request.headers
    assert headers["Authorization"] == "Bearer test-key-123"
    assert headers["User-Agent"].startswith("my-script/2 civis-dyn/")
    assert headers["User-Agent"].endswith(f"(Python {platform.python_version()})")
    assert headers["X-Civis-Job-ID"] == "11" and headers["X-Civis-Run-ID"] == "22"
