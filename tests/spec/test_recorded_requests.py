"""Client checks never refuse what the API accepts: the schema's own recorded traffic.

The real schema records requests the API answered (``x-examples``). Every one
that got a 2xx is replayed through the client's generated method, with the
values exactly as recorded, and what the client sends is compared with the
recording (requests-mock captures it).

Compared exactly: the verb, the path, every query parameter and every body
value (types included: a single string where the schema says array is sent
as a string). Not compared, because the API reads both forms the same and a
Python call cannot tell them apart:

* the spelling of body keys (``credential_id`` or ``credentialId``: the
  client sends the schema's spelling);
* a body field recorded as ``null`` (a keyword argument of None means "not
  given");
* a trailing slash on the path, and percent-encoding of path segments;
* no body versus ``{}`` for an operation that takes a body (the client sends
  ``{}``, as civis-python does);
* a query parameter or body field named like a path parameter (``id`` in
  ``PUT /scripts/r/{id}``'s body): a call has one argument of that name, the
  path's (a handful of recordings do this).

Names the schema does not know (a query parameter or body field absent from
it) are refused with a fresh schema, as documented; the same requests are
sent exactly as recorded, with a :class:`SchemaDriftWarning`, when the schema
is the bundled or a stale one, and silently with ``parameter_validation=False``.
"""

import json
import warnings
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests_mock

import civis_dyn
from civis_dyn.spec._model import SpecInfo
from civis_dyn.spec._naming import camel_to_snake
from civis_dyn.spec._routing import operation_router

BASE = "http://api.civis.test/"


def recorded_requests(document):
    """``(verb, template, request)`` of every recorded request answered 2xx."""
    for template, item in document["paths"].items():
        for verb, operation in item.items():
            if not isinstance(operation, dict):
                continue
            for example in operation.get("x-examples") or ():
                for request in example.get("requests") or ():
                    if 200 <= request["response_status"] < 300:
                        yield verb, template, request


def call_for(spec, verb, request):
    """The call that makes ``request``: ``(resource, method, kwargs, known, dropped)``.

    ``known`` is False when the request names a query parameter or body
    field the schema lacks; ``dropped`` holds the names a call cannot carry
    besides the path parameter of the same name (``id`` in ``PUT
    /scripts/r/{id}``'s body, ``?id=`` on ``/jobs/{id}/parents``).
    """
    url = urlsplit(request["request_path"])
    (resource, name), path_values = operation_router(spec).match(verb, url.path)
    operation = spec.operation(resource, name)
    by_wire = {(p.location, p.wire_name): p.name for p in operation.parameters}
    by_name = {p.name: p for p in operation.parameters}
    kwargs, known, dropped = {}, True, set()
    for wire, value in path_values.items():
        if value.startswith(":"):  # a route placeholder left unfilled (":sync_id")
            return resource, name, None, None, None
        kwargs[by_wire[("path", wire)]] = value
    for key, values in parse_qs(url.query, keep_blank_values=True).items():
        wire = key[:-2] if key.endswith("[]") else key
        value = values if key.endswith("[]") else values[-1]
        python = by_wire.get(("query", wire))
        if key in path_values:
            dropped.add(key)
            continue
        known &= python is not None
        kwargs[python or key] = value
    body = json.loads(request["request_body"]) if request["request_body"] else None
    for key, value in (body or {}).items():
        python = by_wire.get(("body", key))
        if python is None and getattr(by_name.get(camel_to_snake(key)), "location", "") == "body":
            python = camel_to_snake(key)  # the other spelling of a known field
        if key in path_values:
            dropped.add(key)
        elif value is not None:
            known &= python is not None
            kwargs[python or key] = value
    return resource, name, kwargs, known, dropped


def same_keys(value):
    """``value`` with every key in one spelling (the API reads both)."""
    if isinstance(value, dict):
        return {camel_to_snake(k): same_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [same_keys(v) for v in value]
    return value


def sent_request(client, resource, name, kwargs, response):
    with requests_mock.Mocker() as mocker:
        mocker.register_uri(requests_mock.ANY, requests_mock.ANY, status_code=response["response_status"],
                            text=response.get("response_body") or "",
                            headers={"Content-Type": "application/json"})
        getattr(getattr(client, resource), name)(**kwargs)
        (sent,) = mocker.request_history
    return sent


def assert_sent_as_recorded(sent, request, dropped=()):
    recorded, actual = urlsplit(request["request_path"]), urlsplit(sent.url)
    label = f"{request['request_method']} {request['request_path']}"
    assert sent.method == request["request_method"], label
    assert unquote(actual.path).rstrip("/") == unquote(recorded.path).rstrip("/"), label
    query = parse_qs(recorded.query, keep_blank_values=True)
    assert parse_qs(actual.query, keep_blank_values=True) == \
        {k: v for k, v in query.items() if k not in dropped}, label
    body = json.loads(request["request_body"]) if request["request_body"] else {}
    body = {k: v for k, v in body.items() if v is not None and k not in dropped}
    assert same_keys(json.loads(sent.body) if sent.body else {}) == same_keys(body), label


@pytest.fixture(scope="module")
def replay(real_spec, real_spec_path):
    client = civis_dyn.APIClient(api_key="k", base_url=BASE, local_api_spec=real_spec_path,
                                 allow_insecure_http=True)
    spec = client.meta.spec
    cases = [(verb, template, request, *call_for(spec, verb, request))
             for verb, template, request in recorded_requests(real_spec)]
    # two recordings of PUT /imports/{id}/syncs/{sync_id} have the literal path ":sync_id"
    # (the id went in the body); no call can make that path, so they are left out
    unfilled = [case for case in cases if case[-3] is None]
    assert len(unfilled) <= 2
    return client, [case for case in cases if case[-3] is not None]


def test_every_recorded_request_with_known_names_is_sent_as_recorded(replay):
    client, cases = replay
    known = [case for case in cases if case[-2]]
    assert len(known) > 350  # the schema records about 425 answered requests
    assert sum(bool(case[-1]) for case in cases) <= 12
    for verb, template, request, resource, name, kwargs, _, dropped in known:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # deprecated endpoints
            warnings.simplefilter("error", civis_dyn.SchemaDriftWarning)
            sent = sent_request(client, resource, name, kwargs, request)
        assert_sent_as_recorded(sent, request, dropped)


@pytest.mark.parametrize("resource, method, name, field", [
    ("admin", "list_organizations", "org_type", ()),
    ("enhancements", "post_geocode", "multipart_key", ()),
    ("scripts", "post_sql", "notifications", ("success_email_addresses",)),
])
def test_a_single_value_where_the_schema_says_array_is_sent_as_given(replay, resource, method,
                                                                    name, field):
    # issue 15: the API wraps a single value into an array; the client used to refuse these
    client, cases = replay
    (case,) = [c for c in cases if c[3:5] == (resource, method) and name in c[5]][:1]
    value = case[5][name]
    for key in field:
        value = value[key]
    assert isinstance(value, str)
    parameter = {p.name: p for p in client.meta.operation(resource, method).parameters}[name]
    schema = parameter.schema
    for key in field:
        schema = client.meta.spec.resolve(schema["properties"][
            next(k for k in schema["properties"] if camel_to_snake(k) == key)])
    assert schema["type"] == "array"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        sent = sent_request(client, resource, method, case[5], case[2])
    assert_sent_as_recorded(sent, case[2], case[-1])


def test_recorded_names_the_schema_lacks_are_refused_when_fresh_sent_when_stale(replay,
                                                                                 real_spec_path):
    client, cases = replay
    unknown = [case for case in cases if not case[-2]]
    assert unknown, "the schema records a few requests with names it does not list"
    for _, _, request, resource, name, kwargs, _, _ in unknown:
        with pytest.raises((TypeError, ValueError)), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            sent_request(client, resource, name, kwargs, request)
    stale = civis_dyn.APIClient(api_key="k", base_url=BASE, local_api_spec=real_spec_path,
                                allow_insecure_http=True)
    stale.meta.spec_info = SpecInfo("stale-cache", str(real_spec_path))
    unchecked = civis_dyn.APIClient(api_key="k", base_url=BASE, local_api_spec=real_spec_path,
                                    allow_insecure_http=True, parameter_validation=False)
    for _, _, request, resource, name, kwargs, _, dropped in unknown:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            with pytest.warns(civis_dyn.SchemaDriftWarning):
                sent = sent_request(stale, resource, name, kwargs, request)
        assert_sent_as_recorded(sent, request, dropped)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("error", civis_dyn.SchemaDriftWarning)
            sent = sent_request(unchecked, resource, name, kwargs, request)
        assert_sent_as_recorded(sent, request, dropped)
