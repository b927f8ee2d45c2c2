"""Tests of tools/build_schema.py and the committed schemas/civis_api_spec.json.

The real Civis schema is only read here, to measure how faithfully the
schema built from the published reference reproduces its verbs, paths and
body wire names; nothing of it is copied.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from civis_dyn.spec import _naming as naming

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tools import build_schema as bs  # noqa: E402
from tools import reference_parser as rp  # noqa: E402
from civis_dyn.spec._model import ApiSpec  # noqa: E402


def _resolve(spec, schema):
    """The package's resolver (the one the client uses)."""
    return ApiSpec.from_dict(spec).resolve(schema)


TOOL = REPO / "tools" / "build_schema.py"
COMMITTED = REPO / "schemas" / "civis_api_spec.json"


@pytest.fixture(scope="module")
def docs(reference_dir):
    return rp.parse_reference_dir(reference_dir)


@pytest.fixture(scope="module")
def built(reference_dir):
    """``(spec, index)`` built in-process from the reference."""
    index = {}
    spec = bs.build_spec(reference_dir, index)
    return spec, index


def _run(*args):
    return subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)],
        capture_output=True, text=True, timeout=60,
    )


def _op(spec, verb, path):
    assert path in spec["paths"], f"{path} not in the built schema"
    assert verb in spec["paths"][path], f"{verb.upper()} {path} not in the built schema"
    return spec["paths"][path][verb]


def _body(spec, op):
    bodies = [p for p in op["parameters"] if p["in"] == "body"]
    assert len(bodies) <= 1
    return _resolve(spec, bodies[0]["schema"]) if bodies else None


# -- fidelity against the real schema ---------------------------------------


def test_fidelity_verb_and_path(built, real_spec):
    """Every documented method has the real schema's verb and path, exactly."""
    spec, index = built
    rep = bs.fidelity(spec, real_spec, index)
    assert rep["common"] >= 700, "too few documented methods matched the real schema"
    assert rep["path_ok"] == rep["common"], (
        f"verb+path {rep['path_ok']}/{rep['common']}; mismatches:\n"
        + "\n".join(rep["path_mismatches"]))


# Body fields the published reference documents but the real schema does not have: the
# reference is ahead of (or wrong about) the API here, so the builder cannot match. Any
# other mismatch is a builder error; a listed one that disappears must be removed here.
REFERENCE_ONLY_BODY_FIELDS = {
    "groups.patch: body 'mustAgreeToEula'",
    "groups.post: body 'mustAgreeToEula'",
    "groups.put: body 'mustAgreeToEula'",
    "projects.put: body 'autoShare'",
}


def test_fidelity_body_wire_names(built, real_spec):
    """Body wire names match the real schema, except the reference's known extra fields."""
    spec, index = built
    rep = bs.fidelity(spec, real_spec, index)
    assert rep["wire_total"] >= 1000
    found = {m.split(" not in real")[0] for m in rep["wire_mismatches"]}
    unexpected = sorted(m for m in rep["wire_mismatches"]
                        if m.split(" not in real")[0] not in REFERENCE_ONLY_BODY_FIELDS)
    assert not unexpected, (
        f"body wire names {rep['wire_ok']}/{rep['wire_total']}; unexpected mismatches:\n"
        + "\n".join(unexpected))
    assert found == REFERENCE_ONLY_BODY_FIELDS, (
        f"known reference-only fields now match (remove them from the list): "
        f"{sorted(REFERENCE_ONLY_BODY_FIELDS - found)}")
    assert rep["wire_ok"] == rep["wire_total"] - len(REFERENCE_ONLY_BODY_FIELDS)


def test_fidelity_catches_a_wrong_path(built, real_spec):
    """The comparison is exact: a changed parameter name is a mismatch."""
    spec, index = built
    key = ("jobs", "list_runs_logs")
    bad = dict(index)
    verb, path = bad[key]
    wrong = path.replace("{run_id}", "{id2}")
    bad[key] = (verb, wrong)
    spec2 = json.loads(json.dumps(spec))
    spec2["paths"][wrong] = spec2["paths"][path]
    rep = bs.fidelity(spec2, real_spec, bad)
    assert any(m.startswith("jobs.list_runs_logs:") for m in rep["path_mismatches"])


def test_cli_check_fidelity(reference_dir, real_spec_path, tmp_path):
    res = _run("--reference", reference_dir, "--output", tmp_path / "s.json",
               "--check-fidelity", real_spec_path)
    assert res.returncode == 0, res.stderr
    assert re.search(r"verb\+path: (\d+)/\1 \(100\.00%\)", res.stdout), res.stdout
    assert not (tmp_path / "s.json").exists()  # comparing writes nothing


# -- naming rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    "verb, path, name",
    [
        ("get", "/jobs/", "list"),
        ("get", "/jobs/{id}", "get"),
        ("get", "/jobs/{id}/runs", "list_runs"),
        ("get", "/jobs/{id}/runs/{run_id}", "get_runs"),
        ("get", "/jobs/{id}/runs/{run_id}/logs", "list_runs_logs"),
        ("get", "/aliases/{object_type}/{alias}", "get_object_type"),
        ("post", "/enhancements/cass-ncoa/{id}/runs", "post_cass_ncoa_runs"),
        ("delete", "/jobs/{id}", "delete"),
    ],
)
def test_method_name(verb, path, name):
    """The tool names an operation as the client does (the client's rule is the reference)."""
    assert naming.method_name(verb, path) == name
    assert bs.method_name is naming.method_name and bs.resource_name is naming.resource_name


def test_paths_invert_the_naming_rules(built):
    """Every documented method gets a path the client names the same way."""
    spec, index = built
    bad = [
        f"{r}.{m} -> {v.upper()} {p} ({naming.method_name(v, p)})"
        for (r, m), (v, p) in index.items()
        if naming.method_name(v, p) != m or naming.resource_name(p) != r
    ]
    assert not bad, bad


@pytest.mark.parametrize(
    "resource, method, verb, path",
    [
        ("jobs", "list_runs_logs", "get", "/jobs/{id}/runs/{run_id}/logs"),
        ("jobs", "list", "get", "/jobs/"),
        ("workflows", "post", "post", "/workflows/"),
        ("jobs", "post_trigger_email", "post", "/jobs/{id}/trigger_email"),
        ("git_repos", "list", "get", "/git_repos/"),
        ("enhancements", "get_cass_ncoa", "get", "/enhancements/cass-ncoa/{id}"),
        ("scripts", "list_containers_runs", "get", "/scripts/containers/{id}/runs"),
        ("users", "delete_me_favorites", "delete", "/users/me/favorites/{id}"),
        ("databases", "get_whitelist_ips", "get", "/databases/{id}/whitelist-ips/{whitelisted_ip_id}"),
        ("aliases", "get_object_type", "get", "/aliases/{object_type}/{alias}"),
        ("services", "post_deployments", "post", "/services/{service_id}/deployments"),
        ("tables", "get_enhancements_cass_ncoa", "get",
         "/tables/{source_table_id}/enhancements/cass-ncoa/{id}"),
        ("jobs", "put_transfer", "put", "/jobs/{id}/transfer"),
        ("projects", "put_parent_projects", "put", "/projects/{id}/parent_projects/{parent_project_id}"),
    ],
)
def test_derived_paths(built, resource, method, verb, path):
    spec, index = built
    assert index[(resource, method)] == (verb, path)


@pytest.mark.parametrize(
    "name, signature, prefixes, path",
    [
        ("get_schemas_tables", "(id: int, schema_name: str, table_name: str)", set(),
         "/databases/{id}/schemas/{schema_name}/tables/{table_name}"),
        ("patch_me_favorites_ranking_top", "(id: int)", {("me",), ("me", "favorites")},
         "/databases/me/favorites/{id}/ranking/top"),
        ("post_runs", "(id: int)", set(), "/databases/{id}/runs"),
        ("post", "(name: str, *, hidden: bool = None)", set(), "/databases/"),
    ],
)
def test_derive_path_rules(name, signature, prefixes, path):
    method = rp.MethodDoc(name=name, signature=signature, summary="")
    assert bs.derive_path("databases", method, prefixes)[1] == path


# -- content of operations ------------------------------------------------------------


def test_swagger_header(built):
    spec, _ = built
    assert spec["swagger"] == "2.0"
    assert spec["host"] == "api.civisanalytics.com"
    assert spec["securityDefinitions"] == {
        "api_key": {"type": "apiKey", "name": "Authorization", "in": "header"}
    }
    assert spec["security"] == [{"api_key": []}]
    assert spec["produces"] == ["application/json"] == spec["consumes"]


def test_one_operation_per_documented_method(built, docs):
    spec, index = built
    n_ops = sum(len(item) for item in spec["paths"].values())
    assert n_ops == len(set(index.values()))
    assert len(index) == sum(len(r.methods) for r in docs.values())


def test_path_parameters_match_templates(built):
    """Every {name} in a path is a path parameter and vice versa; no duplicates."""
    spec, _ = built
    bad = []
    for path, item in spec["paths"].items():
        in_template = set(re.findall(r"\{([^}]+)\}", path))
        for verb, op in item.items():
            declared = [p["name"] for p in op["parameters"] if p["in"] == "path"]
            names = [p["name"] for p in op["parameters"] if p["in"] != "body"]
            if set(declared) != in_template or len(names) != len(set(names)):
                bad.append(f"{verb.upper()} {path}: {declared}")
            if verb in ("get", "delete"):
                assert all(p["in"] != "body" for p in op["parameters"]), path
            else:
                assert all(p["in"] != "query" for p in op["parameters"]), path
    assert not bad, bad


def test_path_and_body_arguments(built):
    spec, _ = built
    transfer = _op(spec, "put", "/jobs/{id}/transfer")
    assert [p["name"] for p in transfer["parameters"] if p["in"] == "path"] == ["id"]
    body = _body(spec, transfer)
    assert list(body["properties"]) == ["userId", "includeDependencies", "emailBody", "sendEmail"]
    assert body["required"] == ["userId", "includeDependencies"]
    revoke = _op(spec, "delete", "/jobs/{id}/shares/users/{user_id}")
    assert [(p["name"], p["in"]) for p in revoke["parameters"]] == [("id", "path"), ("user_id", "path")]
    assert revoke["responses"] == {"204": {"description": "success"}}


def test_query_parameters_and_iterator(built):
    spec, _ = built
    op = _op(spec, "get", "/jobs/{id}/runs")
    assert [(p["name"], p["in"], p["required"]) for p in op["parameters"]] == [
        ("id", "path", True), ("limit", "query", False), ("page_num", "query", False),
        ("order", "query", False), ("order_dir", "query", False),
    ]
    state = next(p for p in _op(spec, "get", "/workflows/")["parameters"] if p["name"] == "state")
    assert state["type"] == "array" and state["items"] == {"type": "string"}


def test_nested_body_schema(built):
    spec, _ = built
    body = _body(spec, _op(spec, "post", "/workflows/"))
    assert list(body["properties"])[:3] == ["name", "description", "fromJobChain"]
    assert body["required"] == ["name"]
    schedule = _resolve(spec, body["properties"]["schedule"])
    assert schedule["type"] == "object"
    days = schedule["properties"]["scheduledDays"]
    assert days == {"type": "array", "items": {"type": "integer"},
                    "description": days["description"]}


def test_responses(built):
    spec, _ = built
    assert _op(spec, "delete", "/jobs/{id}/runs/{run_id}")["responses"] == {
        "202": {"description": "success"}
    }
    listed = _op(spec, "get", "/jobs/")["responses"]["200"]
    assert listed["description"] == "success"
    assert listed["schema"]["type"] == "array"
    item = _resolve(spec, listed["schema"]["items"])
    assert item["properties"]["fromTemplateId"] == {"type": "integer"}
    got = _resolve(spec, _op(spec, "get", "/jobs/{id}")["responses"]["200"]["schema"])
    assert got["type"] == "object"
    assert got["properties"]["createdAt"] == {"type": "string", "format": "date-time"}
    runs = got["properties"]["runs"]
    assert runs["type"] == "array"
    assert _resolve(spec, runs["items"])["properties"]["createdAt"]["format"] == "time"


def test_deprecation(built):
    spec, _ = built
    op = _op(spec, "post", "/tables/{id}/refresh")
    assert op["deprecated"] is True
    assert op["x-deprecation-warning"].startswith("Warning: The tables/:id/refresh endpoint")
    assert op["summary"] == "Request a refresh for column and table statistics"
    plain = _op(spec, "get", "/tables/{id}")
    assert "deprecated" not in plain and "x-deprecation-warning" not in plain


def test_wire_name_facts(built):
    spec, _ = built
    body = _body(spec, _op(spec, "post", "/reports/"))
    assert "provideAPIKey" in body["properties"]
    assert bs.wire_name("from_template_id") == "fromTemplateId"
    assert bs.wire_name("limiting_sql") == "limitingSQL"


def test_refs_resolve(built):
    spec, _ = built
    text = json.dumps(spec)
    refs = set(re.findall(r'"\$ref": "#/definitions/([^"]+)"', text))
    assert refs, "expected shared definitions"
    assert refs <= set(spec["definitions"])
    assert "x-examples" not in text


def _snake(name):
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def _client_signature(spec, verb, op):
    """The signature the client builds from an operation (its rules)."""
    types = {"integer": "int", "string": "str", "boolean": "bool",
             "number": "float", "object": "dict"}

    def pytype(s):
        s = _resolve(spec, s)
        if s.get("type") == "array":
            return "List[%s]" % types.get(_resolve(spec, s.get("items", {})).get("type"), "dict")
        return types.get(s.get("type"), "dict")

    path, req_q, req_b, opt = [], [], [], []
    for p in op["parameters"]:
        if p["in"] == "path":
            path.append((p["name"], pytype(p)))
        elif p["in"] == "query":
            (req_q if p["required"] else opt).append((p["name"], pytype(p)))
        else:
            body = _resolve(spec, p["schema"])
            for k, v in body.get("properties", {}).items():
                item = (_snake(k), pytype(v))
                (req_b if k in body.get("required", []) else opt).append(item)
    parts = [f"{n}: {t}" for n, t in path + req_q + req_b]
    names = [n for n, _ in opt]
    iterator = verb == "get" and "limit" in names and "page_num" in names
    if opt:
        parts.append("*")
    parts += [f"{n}: {t} = None" for n, t in opt]
    if iterator:
        parts.append("iterator: bool = None")
    return "(" + ", ".join(parts) + ")"


def test_client_reproduces_documented_signatures(built, docs):
    """Parameters are emitted in documented order, so signatures round-trip."""
    spec, index = built
    total = 0
    bad = []
    for (r, m), (verb, path) in sorted(index.items()):
        method = docs[r].methods[m]
        ours = _client_signature(spec, verb, spec["paths"][path][verb])
        want = method.current_signature()
        if method.style == "old":  # the old reference has no list item types
            ours, want = (re.sub(r"List\[\w+\]", "List", s) for s in (ours, want))
        total += 1
        if ours != want:
            bad.append(f"{r}.{m}: {ours} != {want}")
    assert total > 780
    assert not bad, f"{len(bad)}/{total} signatures differ:\n" + "\n".join(bad)
    current = [k for k in index if docs[k[0]].methods[k[1]].style == "current"]
    assert len(current) > 70


# -- facts table ------------------------------------------------------------------------


def test_facts_are_used_and_few(docs):
    names = {(r, m) for r, res in docs.items() for m in res.methods}
    joined = {"_" + m + "_" for _, m in names}
    for seg in bs.FACTS["segments"]:
        assert any("_" + seg + "_" in n for n in joined), f"unused segment fact {seg}"
    for table in ("path_args", "body_args", "paths"):
        for key in bs.FACTS[table]:
            assert key in names, f"{table} fact for an undocumented method {key}"
    for key in bs.FACTS["array_responses"]:
        assert key in names
    assert sum(len(v) for v in bs.FACTS.values()) <= 60


# -- the committed file, --check, determinism ------------------------------------------


def test_check_without_the_reference_skips_on_a_bare_clone_and_fails_in_ci(tmp_path):
    """A new user's clone has no ../shared: --check says so and passes; CI=true fails it."""
    absent = tmp_path / "no-reference"
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    bare = subprocess.run([sys.executable, str(TOOL), "--reference", str(absent), "--check"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert bare.returncode == 0 and "skipped" in bare.stderr and str(absent) in bare.stderr
    ci = subprocess.run([sys.executable, str(TOOL), "--reference", str(absent), "--check"],
                        capture_output=True, text=True, timeout=60, env={**env, "CI": "true"})
    assert ci.returncode == 2 and str(absent) in ci.stderr
    build = subprocess.run([sys.executable, str(TOOL), "--reference", str(absent), "--output",
                            str(tmp_path / "x.json")], capture_output=True, text=True,
                           timeout=60, env=env)
    assert build.returncode == 2 and not (tmp_path / "x.json").exists()


def test_check_passes_on_committed_file(reference_dir):
    res = _run("--reference", reference_dir, "--check")
    assert res.returncode == 0, res.stdout + res.stderr


def test_check_fails_on_modified_copy(reference_dir, tmp_path):
    copy = tmp_path / "spec.json"
    data = json.loads(COMMITTED.read_text(encoding="utf-8"))
    data["paths"]["/jobs/"]["get"]["summary"] = "changed"
    copy.write_text(bs.dumps(data), encoding="utf-8")
    res = _run("--reference", reference_dir, "--output", copy, "--check")
    assert res.returncode == 1
    assert "re-run" in res.stderr
    missing = _run("--reference", reference_dir, "--output", tmp_path / "none.json", "--check")
    assert missing.returncode == 1


def test_build_is_deterministic(reference_dir, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for out in (a, b):
        res = _run("--reference", reference_dir, "--output", out)
        assert res.returncode == 0, res.stderr
    data = a.read_bytes()
    assert data == b.read_bytes()
    assert data == COMMITTED.read_bytes()
    assert data.endswith(b"}\n") and b"\n" not in data[:-1]
    assert b'": ' not in data[:2000] and b", " not in data[:200]  # minified


def test_output_key_order(built):
    """Keys are sorted, except the documented order of ``properties``."""
    spec, _ = built
    text = bs.dumps(spec)
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert list(data["paths"]) == sorted(data["paths"])
    op = data["paths"]["/jobs/{id}/transfer"]["put"]
    assert list(op) == sorted(op)
    body = next(p for p in op["parameters"] if p["in"] == "body")["schema"]
    body = _resolve(data, body)
    assert list(body["properties"]) == ["userId", "includeDependencies", "emailBody", "sendEmail"]


def test_write_atomic_replaces(tmp_path):
    target = tmp_path / "x.json"
    target.write_text("old", encoding="utf-8")
    bs.write_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
