"""``ApiSpec.resolve``: the one ``$ref`` resolver (with ``allOf``), used by every layer."""

import json

import pytest

import civis_dyn
from civis_dyn.spec._model import ApiSpec
from civis_dyn.testing._schema import SchemaIndex


def document(**definitions):
    body = {"name": "body", "in": "body", "schema": {"$ref": "#/definitions/Create"}}
    return {
        "swagger": "2.0",
        "paths": {"/things/": {"post": {"parameters": [body],
                                        "responses": {"200": {"description": "ok"}}}}},
        "definitions": {
            "Named": {"type": "object", "required": ["name"],
                      "properties": {"name": {"type": "string"}}},
            "Sized": {"type": "object", "properties": {"size": {"type": "integer"}}},
            "Create": {"allOf": [{"$ref": "#/definitions/Named"}, {"$ref": "#/definitions/Sized"}],
                       "required": ["size"], "description": "A thing to create",
                       "properties": {"size": {"type": "integer", "description": "own"}}},
            **definitions,
        },
    }


def test_all_of_is_merged_parts_first_and_the_nodes_own_keys_win():
    spec = ApiSpec.from_dict(document())
    merged = spec.resolve({"$ref": "#/definitions/Create"})
    assert merged["type"] == "object"
    assert list(merged["properties"]) == ["name", "size"]
    assert merged["properties"]["size"]["description"] == "own"
    assert merged["required"] == ["name", "size"]
    assert merged["description"] == "A thing to create"
    assert "allOf" not in merged
    assert spec.resolve({"$ref": "#/definitions/Create"}) is merged  # merged once


def test_the_client_sees_all_of_fields_as_parameters(requests_mock):
    client = civis_dyn.APIClient(api_key="k", local_api_spec=document(),
                                 base_url="https://api.example.test/")
    operation = client.meta.operation("things", "post")
    assert [(p.name, p.required) for p in operation.parameters] == [("name", True), ("size", True)]
    requests_mock.post("https://api.example.test/things/", json={})
    client.things.post("n", 3)
    assert requests_mock.last_request.json() == {"name": "n", "size": 3}


@pytest.mark.parametrize("definitions, node, message", [
    ({}, {"$ref": "#/definitions/Nope"}, r"^here: dangling \$ref '#/definitions/Nope'$"),
    ({"A": {"$ref": "#/definitions/B"}, "B": {"$ref": "#/definitions/A"}},
     {"$ref": "#/definitions/A"}, r"^here: cyclic \$ref #/definitions/A -> #/definitions/B -> "),
    ({"A": {"allOf": [{"$ref": "#/definitions/B"}]}, "B": {"allOf": [{"$ref": "#/definitions/A"}]}},
     {"$ref": "#/definitions/A"}, r"cyclic allOf"),
    ({"A": {"allOf": [{"$ref": "#/definitions/Nope"}]}}, {"$ref": "#/definitions/A"},
     r"^here\.allOf\[0\]: dangling \$ref '#/definitions/Nope'$"),
    ({}, {"$ref": "other.json#/definitions/A"}, r"unsupported \$ref 'other\.json#/definitions/A'"),
    ({"A": {"allOf": {"$ref": "#/definitions/Named"}}}, {"$ref": "#/definitions/A"},
     r"^here\.allOf: must be an array$"),
])
def test_bad_references_are_a_spec_error_naming_where(definitions, node, message):
    spec = ApiSpec.from_dict(document(**definitions))
    with pytest.raises(civis_dyn.SpecError, match=message):
        spec.resolve(node, "here")


def test_the_local_api_reads_references_as_the_client_does():
    # it used to turn a dangling reference into {} (accepting anything) and merged allOf alone
    raw = document(Broken={"$ref": "#/definitions/Nope"})
    index = SchemaIndex(raw)
    assert index.resolve({"$ref": "#/definitions/Create"}) == \
        ApiSpec.from_dict(raw).resolve({"$ref": "#/definitions/Create"})
    with pytest.raises(civis_dyn.SpecError, match="dangling"):
        index.resolve({"$ref": "#/definitions/Broken"})
    assert index.check({"$ref": "#/definitions/Create"}, {"name": "n", "size": "x"}) == \
        "size must be an int, not str"


def test_the_build_tool_resolves_with_the_package():
    from tools import build_schema

    raw = document()
    operation = raw["paths"]["/things/"]["post"]
    assert build_schema.body_names(raw, operation) == ["name", "size"]
    broken = json.loads(json.dumps(raw))
    broken["paths"]["/things/"]["post"]["parameters"][0]["schema"] = {"$ref": "#/definitions/X"}
    with pytest.raises(civis_dyn.SpecError, match="dangling"):
        build_schema.body_names(broken, broken["paths"]["/things/"]["post"])


def test_derived_objects_live_in_the_model_not_in_its_dict(mini_client):
    client = mini_client()
    client.things  # builds the resource class
    spec = client.meta.spec
    assert not [k for k in vars(spec) if "resource" in k]
    from civis_dyn._resources import resource_class

    assert resource_class(spec, "things") is type(client.things)
    made = []
    assert spec.derived(("x",), lambda: made.append(1) or "v") == "v"
    assert spec.derived(("x",), lambda: made.append(1) or "w") == "v"
    assert made == [1]
