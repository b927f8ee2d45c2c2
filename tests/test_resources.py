"""Synthesized resources: names, signatures, laziness, docstrings, errors before sending."""
import inspect
import pickle
import pydoc
import subprocess
import sys
import warnings

import pytest

import civis_dyn
from civis_dyn._resources import synthesized_methods
from civis_dyn.spec._model import ApiSpec


def test_resources_and_methods_are_listed_before_any_access(mini_spec_path):
    import json

    # a dict schema gets a model of its own, untouched by other tests
    client = civis_dyn.APIClient(api_key="k", local_api_spec=json.loads(mini_spec_path.read_text()))
    assert {"things", "aliases", "users", "git_repos", "json_values"} <= set(dir(client))
    assert synthesized_methods(client.meta.spec) == 0
    names = dir(client.things)
    assert {"list", "post", "get", "patch", "put", "delete", "list_runs", "post_runs", "get_runs",
            "delete_runs", "put_shares_users", "post_refresh"} <= set(names)
    assert synthesized_methods(client.meta.spec) == 0  # dir() does not synthesize


def test_methods_are_synthesized_on_first_access_and_shared(mini_client, mini_spec_path):
    import json

    document = json.loads(mini_spec_path.read_text())  # a model of its own
    first = civis_dyn.APIClient(api_key="k", local_api_spec=document)
    second = civis_dyn.APIClient(api_key="k", local_api_spec=document)
    assert first.meta.spec is second.meta.spec
    assert mini_client().meta.spec is mini_client().meta.spec  # files: shared by sha256
    before = synthesized_methods(first.meta.spec)
    first.things.get
    first.things.get
    second.things.get
    assert synthesized_methods(first.meta.spec) == before + 1
    assert type(first.things) is type(second.things)
    assert type(first.things).__name__ == "Things"
    assert type(first.git_repos).__name__ == "Git_Repos"


def test_name_rules_on_the_mini_schema(mini_client):
    client = mini_client()
    assert client.aliases.get_object_type.__name__ == "get_object_type"
    assert "list" in dir(client.git_repos)
    assert {"get_me", "list_me"} <= set(dir(client.users))


def test_signature_order_and_annotations(mini_client):
    client = mini_client()
    assert str(inspect.signature(client.things.post)) == (
        "(name: str, from_template_id: int, *, provide_api_key: bool = None, "
        "schedule: dict = None, tags: List[str] = None, arguments: dict = None, "
        "state: str = None, weight: float = None)")
    assert str(inspect.signature(client.things.list)) == (
        "(*, name: str = None, tags: List[str] = None, archived: bool = None, limit: int = None, "
        "page_num: int = None, order: str = None, iterator: bool = None)")
    assert str(inspect.signature(client.things.get_runs)) == "(id: int, run_id: int)"
    assert str(inspect.signature(client.things.put_shares_users)) == (
        "(id: int, user_ids: List[int], permission_level: str, *, send_shared_email: bool = None)")
    # iterator only where both limit and page_num exist
    assert "iterator" in inspect.signature(client.things.list_runs).parameters
    assert "iterator" not in inspect.signature(client.git_repos.list).parameters


def test_help_reads_like_the_reference(mini_client):
    client = mini_client()
    text = pydoc.render_doc(client.things.list_runs, renderer=pydoc.plaintext)
    assert "list_runs(id: int, *, limit: int = None, page_num: int = None, iterator: bool = None)" in text
    doc = client.things.post.__doc__
    assert doc.startswith("Create a thing\n\nParameters\n----------\nname : str\n    The name.\n")
    assert "provide_api_key : bool, optional\n    Whether to provide an API key.\n" in doc
    assert "schedule : dict, optional\n    - scheduled : bool\n        If the item is scheduled.\n" in doc
    assert "Returns\n-------\n:class:`civis_dyn.Response`\n    - id : int\n        The ID of the thing.\n" in doc
    assert "    - created_at : str (date-time)\n" in doc
    runs_doc = client.things.list_runs.__doc__
    assert "iterator : bool, optional\n    If True, return a generator" in runs_doc
    assert ":class:`civis_dyn.PaginatedResponse`" in runs_doc
    assert ":class:`civis_dyn.ListResponse`" in client.git_repos.list.__doc__
    assert client.things.delete_runs.__doc__.endswith("None\n    Response code 202: accepted\n")


def test_docstrings_are_rendered_lazily(mini_spec_path, monkeypatch):
    import json

    client = civis_dyn.APIClient(api_key="k", local_api_spec=json.loads(mini_spec_path.read_text()))
    calls = []
    import civis_dyn.spec._docs as docs

    original = docs.render_docstring
    monkeypatch.setattr(docs, "render_docstring", lambda op: calls.append(op.name) or original(op))
    method = client.things.patch
    assert calls == []
    method.__doc__
    method.__doc__
    assert calls == ["patch"]


def test_deprecated_operations_are_kept_and_warn(mini_client, requests_mock):
    client = mini_client()
    assert client.things.delete.__doc__.startswith(".. warning::\n\n    Archive a thing (deprecated")
    assert client.things.post_refresh.__doc__.startswith(
        ".. warning::\n\n    Warning: The things/:id/refresh endpoint is deprecated.")
    requests_mock.delete("https://api.example.test/things/3", status_code=204)
    with pytest.warns(FutureWarning, match=r"things\.delete\(\) is deprecated"):
        client.things.delete(3)


def test_list_alias_of_object_response_warns_and_names_the_replacement(mini_client, requests_mock):
    client = mini_client()
    requests_mock.get("https://api.example.test/users/me", json={"id": 7, "userName": "ann"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert client.users.get_me().user_name == "ann"
    with pytest.warns(FutureWarning, match=r"users\.list_me\(\) is deprecated; use users\.get_me\(\)"):
        assert client.users.list_me().id == 7


def test_unknown_names_suggest_close_ones(mini_client):
    client = mini_client()
    with pytest.raises(AttributeError, match=r"'things' has no method 'lst'. Did you mean 'list'\?"):
        client.things.lst
    with pytest.raises(AttributeError, match=r"no attribute 'thing'") as info:
        client.thing  # a plain AttributeError: resources are class attributes (completion)
    assert info.value.name == "thing" and info.value.obj is client  # what Python's hint reads


def test_the_interpreter_suggests_a_close_resource_name(mini_spec_path):
    """Python prints "Did you mean" for an unknown attribute from dir(): resources are in it."""
    code = ("import civis_dyn; c = civis_dyn.APIClient(api_key='k', "
            f"base_url='https://api.example.test/', local_api_spec={str(mini_spec_path)!r}); c.thing")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "no attribute 'thing'. Did you mean: 'things'?" in result.stderr


@pytest.mark.parametrize("call, message", [
    (lambda c: c.things.get(), r"things\.get\(\) missing required argument\(s\): 'id'"),
    (lambda c: c.things.get(1, 2), r"things\.get\(\) takes 1 positional argument\(s\) but 2 were given"),
    (lambda c: c.things.list(nme="x"), r"things\.list\(\) got an unexpected keyword argument 'nme'. "
                                       r"Did you mean 'name'\?"),
    (lambda c: c.things.get(1, id=2), r"things\.get\(\) got multiple values for argument 'id'"),
    (lambda c: c.things.post(name="a"), r"things\.post\(\) missing required argument\(s\): 'from_template_id'"),
    (lambda c: c.things.get(None), r"things\.get\(\) missing required argument\(s\): 'id'"),
    (lambda c: c.things.get("abc"), r"things\.get\(\) argument 'id' must be an int, not str"),
    (lambda c: c.things.list(archived="yes"), r"argument 'archived' must be a bool, not str"),
    (lambda c: c.things.list(tags=[{}]), r"argument 'tags\[0\]' must be a str, not dict"),
    (lambda c: c.things.post("n", 1, weight=True), r"argument 'weight' must be a number, not bool"),
    (lambda c: c.things.post("n", 1, schedule=[1]), r"argument 'schedule' must be a dict, not list"),
    (lambda c: c.things.list_runs(1, iterator="yes"), r"argument 'iterator' must be a bool"),
])
def test_bad_arguments_raise_type_error_before_sending(mini_client, requests_mock, call, message):
    client = mini_client()
    with pytest.raises(TypeError, match=message):
        call(client)
    assert requests_mock.call_count == 0


@pytest.mark.parametrize("call, message", [
    (lambda c: c.things.post("n", 1, state="gone"), r"things\.post\(\) argument 'state' must be one of "
                                                   r"'draft', 'live'; got 'gone'"),
    (lambda c: c.things.post("n", 1, schedule={"scheduledDayz": [1]}),
     r"argument 'schedule' has an unknown field 'scheduledDayz'. Did you mean 'scheduled_days'"),
])
def test_bad_values_raise_value_error_before_sending(mini_client, requests_mock, call, message):
    with pytest.raises(ValueError, match=message):
        call(mini_client())
    assert requests_mock.call_count == 0


def test_values_the_api_coerces_are_sent_as_given(mini_client, requests_mock):
    # the API wraps a single value where the schema says array and keeps numbers as text
    requests_mock.get("https://api.example.test/things/", json=[])
    mini_client().things.list(tags="a")
    assert requests_mock.last_request.qs == {"tags": ["a"]}
    mini_client().things.list(tags=[1, True])
    assert requests_mock.last_request.qs == {"tags[]": ["1", "true"]}


def test_numeric_strings_are_accepted_for_integers(mini_client, requests_mock):
    requests_mock.get("https://api.example.test/things/12", json={"id": 12})
    assert mini_client().things.get("12").id == 12


def test_name_collision_is_an_error_naming_both_paths():
    document = {"swagger": "2.0", "paths": {
        "/things/{id}/a-b": {"get": {"responses": {}}},
        "/things/{id}/a_b": {"get": {"responses": {}}},
    }}
    with pytest.raises(civis_dyn.SpecError, match=r"things\.list_a_b is both GET /things/\{id\}/a-b "
                                                  r"and GET /things/\{id\}/a_b"):
        ApiSpec.from_dict(document).index


def test_client_without_key_can_be_explored_but_not_called(mini_spec_path, monkeypatch):
    monkeypatch.delenv("CIVIS_API_KEY", raising=False)
    client = civis_dyn.APIClient(local_api_spec=str(mini_spec_path))
    assert "things" in dir(client)
    assert "Get a thing" in client.things.get.__doc__
    with pytest.raises(civis_dyn.MissingAPIKeyError, match="CIVIS_API_KEY"):
        client.things.get(1)


def test_api_key_falls_back_to_env_and_base_url_to_env(mini_spec_path, monkeypatch, requests_mock):
    monkeypatch.setenv("CIVIS_API_KEY", "env-key")
    monkeypatch.setenv("CIVIS_API_ENDPOINT", "https://other.example.test/")
    requests_mock.get("https://other.example.test/things/1", json={"id": 1})
    civis_dyn.APIClient(local_api_spec=str(mini_spec_path)).things.get(1)
    assert requests_mock.last_request.headers["Authorization"] == "Bearer env-key"


def test_local_api_spec_accepts_a_dict_and_a_pathlike(mini_spec_path):
    import json

    from_dict = civis_dyn.APIClient(api_key="k", local_api_spec=json.loads(mini_spec_path.read_text()))
    from_path = civis_dyn.APIClient(api_key="k", local_api_spec=mini_spec_path)
    assert from_dict.spec_info.source == "dict"
    assert from_path.spec_info.source == "file"
    assert from_dict.spec_info.sha256 and len(from_path.spec_info.sha256) == 64
    assert dir(from_dict.things) == dir(from_path.things)


def test_return_type_is_checked(mini_spec_path):
    with pytest.raises(ValueError, match="return_type must be one of 'snake', 'raw'"):
        civis_dyn.APIClient(api_key="k", local_api_spec=str(mini_spec_path), return_type="pandas")


def test_client_repr_and_pickle_never_hold_the_key(mini_client, monkeypatch):
    client = mini_client(api_key="sekrit-key-value")
    assert "sekrit" not in repr(client)
    data = pickle.dumps(client)
    assert b"sekrit" not in data
    monkeypatch.setenv("CIVIS_API_KEY", "from-env")
    clone = pickle.loads(data)
    assert clone.meta.config.api_key == "from-env"
    assert "Authorization" not in clone.meta.transport.session.headers  # sent per request
    assert dir(clone.things) == dir(client.things)


def test_help_of_a_resource_lists_every_method(mini_client):
    text = pydoc.render_doc(mini_client().things, renderer=pydoc.plaintext)
    assert "class Things(civis_dyn._resources.Resource)" in text
    for line in ("get_runs(self, id: int, run_id: int)", "put_shares_users(self, id: int",
                 "list(self, *, name: str = None"):
        assert line in text
    assert "Start a run" in text and "Cancel a run" in text


def test_resources_and_their_methods_pickle_through_the_client(mini_client):
    import civis_dyn.resources

    client = mini_client(api_key="pickled-key")
    things = client.things
    assert type(things).__module__ == "civis_dyn.resources"
    assert isinstance(things, civis_dyn.resources.Resource)
    data = pickle.dumps(things)
    assert b"pickled-key" not in data
    clone = pickle.loads(data)
    assert type(clone).__name__ == "Things" and dir(clone) == dir(things)
    method = pickle.loads(pickle.dumps(client.things.get))
    assert method.__name__ == "get" and type(method.__self__).__name__ == "Things"
    with pytest.raises(AttributeError, match=r"type\(client.jobs\)"):
        civis_dyn.resources.Jobs
