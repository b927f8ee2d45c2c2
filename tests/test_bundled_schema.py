"""The bundled schema (built by tools/build_schema.py) round-trips the reference through the client."""
import inspect
import re
import sys
from pathlib import Path

import pytest

import civis_dyn
from civis_dyn.spec._source import bundled_spec_path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from reference_parser import parse_reference_dir  # noqa: E402


@pytest.fixture(scope="module")
def client():
    return civis_dyn.APIClient(api_key="k", local_api_spec=str(bundled_spec_path()))


@pytest.fixture(scope="module")
def documented(reference_dir):
    return parse_reference_dir(reference_dir)


def _doc_params(doc):
    match = re.search(r"\nParameters\n----------\n(.*?)\n\nReturns\n", doc, re.S)
    rows = []
    for line in (match.group(1).splitlines() if match else []):
        if line and not line.startswith(" "):
            name, _, rest = line.partition(" : ")
            rows.append((name, rest.removesuffix(", optional"), rest.endswith(", optional")))
    return rows


def plain_json(text):
    # the old-style reference prints bare "List" for arrays and no formats on parameters
    return re.sub(r" \([a-z-]+\)", "", re.sub(r"List\[[^\]]*\]", "List", text))


def test_every_documented_method_round_trips(client, documented):
    checked, problems = 0, []
    for resource, doc in documented.items():
        for name, method in doc.methods.items():
            bound = getattr(getattr(client, resource), name, None)
            if bound is None:
                problems.append(f"{resource}.{name}: missing")
                continue
            checked += 1
            signature, expected = str(inspect.signature(bound)), method.current_signature()
            if method.style == "old":
                signature, expected = plain_json(signature), plain_json(expected)
            if signature != expected:
                problems.append(f"{resource}.{name}: {signature} != {expected}")
            ours = [(n, plain_json(t), o) for n, t, o in _doc_params(bound.__doc__)]
            want = [(p.name, plain_json(p.type), p.optional) for p in method.params]
            if ours != want:
                problems.append(f"{resource}.{name} docstring parameters: {ours} != {want}")
            kind = bound.__doc__.split("\nReturns\n-------\n", 1)[1].splitlines()[0]
            kind = kind.split(" or ")[-1].replace(":class:`civis_dyn.", "").rstrip("`").replace("ListResponse", "Response")
            if kind != method.returns:
                problems.append(f"{resource}.{name} returns {kind}, documented {method.returns}")
    print(f"\n{checked} documented methods checked on the bundled schema")
    assert checked == sum(len(d.methods) for d in documented.values()) > 780
    assert not problems, "\n".join(problems[:40])


def test_current_style_signatures_are_exact(client):
    assert str(inspect.signature(client.jobs.put_shares_users)) == (
        "(id: int, user_ids: List[int], permission_level: str, *, share_email_body: str = None, "
        "send_shared_email: bool = None)")
    assert str(inspect.signature(client.workflows.list_executions)).endswith("iterator: bool = None)")


def test_no_network_no_cache_no_key_explores_the_bundle(monkeypatch, tmp_path, requests_mock):
    import pydoc
    import warnings

    monkeypatch.delenv("CIVIS_API_KEY", raising=False)
    monkeypatch.setenv("CIVIS_DYN_CACHE_DIR", str(tmp_path / "empty-cache"))
    from civis_dyn.spec import _source

    _source.clear_memory_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exploring offline without a key is not worth a warning
        client = civis_dyn.APIClient()
    assert requests_mock.call_count == 0  # nothing was fetched
    assert client.spec_info.source == "bundle"
    assert {"jobs", "workflows", "services", "scripts"} <= set(dir(client))
    assert "list_runs" in dir(client.jobs)
    assert "List runs for the given job" in pydoc.render_doc(client.jobs.list_runs,
                                                             renderer=pydoc.plaintext)
    with pytest.raises(civis_dyn.MissingAPIKeyError, match="pass api_key= to APIClient or set the "
                                                           "CIVIS_API_KEY environment variable"):
        client.jobs.get(1)
    assert requests_mock.call_count == 0
