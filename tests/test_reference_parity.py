"""The client built from the real schema reproduces the published reference.

The reference texts are parsed here (``tools/reference_parser.py``), so the expected
values are read from the documents, not copied by hand. Where the current schema itself
differs from the reference, the difference is listed below with its reason.
"""
import inspect
import re
import sys
from pathlib import Path

import pytest

import civis_dyn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from reference_parser import parse_reference, parse_reference_dir  # noqa: E402

# Methods the reference documents but the current schema no longer has (the API removed the
# endpoint: no path of the schema yields the name).
NOT_IN_CURRENT_SCHEMA = {
    ("workflows", "post_git_checkout"): "no /workflows/{id}/git/checkout in the schema",
    ("notebooks", "post_git_checkout"): "no /notebooks/{id}/git/checkout in the schema",
    ("notebooks", "post_git_checkout_latest"): "no /notebooks/{id}/git/checkout-latest",
    ("reports", "post_git_checkout"): "no /reports/{id}/git/checkout in the schema",
    ("reports", "post_git_checkout_latest"): "no /reports/{id}/git/checkout-latest",
    ("admin", "delete_announcements"): "admin announcements moved to /announcements",
    ("admin", "get_announcements"): "admin announcements moved to /announcements",
    ("admin", "list_announcements"): "admin announcements moved to /announcements",
    ("admin", "patch_announcements"): "admin announcements moved to /announcements",
    ("admin", "post_announcements"): "admin announcements moved to /announcements",
    ("admin", "patch_themes"): "no /admin/themes in the schema",
    ("admin", "post_themes"): "no /admin/themes in the schema",
    ("clusters", "patch_kubernetes"): "kubernetes clusters are read-only in the schema",
    ("clusters", "post_kubernetes"): "kubernetes clusters are read-only in the schema",
    ("saml_service_providers", "delete_shares_groups"): "no /saml_service_providers in the schema",
    ("saml_service_providers", "delete_shares_users"): "no /saml_service_providers in the schema",
    ("saml_service_providers", "list_shares"): "no /saml_service_providers in the schema",
    ("saml_service_providers", "put_shares_groups"): "no /saml_service_providers in the schema",
    ("saml_service_providers", "put_shares_users"): "no /saml_service_providers in the schema",
    ("scripts", "patch"): "no PATCH /scripts/{id} in the schema",
    ("templates", "post_reports_review"): "no /templates/reports/{id}/review in the schema",
    ("templates", "post_scripts_review"): "no /templates/scripts/{id}/review in the schema",
    ("users", "delete_me_superadmin"): "no /users/me/superadmin in the schema",
    ("users", "post_me_superadmin"): "no /users/me/superadmin in the schema",
    ("users", "list_me_ui"): "no /users/me/ui in the schema",
}

CURRENT = ("000", "002", "003")


@pytest.fixture(scope="module")
def client(real_spec_path):
    return civis_dyn.APIClient(api_key="k", local_api_spec=str(real_spec_path))


def current_methods(reference_dir):
    for prefix in CURRENT:
        (path,) = reference_dir.glob(f"{prefix}_*.txt")
        for resource in parse_reference(path):
            for name, method in resource.methods.items():
                yield resource.name, name, method


def documented_params(doc):
    """``[(name, type, optional)]`` from a numpydoc Parameters section."""
    match = re.search(r"\nParameters\n----------\n(.*?)\n\nReturns\n", doc, re.S)
    if not match:
        return []
    rows = []
    for line in match.group(1).splitlines():
        if line and not line.startswith(" "):
            name, _, rest = line.partition(" : ")
            optional = rest.endswith(", optional")
            rows.append((name, rest.removesuffix(", optional"), optional))
    return rows


def documented_returns(doc):
    lines = doc.split("\nReturns\n-------\n", 1)[1].splitlines()
    # a paginated list documents both kinds; the reference names the iterator's
    kind = lines[0].split(" or ")[-1].replace(":class:`civis_dyn.", "").rstrip("`")
    code = lines[1].strip().removeprefix("Response code ") if kind == "None" else None
    return kind, code


def test_every_current_style_method_exists_with_the_documented_signature(client, reference_dir):
    checked, mismatches, absent = 0, [], []
    for resource, name, method in current_methods(reference_dir):
        if name not in dir(getattr(client, resource)):
            absent.append((resource, name))
            continue
        checked += 1
        actual = str(inspect.signature(getattr(getattr(client, resource), name)))
        if actual != method.signature:
            mismatches.append(f"{resource}.{name}: {actual} != {method.signature}")
    assert checked >= 80
    assert not mismatches, "\n".join(mismatches)
    assert set(absent) <= set(NOT_IN_CURRENT_SCHEMA), absent


def test_docstrings_match_the_reference(client, reference_dir):
    problems = []
    for resource, name, method in current_methods(reference_dir):
        if (resource, name) in NOT_IN_CURRENT_SCHEMA:
            continue
        doc = getattr(getattr(client, resource), name).__doc__
        expected = [(p.name, p.type, p.optional) for p in method.params]
        if documented_params(doc) != expected:
            problems.append(f"{resource}.{name} parameters: {documented_params(doc)} != {expected}")
        kind, code = documented_returns(doc)
        kind = {"ListResponse": "Response"}.get(kind, kind)  # the reference says Response for arrays
        if kind != method.returns:
            problems.append(f"{resource}.{name} returns {kind}, reference {method.returns}")
        if code != method.response_code:
            problems.append(f"{resource}.{name} response code {code!r} != {method.response_code!r}")
    assert not problems, "\n".join(problems)


def test_help_reads_like_the_reference_entry(client, reference_dir):
    import pydoc

    text = pydoc.render_doc(client.jobs.get, renderer=pydoc.plaintext)
    assert "get(id: int) method of civis_dyn.resources.Jobs instance" in text
    assert "Show basic job info" in text and "id : int\n        The ID for this job." in text
    assert "- last_run : dict" in text and "- created_at : str (time)" in text


def test_every_old_style_method_still_in_the_schema_exists(client, reference_dir):
    documented = parse_reference_dir(reference_dir, names=("001",))
    missing = sorted((r, m) for r, doc in documented.items() for m in doc.methods
                     if m not in dir(getattr(client, r, None)))
    total = sum(len(doc.methods) for doc in documented.values())
    print(f"\nreference 001: {total} methods, {total - len(missing)} present, "
          f"{len(missing)} no longer in the schema")
    assert total > 700
    assert set(missing) == set(NOT_IN_CURRENT_SCHEMA), missing
    # the listed ones really are gone: no operation of the schema is named like them
    index = client.meta.spec.index
    assert not any(name in index.get(resource, {}) for resource, name in NOT_IN_CURRENT_SCHEMA)
