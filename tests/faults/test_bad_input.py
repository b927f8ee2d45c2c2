"""Bad input: every wrong argument is refused before sending, naming the method and the parameter.

Table tests on the mini schema cover each JSON type (integer, boolean,
number, array, enum, string, object) at the top level and nested, unknown
body fields, and values that cannot travel (non-finite numbers, lone
surrogates, dot path segments). A hypothesis property then throws generated
arguments at 100 operations spread over the real schema: each call must end in
such an error or in a well-formed request, never in another exception.
"""

import datetime
import json
import math
import re
import warnings
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import civis_dyn
import requests_mock as requests_mock_module

BASE = "https://api.example.test/"


@pytest.fixture
def client(mini_client):
    return mini_client(base_url=BASE)


def refused(requests_mock, tally, call, client, label, where, kinds=(TypeError, ValueError)):
    """Assert ``call(client)`` raises TypeError/ValueError naming ``label`` and ``where``."""
    tally.bad_input()
    with pytest.raises(kinds) as info:
        call(client)
    text = str(info.value)
    assert label in text and f"'{where}" in text, text   # 'where', or 'where.nested[0]'...
    assert requests_mock.call_count == 0
    return info.value


# (call, method label, parameter as named in the message)
WRONG_TYPES = [
    # integer: path, query, body, nested array item, array item
    *[(lambda c, v=v: c.things.get(v), "things.get()", "id")
      for v in (1.5, True, "1.0", "12abc", "--5", "²", "", [1], {"a": 1}, b"1", object())],
    *[(lambda c, v=v: c.things.list(limit=v), "things.list()", "limit")
      for v in (2.5, False, "ten", [3], math.nan)],
    *[(lambda c, v=v: c.things.post("n", v), "things.post()", "from_template_id")
      for v in (1.0, True, "1e3", (1,), {})],
    (lambda c: c.things.post("n", 1, schedule={"scheduled_days": [1, "Monday"]}), "things.post()",
     "schedule.scheduled_days[1]"),
    (lambda c: c.things.put_shares_users(1, [1, 2.5], "read"), "things.put_shares_users()",
     "user_ids[1]"),
    # boolean
    *[(lambda c, v=v: c.things.list(archived=v), "things.list()", "archived")
      for v in ("yes", 1, 0, [True], {"x": True})],
    *[(lambda c, v=v: c.things.post("n", 1, provide_api_key=v), "things.post()", "provide_api_key")
      for v in ("no", 1, 1.0)],
    (lambda c: c.things.post("n", 1, schedule={"scheduled": "yes"}), "things.post()", "schedule.scheduled"),
    # number
    *[(lambda c, v=v: c.things.post("n", 1, weight=v), "things.post()", "weight")
      for v in ("1.5x", [1.0], {}, None.__class__)],
    # array
    *[(lambda c, v=v: c.things.list(tags=v), "things.list()", "tags")
      for v in ({"a"}, {"k": 1}, b"ab", frozenset())],
    *[(lambda c, v=v: c.things.put_shares_users(1, v, "read"), "things.put_shares_users()", "user_ids")
      for v in ("twelve", {12: True})],
    # string
    *[(lambda c, v=v: c.things.post(v, 1), "things.post()", "name")
      for v in (b"bytes", ["n"], {"n": 1})],
    (lambda c: c.things.list(name=[3.5]), "things.list()", "name"),
    (lambda c: c.aliases.get_object_type(b"7", "x"), "aliases.get_object_type()", "object_type"),
    # object
    *[(lambda c, v=v: c.things.post("n", 1, schedule=v), "things.post()", "schedule")
      for v in ("{}", 1, ["scheduled"], True)],
    (lambda c: c.things.post("n", 1, schedule={1: True}), "things.post()", "schedule"),
    *[(lambda c, v=v: c.things.post("n", 1, arguments=v), "things.post()", "arguments")
      for v in ("a=1", [("a", 1)], 3)],
]


@pytest.mark.parametrize("call, label, where", WRONG_TYPES)
def test_wrong_types_raise_type_error_naming_method_and_parameter(client, requests_mock, tally, call,
                                                                  label, where):
    refused(requests_mock, tally, call, client, label, where)


# Wrong JSON types the API coerces (it wraps a single value into an array, keeps numbers and
# bools as text, reads "true"/"false" and numeric text): sent as given, never refused.
COERCED = [
    (lambda c: c.things.list(archived="true"), {"archived": ["true"]}, None),
    (lambda c: c.things.post("n", 1, provide_api_key="false"), None, {"provideAPIKey": "false"}),
    (lambda c: c.things.post("n", 1, weight="1.5"), None, {"weight": "1.5"}),
    (lambda c: c.things.list(tags="a,b"), {"tags": ["a,b"]}, None),
    (lambda c: c.things.list(tags=5), {"tags": ["5"]}, None),
    (lambda c: c.things.put_shares_users(1, "12", "read"), None, {"userIds": 12}),
    (lambda c: c.things.put_shares_users(1, 12, "read"), None, {"userIds": 12}),
    (lambda c: c.things.post(5, 1), None, {"name": 5}),
    (lambda c: c.things.post(True, 1), None, {"name": True}),
    (lambda c: c.things.list(name=3.5), {"name": ["3.5"]}, None),
]


@pytest.mark.parametrize("call, query, body", COERCED)
def test_wrong_types_the_api_coerces_are_sent_as_given(client, requests_mock, call, query, body):
    requests_mock.register_uri(requests_mock_module.ANY, requests_mock_module.ANY, json={})
    call(client)
    sent = requests_mock.last_request
    if query is not None:
        assert sent.qs == query
    if body is not None:
        assert {k: v for k, v in sent.json().items() if k in body} == body


WRONG_VALUES = [
    # enum
    *[(lambda c, v=v: c.things.post("n", 1, state=v), "things.post()", "state")
      for v in ("Draft", "", "draft ", 0, True, ["draft"])],
    # unknown body fields, nested (top level ones are unexpected keywords: see below)
    (lambda c: c.things.post("n", 1, schedule={"scheduled": True, "bogus": 1}), "things.post()", "schedule"),
    (lambda c: c.things.patch(1, schedule={"Scheduled_Days": [1]}), "things.patch()", "schedule"),
    # numbers JSON cannot carry
    *[(lambda c, v=v: c.things.post("n", 1, weight=v), "things.post()", "weight")
      for v in (math.nan, math.inf, -math.inf)],
    # text UTF-8 cannot carry (a lone surrogate), wherever it goes
    (lambda c: c.things.post("bad \ud800 name", 1), "things.post()", "name"),
    (lambda c: c.things.list(name="\udfff"), "things.list()", "name"),
    (lambda c: c.things.list(tags=["ok", "\ud83d"]), "things.list()", "tags[1]"),
    (lambda c: c.aliases.get_object_type("\ud800", "x"), "aliases.get_object_type()", "object_type"),
    # path segments that would change the URL
    *[(lambda c, v=v: c.aliases.get_object_type(v, "x"), "aliases.get_object_type()", "object_type")
      for v in ("", ".", "..")],
    (lambda c: c.aliases.get_object_type("projects", ".."), "aliases.get_object_type()", "alias"),
]


@pytest.mark.parametrize("call, label, where", WRONG_VALUES)
def test_wrong_values_raise_value_error_naming_method_and_parameter(client, requests_mock, tally, call,
                                                                    label, where):
    refused(requests_mock, tally, call, client, label, where, kinds=ValueError)


JUNK_IN_FREE_FORM = [{"a": {1, 2}}, {"a": b"bytes"}, {"a": [math.nan]}, {"a": {"b": math.inf}},
                     {1: "int key"}, {(1, 2): "tuple key"}, {"a": object()}, {"a": [{"b": [datetime.timezone.utc]}]},
                     {"a": "\ud800"}, {"a": complex(1, 2)}]


@pytest.mark.parametrize("junk", JUNK_IN_FREE_FORM, ids=[f"junk{i}" for i in range(len(JUNK_IN_FREE_FORM))])
def test_junk_inside_free_form_objects_is_refused_before_sending(client, requests_mock, tally, junk):
    error = refused(requests_mock, tally, lambda c: c.things.post("n", 1, arguments=junk), client,
                    "things.post()", "arguments")
    assert isinstance(error, civis_dyn.CivisDynError)


@pytest.mark.parametrize("kwargs, name", [
    ({"bogus": 1}, "bogus"), ({"fromTemplateId": 1}, "fromTemplateId"), ({"Name": "x"}, "Name"),
    ({"schedule_": {}}, "schedule_"),
])
def test_unknown_top_level_body_fields_are_unexpected_keywords(client, requests_mock, tally, kwargs,
                                                               name):
    refused(requests_mock, tally, lambda c: c.things.post("n", 1, **kwargs), client, "things.post()",
            name, kinds=TypeError)


def test_none_for_required_arguments_is_a_missing_argument(client, requests_mock, tally):
    for call, where in [(lambda c: c.things.post(None, 1), "name"),
                        (lambda c: c.things.post("n", from_template_id=None), "from_template_id"),
                        (lambda c: c.things.put_shares_users(1, None, "read"), "user_ids")]:
        refused(requests_mock, tally, call, client, "missing required argument", where, kinds=TypeError)


# -- what is accepted, and how it travels -------------------------------------------------------
def test_documented_conversions_reach_the_wire_exactly(client, requests_mock, tally):
    requests_mock.post(f"{BASE}things/", json={})
    requests_mock.get(re.compile(r"https://api\.example\.test/.*"), json={})
    tally.bad_input(4)
    client.things.get(" 12 ")                  # a numeric string for an integer: converted
    client.things.get("-3")
    assert [urlsplit(r.url).path for r in requests_mock.request_history] == ["/things/12", "/things/-3"]
    when = datetime.datetime(2024, 5, 6, 7, 8, 9)
    client.things.post("n", "7", tags=("a", "b"), weight=2, arguments={"anyKey": [1, None, {"x": True}]},
                       schedule={"scheduledDays": [1], "scheduled": None})
    body = requests_mock.last_request.json()
    assert body == {"name": "n", "fromTemplateId": 7, "tags": ["a", "b"], "weight": 2,
                    "arguments": {"anyKey": [1, None, {"x": True}]},
                    "schedule": {"scheduledDays": [1], "scheduled": None}}
    client.things.list(name=when, tags=["x y", "é/?&#"], archived=False)
    query = parse_qsl(urlsplit(requests_mock.last_request.url).query)
    assert query == [("name", "2024-05-06T07:08:09"), ("tags[]", "x y"), ("tags[]", "é/?&#"),
                     ("archived", "false")]


def test_huge_and_unicode_strings_travel_intact(client, requests_mock, tally):
    requests_mock.register_uri("GET", re.compile(r"https://api\.example\.test/.*"), json={})
    requests_mock.post(f"{BASE}things/", json={})
    huge = "ü✓🎉/?#%" * 20_000
    tally.bad_input(3)
    client.things.post(huge, 1)
    assert requests_mock.last_request.json()["name"] == huge
    client.aliases.get_object_type("a/b", "日本語 ..x")
    path = urlsplit(requests_mock.last_request.url).path
    assert path == "/aliases/a%2Fb/%E6%97%A5%E6%9C%AC%E8%AA%9E%20..x"
    client.things.list(name=huge)
    assert dict(parse_qsl(urlsplit(requests_mock.last_request.url).query))["name"] == huge


# -- property: generated arguments at 100 operations of the real schema -------------------------
SPECIAL_TEXT = ["", ".", "..", "/", "%2F", "a/../b", "12", " 7 ", "-3", "--5", "²", "١٢", "1e3", "0x10",
                "true", "null", "NaN", "\ud800", "a\udfffb", "\x00", "ünïcødé ✓ 🎉", "a/b?c#d&e=f",
                "x" * 100_000, "é" * 5_000]
SCALARS = st.one_of(
    st.sampled_from(SPECIAL_TEXT), st.none(), st.booleans(), st.integers(),
    st.integers(min_value=10 ** 20, max_value=10 ** 40), st.floats(),
    st.sampled_from([math.nan, math.inf, -math.inf]), st.text(max_size=30),
    st.text(st.characters(exclude_categories=()), max_size=10), st.binary(max_size=8),
    st.datetimes(), st.just(object()), st.complex_numbers(max_magnitude=10),
)
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.tuples(inner, inner),
                            st.dictionaries(st.one_of(st.text(max_size=8), st.integers(),
                                                      st.sampled_from(SPECIAL_TEXT[:12])),
                                            inner, max_size=3),
                            st.frozensets(st.integers(), max_size=2)),
    max_leaves=8,
)


def deep(levels):
    value = {"leaf": [1]}
    for _ in range(levels):
        value = {"nested": [value]}
    return value


# values that look almost right for a type: the edge cases of each check
NASTY = {
    "integer": ["--5", "²", "١٢", "1.0", "", " ", "0x10", "+", 1.0, True, math.nan, 10 ** 40, "  7  "],
    "number": [math.nan, math.inf, -math.inf, True, "1.5", 1e308, -0.0, 10 ** 30],
    "boolean": ["true", "false", 0, 1, [], "yes"],
    "string": ["", ".", "..", "\ud800", "a\udfffb", "\x00", "x" * 100_000, "日本語", "/", "a/../b", 5,
               b"x", datetime.date(2024, 1, 2), ["s"]],
    "array": ["a", ("x",), {"x"}, [None], [math.nan], [["nested"]], {"k": "v"}, [b"x"], ["\ud800"]],
    "object": [{"\ud800": 1}, {1: 2}, {"a": {1}}, {"a": math.nan}, {"unknownField": 1}, [], "{}",
               deep(60), {"a": b"x"}, {"a": [object()]}],
}


def nasty_values(spec, schema):
    """Values at the edge of what ``schema`` accepts (enum values spelled wrongly, too)."""
    schema = spec.resolve(schema, "test")
    kind = schema.get("type") or ("object" if "properties" in schema else None)
    options = list(NASTY.get(kind, NASTY["object"] + NASTY["string"]))
    for value in schema.get("enum") or ():
        options += [str(value).upper(), f"{value} ", 0]
    return st.sampled_from(options)


def schema_values(spec, schema, junk_rate, depth=0):
    """Values for ``schema``: valid ones, with junk mixed in at every level when ``junk_rate``."""
    schema = spec.resolve(schema, "test")
    kind = schema.get("type")
    if "enum" in schema:
        valid = st.sampled_from(schema["enum"])
    elif kind == "integer":
        valid = st.one_of(st.integers(-2 ** 40, 2 ** 40), st.integers(0, 999).map(str))
    elif kind == "number":
        valid = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers())
    elif kind == "boolean":
        valid = st.booleans()
    elif kind == "string":
        valid = st.one_of(st.text(max_size=20).filter(lambda s: s not in ("", ".", "..")),
                          st.datetimes().map(lambda d: d.isoformat()))
    elif kind == "array":
        valid = st.lists(schema_values(spec, schema.get("items") or {}, junk_rate, depth + 1), max_size=3)
    elif schema.get("properties") and depth < 3:
        valid = st.fixed_dictionaries({}, optional={
            key: schema_values(spec, prop, junk_rate, depth + 1)
            for key, prop in schema["properties"].items()})
    elif kind == "object" or "properties" in schema:
        valid = st.dictionaries(st.text(max_size=8), st.one_of(st.none(), st.integers(), st.text(max_size=8)),
                                max_size=3)
    else:
        valid = st.one_of(st.none(), st.integers(), st.text(max_size=8))
    if junk_rate and depth:
        return st.one_of(valid, valid, JUNK, nasty_values(spec, schema))
    return valid


def spread_operations(spec, count=100, step=9):
    """Every ``step``-th (resource, method) of the schema, ``count`` of them: deterministic."""
    names = [(r, m) for r in sorted(spec.index) for m in sorted(spec.index[r])]
    chosen = names[::step][:count]
    assert len(chosen) == count
    return chosen


def wire_path_pattern(template):
    """A regex of the URL paths an operation may produce (no empty or dot segments)."""
    segment = r"(?!\.\.?(?:/|$))[^/]+"
    parts = re.split(r"\{[^}]+\}", template)
    return re.compile("^" + segment.join(re.escape(p) for p in parts) + "$")


def assert_well_formed(request, op):
    """The request is what the operation promises: verb, URL, query names, JSON body keys."""
    assert request.method == op.verb.upper()
    url = urlsplit(request.url)
    assert f"{url.scheme}://{url.netloc}/" == BASE
    assert wire_path_pattern(op.path).match(url.path), url.path
    query_names = {p.wire_name for p in op.parameters if p.location == "query"}
    for name, _ in parse_qsl(url.query, keep_blank_values=True):
        assert name in query_names or (name.endswith("[]") and name[:-2] in query_names), name
    body_params = [p for p in op.parameters if p.location == "body"]
    if request.body is None:
        assert not any(p.required for p in body_params)
        return
    raw = request.body if isinstance(request.body, bytes) else request.body.encode("utf-8")

    def refuse_constant(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    body = json.loads(raw.decode("utf-8"), parse_constant=refuse_constant)
    assert isinstance(body, dict)
    wire = {p.wire_name for p in body_params}
    assert set(body) <= wire, set(body) - wire
    assert {p.wire_name for p in body_params if p.required} <= set(body)


def make_thrower(spec, op, method, mock, tally, outcomes):
    """A hypothesis test throwing generated arguments at one operation's method.

    Each example picks one *target* parameter and gives it junk, an almost-right
    value, a value with junk nested inside, or None; the other required
    parameters get valid values, the optional ones are left out or valid. One
    example in five is chaos instead: every parameter picks its own mode.
    """
    label = f"{op.resource}.{op.name}()"
    params = op.parameters
    bad_modes = st.sampled_from(["junk", "nasty", "nasty", "nested", "none"])
    chaos_modes = st.sampled_from(["omit", "valid", "nested", "nasty", "junk", "none"])
    extra_names = st.sampled_from(["bogus", "fromTemplateId", "iterator", "x" * 50])

    def value(data, p, mode):
        if mode == "none":
            return None
        if mode == "junk":
            return data.draw(JUNK, label=p.name)
        if mode == "nasty":
            return data.draw(nasty_values(spec, p.schema), label=p.name)
        return data.draw(schema_values(spec, p.schema, mode == "nested"), label=p.name)

    @settings(max_examples=14, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def throw(data):
        kwargs = {}
        chaos = data.draw(st.integers(0, 4), label="chaos") == 0
        target = data.draw(st.sampled_from(params), label="target") if params and not chaos else None
        for p in params:
            if chaos:
                mode = data.draw(chaos_modes, label=f"mode of {p.name}")
            elif p is target:
                mode = data.draw(bad_modes, label=f"mode of {p.name}")
            else:
                mode = "valid" if p.required or data.draw(st.booleans(), label=p.name) else "omit"
            if mode != "omit":
                kwargs[p.name] = value(data, p, mode)
        if data.draw(st.integers(0, 9), label="extra") == 0:
            kwargs[data.draw(extra_names, label="extra name")] = 1
        note(f"{label} {op.verb.upper()} {op.path}")
        mock.reset_mock()
        tally.bad_input()
        try:
            method(**kwargs)
        except (TypeError, ValueError) as exc:
            text = str(exc)
            assert label in text, text
            named = [n for n in kwargs if f"'{n}'" in text or f"'{n}." in text or f"'{n}[" in text]
            assert named or "missing required argument" in text, text
            assert mock.call_count == 0
            outcomes["error"] += 1
            return
        assert mock.call_count == 1
        assert_well_formed(mock.request_history[0], op)
        outcomes["request"] += 1

    return throw


def test_generated_arguments_at_100_real_operations_end_in_an_error_or_a_well_formed_request(
        real_spec_path, tally, api_key):
    import requests_mock as rm

    client = civis_dyn.APIClient(api_key, local_api_spec=str(real_spec_path), base_url=BASE)
    spec = client.meta.spec
    outcomes = {"request": 0, "error": 0}
    with rm.Mocker() as mock, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)       # deprecated operations warn
        mock.register_uri(rm.ANY, rm.ANY, json={})
        for resource, name in spread_operations(spec):
            method = getattr(getattr(client, resource), name)
            make_thrower(spec, spec.operation(resource, name), method, mock, tally, outcomes)()
    # both outcomes were exercised
    assert outcomes["request"] > 200 and outcomes["error"] > 200, outcomes
