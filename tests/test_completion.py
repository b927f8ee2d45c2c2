"""Tab completion of resources and methods: IPython (with and without jedi) and rlcompleter.

Resources are class attributes of a per-schema client class (no ``__getattr__``), so
IPython's default ``evaluation='limited'`` policy evaluates ``client.jobs`` and lists its
methods; nothing is built or sent before the completion. The same for both clients: the
``client`` fixture is parametrized over APIClient and AsyncAPIClient.
"""

import pickle
import rlcompleter

import pytest

import civis_dyn
from civis_dyn._resources import synthesized_methods


CLIENTS = {"sync": "APIClient", "async": "AsyncAPIClient"}


@pytest.fixture(params=sorted(CLIENTS))
def client(request, mini_spec_path):
    return getattr(civis_dyn, CLIENTS[request.param])(
        api_key="k", base_url="https://api.example.test/", local_api_spec=str(mini_spec_path))


def _made(client):
    return synthesized_methods(client.meta.spec, getattr(type(client), "_resource_base", None))


def test_resources_are_class_attributes_of_a_per_schema_class(client):
    cls = type(client)
    base = cls._client_base
    assert base in (civis_dyn.APIClient, civis_dyn.AsyncAPIClient)
    assert cls is not base and isinstance(client, base)
    assert cls.__qualname__ == base.__name__ and "things" in vars(cls)
    assert not hasattr(cls, "__getattr__")  # what IPython's limited policy requires
    assert client.things is client.things  # built once, then an instance attribute


def test_client_still_pickles_as_apiclient(mini_spec_path):
    client = civis_dyn.APIClient(api_key="k", base_url="https://api.example.test/",
                                 local_api_spec=str(mini_spec_path))
    again = pickle.loads(pickle.dumps(client))
    assert type(again) is type(client) and again.things.get


def test_unknown_attribute_is_an_attribute_error(client):
    with pytest.raises(AttributeError, match="no attribute 'thinsg'"):
        client.thinsg  # noqa: B018
    assert "things" in dir(client)  # Python's own "Did you mean" reads dir()


def test_rlcompleter_completes_resources_and_methods(client):
    completer = rlcompleter.Completer({"client": client})
    assert completer.complete("client.thi", 0) == "client.things"
    names = {completer.complete("client.things.", i) for i in range(60)} - {None}
    assert {"client.things.get(", "client.things.list("} <= names  # callables get a "("


IPython = pytest.importorskip("IPython", reason="IPython is not installed")


@pytest.fixture(scope="module")
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance()


@pytest.mark.parametrize("use_jedi", [False, True])
@pytest.mark.parametrize("evaluation", ["limited", "unsafe"])
def test_ipython_completes_resources_and_methods(shell, client, use_jedi, evaluation):
    from IPython.core.completer import provisionalcompleter

    if use_jedi:
        pytest.importorskip("jedi", reason="jedi is not installed")
    shell.user_ns["client"] = client
    shell.Completer.use_jedi, shell.Completer.evaluation = use_jedi, evaluation
    built = _made(client)

    def complete(code):
        with provisionalcompleter():
            return {c.text.rsplit(".", 1)[-1] for c in shell.Completer.completions(code, len(code))}

    assert "things" in complete("client.thi")
    assert {"get", "list"} <= complete("client.things.")
    assert _made(client) == built  # completing builds no method


def test_help_of_the_client_lists_each_resource_in_one_line(client):
    import pydoc

    text = pydoc.render_doc(client, renderer=pydoc.plaintext)
    assert "things\n |      The 'things' resource:" in text
    assert "__getattr__" not in text


def test_resource_repr_counts_what_dir_lists(client):
    listed = [n for n in dir(client.things) if not n.startswith("_")]
    assert repr(client.things) == f"<civis_dyn resource 'things': {len(listed)} methods>"


def test_a_resource_can_be_replaced_on_one_client(client, mini_spec_path):
    other = type(client)._client_base(api_key="k", base_url="https://api.example.test/",
                                      local_api_spec=str(mini_spec_path))
    client.things = "stand-in"
    assert client.things == "stand-in" and other.things != "stand-in"
    del client.things
    assert client.things.get


def test_responses_complete_their_keys_in_ipython():
    response = civis_dyn.Response({"id": 1, "lastRun": {"state": "x"}})
    assert response._ipython_key_completions_() == ["id", "last_run"]
