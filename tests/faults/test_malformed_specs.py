"""Malformed schemas: a clear ``civis_dyn.SpecError`` naming the location, never another exception.

Everything the index and the parameters depend on is checked when the client
is built from a schema it has not seen (the index is built then; a warm start
reuses the cached index of an already checked schema). Problems deeper inside
a parameter's schema (a nested property's ``$ref``) surface when the method is
first used (signature, help or call), as a SpecError naming the location.
"""

import copy
import itertools
import json

import pytest

import civis_dyn

_unique = itertools.count()


@pytest.fixture(scope="module")
def mini(mini_spec_path):
    with open(mini_spec_path) as f:
        return json.load(f)


def variant(mini, change):
    """A deep copy of the mini schema, made unique (fresh cache keys), then changed."""
    document = copy.deepcopy(mini)
    document["info"]["version"] = f"malformed-{next(_unique)}"
    change(document)
    return document


def set_at(path, value):
    """A change that sets ``document[path[0]][path[1]]...`` to ``value``."""
    def change(document):
        node = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


def remove_at(path):
    def change(document):
        node = document
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return change


def both(*changes):
    def change(document):
        for c in changes:
            c(document)
    return change


GET_THING = ["paths", "/things/{id}", "get"]
POST_THINGS = ["paths", "/things/", "post"]

# id -> (change, pattern the message must match)
AT_CONSTRUCTION = {
    "no-paths": (remove_at(["paths"]), r": the schema has no 'paths' object"),
    "paths-not-an-object": (set_at(["paths"], ["/things/"]), r": the schema has no 'paths' object"),
    "path-item-not-an-object": (set_at(["paths", "/things/"], []),
                                r"^paths\./things/: a path item must be an object"),
    "operation-not-an-object": (set_at(GET_THING, "get"),
                                r"^paths\./things/\{id\}\.get: an operation must be an object"),
    "duplicate-method-names": (both(set_at(["paths", "/things/{id}/a-b"], {"get": {"responses": {}}}),
                                    set_at(["paths", "/things/{id}/a_b"], {"get": {"responses": {}}})),
                               r"things\.list_a_b is both GET /things/\{id\}/a-b and GET /things/\{id\}/a_b"),
    "dangling-ref-parameter": (set_at(GET_THING + ["parameters", 0], {"$ref": "#/parameters/Nope"}),
                               r"^paths\./things/\{id\}\.get\.parameters\[0\]: dangling \$ref "
                               r"'#/parameters/Nope'"),
    "dangling-ref-body-schema": (set_at(POST_THINGS + ["parameters", 0, "schema"],
                                        {"$ref": "#/definitions/Nope"}),
                                 r"^paths\./things/\.post\.parameters\[0\]\.schema: dangling \$ref "
                                 r"'#/definitions/Nope'"),
    "dangling-ref-body-property": (set_at(["definitions", "ThingCreate", "properties", "schedule"],
                                          {"$ref": "#/definitions/Nope"}),
                                   r"^paths\./things/\.post\.parameters\[0\]\.schema\.properties\.schedule: "
                                   r"dangling \$ref '#/definitions/Nope'"),
    "dangling-ref-response": (set_at(["paths", "/users/me", "get", "responses", "200", "schema"],
                                     {"$ref": "#/definitions/Nope"}),
                              r"^paths\./users/me\.get\.responses\.200\.schema: dangling \$ref"),
    "cyclic-ref-body-schema": (both(set_at(["definitions", "A"], {"$ref": "#/definitions/B"}),
                                    set_at(["definitions", "B"], {"$ref": "#/definitions/A"}),
                                    set_at(POST_THINGS + ["parameters", 0, "schema"],
                                           {"$ref": "#/definitions/A"})),
                               r"^paths\./things/\.post\.parameters\[0\]\.schema: cyclic \$ref "
                               r"#/definitions/A -> #/definitions/B -> #/definitions/A"),
    "cyclic-ref-parameter": (both(set_at(["parameters"], {"Id": {"$ref": "#/parameters/Id"}}),
                                  set_at(GET_THING + ["parameters", 0], {"$ref": "#/parameters/Id"})),
                             r"^paths\./things/\{id\}\.get\.parameters\[0\]: cyclic \$ref"),
    "cyclic-ref-response": (both(set_at(["definitions", "Me"], {"$ref": "#/definitions/Me"}),),
                            r"^paths\./users/me\.get\.responses\.200\.schema: cyclic \$ref"),
    "external-ref": (set_at(GET_THING + ["parameters", 0], {"$ref": "other.json#/x"}),
                     r"^paths\./things/\{id\}\.get\.parameters\[0\]: unsupported \$ref 'other\.json#/x'"),
    "unknown-location-header": (set_at(GET_THING + ["parameters", 0, "in"], "header"),
                                r"^paths\./things/\{id\}\.get\.parameters\[0\]: unsupported parameter "
                                r"location 'header' \(expected one of path, query, body\)"),
    "unknown-location-formData": (set_at(GET_THING + ["parameters", 0, "in"], "formData"),
                                  r"^paths\./things/\{id\}\.get\.parameters\[0\]: unsupported parameter "
                                  r"location 'formData'"),
    "missing-location": (remove_at(GET_THING + ["parameters", 0, "in"]),
                         r"^paths\./things/\{id\}\.get\.parameters\[0\]: unsupported parameter location None"),
    "parameter-without-name": (remove_at(GET_THING + ["parameters", 0, "name"]),
                               r"^paths\./things/\{id\}\.get\.parameters\[0\]: a parameter needs a name"),
    "parameter-not-an-object": (set_at(GET_THING + ["parameters", 0], "id"),
                                r"^paths\./things/\{id\}\.get\.parameters\[0\]: a parameter must be an object"),
    "parameters-not-an-array": (set_at(GET_THING + ["parameters"], {"id": {"in": "path"}}),
                                r"^paths\./things/\{id\}\.get\.parameters: must be an array"),
    "body-schema-not-an-object": (set_at(POST_THINGS + ["parameters", 0, "schema"], ["name"]),
                                  r"^paths\./things/\.post\.parameters\[0\]\.schema: must be an object"),
    "responses-not-an-object": (set_at(["paths", "/things/", "get", "responses"], ["200"]),
                                r"^paths\./things/\.get\.responses: must be an object"),
}


def check_location(error, pattern):
    import re

    assert isinstance(error, civis_dyn.SpecError) and isinstance(error, ValueError)
    assert re.search(pattern, str(error)), str(error)


@pytest.mark.parametrize("case", list(AT_CONSTRUCTION))
def test_malformed_schema_dict_fails_at_construction_naming_the_location(mini, tally, case):
    change, pattern = AT_CONSTRUCTION[case]
    tally.bad_input()
    with pytest.raises(civis_dyn.SpecError) as info:
        civis_dyn.APIClient(api_key="k", local_api_spec=variant(mini, change))
    check_location(info.value, pattern)


@pytest.mark.parametrize("case", list(AT_CONSTRUCTION))
def test_malformed_schema_file_fails_at_construction_and_caches_nothing(mini, tally, tmp_path,
                                                                        monkeypatch, case):
    cache = tmp_path / "cache"
    monkeypatch.setenv("CIVIS_DYN_CACHE_DIR", str(cache))
    change, pattern = AT_CONSTRUCTION[case]
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(variant(mini, change)))
    tally.bad_input(2)
    for _ in range(2):  # a broken schema is never remembered as a good one
        with pytest.raises(civis_dyn.SpecError) as info:
            civis_dyn.APIClient(api_key="k", local_api_spec=str(path))
        check_location(info.value, pattern)
    assert not cache.exists() or not any(cache.iterdir())


@pytest.mark.parametrize("content, pattern", [
    (b"{not json", r"schema\.json: the schema is not valid JSON \(Expecting property name"),
    (b"", r"schema\.json: the schema is not valid JSON \(Expecting value: line 1 column 1"),
    (b'{"paths": {}', r"schema\.json: the schema is not valid JSON"),
    (b"\xff\xfe\x00garbage", r"schema\.json: the schema is not valid JSON"),
    (b"[1, 2]", r"schema\.json: the schema must be a JSON object"),
    (b'"paths"', r"schema\.json: the schema must be a JSON object"),
    (b"<html><body>Service Unavailable</body></html>", r"schema\.json: the schema is not valid JSON"),
])
def test_a_file_that_is_not_a_json_object_fails_at_construction(tmp_path, tally, content, pattern):
    path = tmp_path / "schema.json"
    path.write_bytes(content)
    tally.bad_input()
    with pytest.raises(civis_dyn.SpecError) as info:
        civis_dyn.APIClient(api_key="k", local_api_spec=str(path))
    check_location(info.value, pattern)


def test_a_missing_file_or_wrong_type_is_a_clear_error(tmp_path, tally):
    tally.bad_input(3)
    with pytest.raises(civis_dyn.SpecError, match=r"cannot read the schema at .*absent\.json"):
        civis_dyn.APIClient(api_key="k", local_api_spec=str(tmp_path / "absent.json"))
    with pytest.raises(civis_dyn.SpecError, match=r"cannot read the schema at"):
        civis_dyn.APIClient(api_key="k", local_api_spec=str(tmp_path))  # a directory
    with pytest.raises(TypeError, match="local_api_spec must be a path or a dict, not list"):
        civis_dyn.APIClient(api_key="k", local_api_spec=[])


# -- deeper problems: at first use, still a SpecError naming the location -----------------------
NESTED_DANGLING = set_at(["definitions", "Schedule", "properties", "scheduledDays", "items"],
                         {"$ref": "#/definitions/Nope"})


def test_a_dangling_ref_deep_inside_a_parameter_fails_on_first_use_naming_the_location(mini, tally,
                                                                                      requests_mock):
    client = civis_dyn.APIClient(api_key="k", local_api_spec=variant(mini, NESTED_DANGLING),
                                 base_url="https://api.example.test/")
    tally.bad_input(2)
    with pytest.raises(civis_dyn.SpecError, match=r"^things\.post\(\) argument 'schedule\.scheduled_days': "
                                                  r"dangling \$ref '#/definitions/Nope'$"):
        client.things.post("n", 1, schedule={"scheduled_days": [1]})
    with pytest.raises(civis_dyn.SpecError, match=r"^paths\./things/\.post\.body\.schedule\.scheduledDays"
                                                  r"\.items: dangling \$ref '#/definitions/Nope'$"):
        client.things.post.__doc__
    assert requests_mock.call_count == 0
    # the rest of the client still works
    requests_mock.get("https://api.example.test/things/1", json={"id": 1})
    assert client.things.get(1).id == 1
    assert "name" in str(client.things.post.__signature__)


def test_a_recursive_schema_is_not_a_cycle(mini, requests_mock):
    def recursive(document):
        document["definitions"]["Schedule"]["properties"]["next"] = {"$ref": "#/definitions/Schedule"}

    client = civis_dyn.APIClient(api_key="k", local_api_spec=variant(mini, recursive),
                                 base_url="https://api.example.test/")
    requests_mock.post("https://api.example.test/things/", json={"id": 1})
    nested = {"scheduled": True}
    for _ in range(90):  # deep, yet within the argument nesting limit (spec._validate.MAX_DEPTH)
        nested = {"scheduled": False, "next": nested}
    client.things.post("n", 1, schedule=nested)
    assert requests_mock.last_request.json()["schedule"]["next"]["next"]["scheduled"] is False
    assert "schedule : dict, optional" in client.things.post.__doc__
    with pytest.raises(civis_dyn.ArgumentValueError, match=r"'schedule\.next\.next' has an unknown field 'x'"):
        client.things.post("n", 1, schedule={"next": {"next": {"x": 1}}})
