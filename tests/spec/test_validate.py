"""``spec._validate``: the one validator (client arguments, canned responses, local API requests)."""

import datetime
import warnings

import pytest

import civis_dyn
from civis_dyn.spec._model import ApiSpec, SpecInfo
from civis_dyn.spec._validate import (
    ARGUMENTS,
    REQUESTS,
    RESPONSES,
    Mismatch,
    Rules,
    SchemaDriftWarning,
    argument_rules,
    check,
)

BASE = "https://api.example.test/"
SPEC = ApiSpec.from_dict({"swagger": "2.0", "paths": {}, "definitions": {
    "Thing": {"type": "object", "properties": {
        "count": {"type": "integer"}, "ratio": {"type": "number"}, "on": {"type": "boolean"},
        "name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
        "state": {"type": "string", "enum": ["draft", "live"]},
        "lastRun": {"type": "object", "properties": {"finishedAt": {"type": "string"}}},
        "arguments": {"type": "object"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}}}},
}})
THING = {"$ref": "#/definitions/Thing"}


@pytest.mark.parametrize("value, sent", [
    ({"tags": "a"}, {"tags": "a"}),                    # one value where the schema says array
    ({"name": 5}, {"name": 5}),                        # a number where it says string
    ({"name": True}, {"name": True}),
    ({"on": "true"}, {"on": "true"}),                  # text of a bool
    ({"ratio": "1.5"}, {"ratio": "1.5"}),              # numeric text
    ({"count": "12"}, {"count": 12}),                  # digits for an int (converted)
    ({"last_run": {"finished_at": datetime.date(2024, 1, 2)}},
     {"lastRun": {"finishedAt": "2024-01-02"}}),      # snake_case keys, dates as ISO 8601
    ({"last_run": None}, {"lastRun": None}),           # null anywhere below the top
    ({"LastRun": {"finishedAt": "x"}}, {"lastRun": {"finishedAt": "x"}}),  # any spelling
])
def test_argument_rules_accept_what_the_api_coerces_as_given(value, sent):
    assert check(value, THING, SPEC, ARGUMENTS) == sent


@pytest.mark.parametrize("value, path, problem", [
    ({"count": "x"}, ("count",), "must be an int, not str"),
    ({"on": "yes"}, ("on",), "must be a bool, not str"),
    ({"tags": [{}]}, ("tags", 0), "must be a str, not dict"),
    ({"last_run": []}, ("last_run",), "must be a dict, not list"),
    ({"counts": {"a": "b"}}, ("counts", "a"), "must be an int, not str"),
    ({"ratio": float("nan")}, ("ratio",), "must be a finite number (JSON has no nan); got nan"),
    ({"arguments": {"a": {1, 2}}}, ("arguments", "a"),
     "must be JSON (a dict, list, str, int, float, bool or None), not set"),
    ({"last_run": {}, "lastRun": {}}, ("lastRun",), "is given twice (as 'last_run' and 'lastRun')"),
])
def test_argument_rules_refuse_other_wrong_types(value, path, problem):
    with pytest.raises(Mismatch) as info:
        check(value, THING, SPEC, ARGUMENTS)
    assert (info.value.path, info.value.problem) == (path, problem)


def test_canned_responses_must_have_exactly_the_schemas_types():
    for value in ({"tags": "a"}, {"name": 5}, {"on": "true"}, {"count": "12"}):
        with pytest.raises(Mismatch):
            check(value, THING, SPEC, RESPONSES)
    assert check({"state": "gone", "last_run": None}, THING, SPEC, RESPONSES) == \
        {"state": "gone", "lastRun": None}  # enums are not checked, null is accepted anywhere


def test_drift_is_refused_warned_or_kept():
    value = {"state": "archived", "bogus": 1, "last_run": {"new": 2}}
    with pytest.raises(Mismatch) as info:
        check(value, THING, SPEC, ARGUMENTS)
    assert info.value.kind == "value"
    drift = []
    sent = check(value, THING, SPEC, argument_rules(True, "bundle"), drift=drift)
    assert sent == {"state": "archived", "bogus": 1, "lastRun": {"new": 2}}
    assert [(m.kind, m.path, m.field) for m in drift] == [
        ("value", ("state",), None), ("unknown", (), "bogus"), ("unknown", ("last_run",), "new")]
    assert check(value, THING, SPEC, REQUESTS) == sent


def test_argument_rules_follow_the_setting_and_the_schemas_freshness():
    assert argument_rules(True, "download").drift == "refuse"
    assert argument_rules(True, "file").drift == "refuse"
    assert argument_rules(True, "bundle").drift == "warn"
    assert argument_rules(True, "stale-cache").drift == "warn"
    off = argument_rules(False, "download")
    assert (off.types, off.enums, off.drift) == (False, False, "keep")
    assert check({"count": [1], "on": {}}, THING, SPEC, off) == {"count": [1], "on": {}}
    with pytest.raises(ValueError):
        Rules(lenient=True, enums=True, drift="maybe", convert=True)


def test_schema_drift_warning_is_public_and_a_user_warning():
    assert civis_dyn.SchemaDriftWarning is SchemaDriftWarning
    assert issubclass(SchemaDriftWarning, UserWarning)


# -- through the client ------------------------------------------------------------------

def drifting(client, source):
    client.meta.spec_info = SpecInfo(source, "somewhere")
    return client


def test_a_fresh_schema_refuses_unknown_names(mini_client, requests_mock):
    client = mini_client()
    with pytest.raises(TypeError, match="unexpected keyword argument 'color'"):
        client.things.list(color="red")
    with pytest.raises(civis_dyn.ArgumentValueError, match="must be one of 'draft', 'live'"):
        client.things.post("n", 1, state="archived")
    assert requests_mock.call_count == 0


@pytest.mark.parametrize("source", ["bundle", "stale-cache"])
def test_a_bundled_or_stale_schema_warns_and_sends_unknown_names(mini_client, requests_mock, source):
    client = drifting(mini_client(), source)
    requests_mock.get(BASE + "things/", json=[])
    requests_mock.post(BASE + "things/", json={})
    with pytest.warns(SchemaDriftWarning, match=r"things\.list\(\): .*parameter 'color'") as record:
        client.things.list(color="red")
    assert record[0].filename == __file__  # names the caller's line
    assert requests_mock.last_request.qs == {"color": ["red"]}
    with pytest.warns(SchemaDriftWarning, match=r"'state' must be one of .*field 'schedule\.every'"):
        client.things.post("n", 1, state="archived", schedule={"every": "day"}, newField=1)
    assert requests_mock.last_request.json() == {
        "name": "n", "fromTemplateId": 1, "state": "archived", "schedule": {"every": "day"},
        "newField": 1}
    with pytest.raises(civis_dyn.ArgumentTypeError):  # wrong types are still refused
        client.things.list(archived="maybe")


def test_the_bundled_schema_is_drifting_when_loaded_for_real(mini_spec_path, monkeypatch):
    from civis_dyn.spec import _source

    monkeypatch.delenv("CIVIS_API_KEY", raising=False)
    monkeypatch.setattr(_source, "bundled_spec_path", lambda: mini_spec_path)
    client = civis_dyn.APIClient()
    assert client.spec_info.source == "bundle"
    with pytest.warns(SchemaDriftWarning), pytest.raises(civis_dyn.MissingAPIKeyError):
        client.things.list(color="red")


def test_parameter_validation_false_sends_values_as_given(mini_client, requests_mock):
    client = mini_client(parameter_validation=False)
    assert client.meta.config.parameter_validation is False
    requests_mock.post(BASE + "things/", json={})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.things.post("n", [1], weight="heavy", state="gone", extra={"a": 1})
    assert requests_mock.last_request.json() == {
        "name": "n", "fromTemplateId": [1], "weight": "heavy", "state": "gone", "extra": {"a": 1}}
    with pytest.raises(TypeError, match="missing required argument"):  # still Python's rules
        client.things.post("n")
    with pytest.raises(civis_dyn.ArgumentTypeError, match="must be JSON"):  # cannot be sent
        client.things.post("n", 1, weight={1, 2})


def test_the_local_api_accepts_what_the_client_sends(mini_spec_path):
    import json

    from civis_dyn.testing._schema import SchemaIndex

    raw = json.loads(mini_spec_path.read_text())
    index = SchemaIndex(raw)
    body = raw["paths"]["/things/"]["post"]["parameters"][0]["schema"]
    assert index.check(body, {"name": 5, "tags": "a", "schedule": {"scheduledDays": 3},
                              "state": "new", "bogus": 1}) is None
    assert index.check(body, {"schedule": []}) == "schedule must be a dict, not list"
