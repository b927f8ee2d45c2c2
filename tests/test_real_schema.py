"""The client built from the real Civis schema (../shared/specs): every operation, no collisions."""
import inspect

import pytest

import civis_dyn
from civis_dyn._resources import synthesized_methods
from civis_dyn.spec._model import HTTP_VERBS


@pytest.fixture(scope="module")
def client(real_spec_path):
    return civis_dyn.APIClient(api_key="k", local_api_spec=str(real_spec_path))


def test_construction_synthesizes_nothing_and_a_call_a_handful(real_spec_path):
    import json

    document = json.loads(real_spec_path.read_bytes())  # a fresh model, not shared with others
    client = civis_dyn.APIClient(api_key="k", local_api_spec=document)
    assert synthesized_methods(client.meta.spec) == 0
    client.jobs.get
    client.jobs.list_runs
    assert synthesized_methods(client.meta.spec) == 2


def test_every_operation_is_reachable_with_a_signature_and_docstring(client, real_spec):
    spec = client.meta.spec
    pairs = set()
    for resource in spec.resources():
        for name in spec.methods(resource):
            method = getattr(getattr(client, resource), name)
            op = method.__func__.operation
            pairs.add((op.verb, op.path))
            assert inspect.signature(method) is not None
            assert method.__doc__.strip()
    expected = {(verb, path) for path, item in real_spec["paths"].items() for verb in item
                if verb in HTTP_VERBS}
    assert pairs == expected
    print(f"\n{len(expected)} operations, {sum(len(spec.methods(r)) for r in spec.resources())} "
          f"methods (aliases included) in {len(spec.resources())} resources")
    assert len(expected) == 910


def test_no_collisions_and_documented_aliases(client):
    index = client.meta.spec.index
    assert index["users"]["list_me"][2] == "get_me"
    assert index["endpoints"]["list"][2] == "get"
    for resource, name in [("credentials", "list_types"), ("databases", "list_users"),
                           ("jobs", "list_children"), ("jobs", "list_parents"),
                           ("workflows", "list_git_commits"), ("scripts", "list_history")]:
        verb, path, alias_of = index[resource][name]
        assert alias_of is None, name
        twins = [n for n, entry in index[resource].items() if entry[:2] == [verb, path]]
        assert twins == [name]
    assert client.jobs.list_children.__func__.operation.returns == "ListResponse"


def test_deprecated_operations_are_kept(client):
    # civis-python drops these; we keep them, with a warning block
    assert client.scripts.delete.__doc__.startswith(".. warning::")
    doc = client.tables.post_refresh.__doc__
    assert doc.startswith(".. warning::\n\n    Warning: The tables/:id/refresh endpoint is deprecated.")


def test_reference_examples_of_naming(client):
    assert str(inspect.signature(client.jobs.list_runs)) == (
        "(id: int, *, limit: int = None, page_num: int = None, order: str = None, "
        "order_dir: str = None, iterator: bool = None)")
    assert "get_object_type" in dir(client.aliases)
    assert client.git_repos.__class__.__name__ == "Git_Repos"
