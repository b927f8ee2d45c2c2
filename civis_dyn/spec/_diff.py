"""What changed between two API schemas: operations, parameters, deprecations, response fields.

:func:`diff_specs` compares two :class:`~civis_dyn.spec._model.ApiSpec` models
method by method (``jobs.list_runs``; deprecated aliases are skipped, their
preferred names are compared) and returns plain data; :func:`format_diff`
renders it as text. ``civis-dyn spec diff`` prints either, so users see API
changes before their scripts do.
"""

from ._model import type_label

__all__ = ["diff_specs", "format_diff"]


def _methods(spec):
    """``{"resource.method": Operation}`` for every operation under its preferred name."""
    out = {}
    for resource, methods in spec.index.items():
        for name, entry in methods.items():
            if entry[2] is None:
                out[f"{resource}.{name}"] = spec.operation(resource, name)
    return out


def _describe_parameter(p):
    kind = "required" if p.required else "optional"
    return f"{p.location}, {kind}, {type_label(p.schema, with_format=False)}"


def _parameter_changes(old, new):
    changes = []
    before = {p.name: p for p in old.parameters}
    after = {p.name: p for p in new.parameters}
    for name in after.keys() - before.keys():
        changes.append({"change": "parameter added", "name": name,
                        "detail": _describe_parameter(after[name])})
    for name in before.keys() - after.keys():
        changes.append({"change": "parameter removed", "name": name,
                        "detail": _describe_parameter(before[name])})
    for name in before.keys() & after.keys():
        a, b = before[name], after[name]
        if a.location != b.location:
            changes.append({"change": "parameter moved", "name": name,
                            "detail": f"{a.location} -> {b.location}"})
        if a.required != b.required:
            changes.append({"change": "parameter now required" if b.required
                            else "parameter now optional", "name": name, "detail": ""})
        ta, tb = type_label(a.schema), type_label(b.schema)
        if ta != tb:
            changes.append({"change": "parameter type changed", "name": name,
                            "detail": f"{ta} -> {tb}"})
        ea, eb = a.schema.get("enum"), b.schema.get("enum")
        if ea != eb:
            changes.append({"change": "parameter values changed", "name": name,
                            "detail": f"{ea!r} -> {eb!r}"})
    return changes


def _response_fields(op):
    schema = op.item_schema or op.response[2]
    if schema is None:
        return {}
    spec = op.spec
    fields = {}
    for wire, prop in (schema.get("properties") or {}).items():
        prop = spec.resolve(prop, f"{op.location}.responses.properties.{wire}")
        fields[wire] = type_label(prop)
    return fields


def _response_changes(old, new):
    changes = []
    if old.returns != new.returns:
        changes.append({"change": "return type changed", "name": "",
                        "detail": f"{old.returns} -> {new.returns}"})
    before, after = _response_fields(old), _response_fields(new)
    for wire in sorted(after.keys() - before.keys()):
        changes.append({"change": "response field added", "name": wire, "detail": after[wire]})
    for wire in sorted(before.keys() - after.keys()):
        changes.append({"change": "response field removed", "name": wire, "detail": before[wire]})
    for wire in sorted(before.keys() & after.keys()):
        if before[wire] != after[wire]:
            changes.append({"change": "response field type changed", "name": wire,
                            "detail": f"{before[wire]} -> {after[wire]}"})
    return changes


def _summary(method, op):
    return {"method": method, "verb": op.verb.upper(), "path": op.path, "summary": op.summary}


def diff_specs(old, new):
    """Compare two schema models.

    Parameters
    ----------
    old, new : civis_dyn.spec.ApiSpec

    Returns
    -------
    dict
        ``old`` and ``new`` (sha256 of each), ``identical`` (bool), and lists
        ``added``, ``removed`` (method, verb, path, summary), ``deprecated``
        (operations deprecated in ``new`` but not in ``old``, with the
        message) and ``changed`` (method, verb, path and a list of
        ``{"change", "name", "detail"}``: parameters added, removed, moved,
        now required or optional, of another type or other values; the
        return type; response fields added, removed or retyped). Every list
        is sorted by method.
    """
    before, after = _methods(old), _methods(new)
    added = [_summary(m, after[m]) for m in sorted(after.keys() - before.keys())]
    removed = [_summary(m, before[m]) for m in sorted(before.keys() - after.keys())]
    deprecated, changed = [], []
    for method in sorted(before.keys() & after.keys()):
        a, b = before[method], after[method]
        if b.deprecation and not a.deprecation:
            deprecated.append({**_summary(method, b), "message": b.deprecation})
        changes = _parameter_changes(a, b) + _response_changes(a, b)
        if a.verb != b.verb or a.path != b.path:
            changes.insert(0, {"change": "route changed", "name": "",
                               "detail": f"{a.verb.upper()} {a.path} -> {b.verb.upper()} {b.path}"})
        if changes:
            changes.sort(key=lambda c: (c["change"], c["name"]))
            changed.append({**_summary(method, b), "changes": changes})
    return {
        "old": old.sha256,
        "new": new.sha256,
        "identical": not (added or removed or deprecated or changed),
        "added": added,
        "removed": removed,
        "deprecated": deprecated,
        "changed": changed,
    }


def format_diff(diff, old_label="old", new_label="new"):
    """Render :func:`diff_specs`'s result as text (one line per change)."""
    lines = [f"Schema diff: {old_label} ({diff['old'][:12]}) -> {new_label} ({diff['new'][:12]})"]
    if diff["identical"]:
        lines.append("No changes to operations, parameters or deprecations.")
        return "\n".join(lines)
    counts = [f"{len(diff['added'])} new", f"{len(diff['removed'])} removed",
              f"{len(diff['deprecated'])} newly deprecated", f"{len(diff['changed'])} changed"]
    lines.append(", ".join(counts) + " operations")
    for title, key, mark in (("New operations", "added", "+"),
                             ("Removed operations", "removed", "-")):
        if diff[key]:
            lines.extend(["", f"{title}:"])
            lines.extend(f"  {mark} {o['method']}  {o['verb']} {o['path']}" for o in diff[key])
    if diff["deprecated"]:
        lines.extend(["", "Newly deprecated:"])
        lines.extend(f"  ! {o['method']}  {o['message']}" for o in diff["deprecated"])
    if diff["changed"]:
        lines.extend(["", "Changed operations:"])
        for o in diff["changed"]:
            lines.append(f"  ~ {o['method']}  {o['verb']} {o['path']}")
            for c in o["changes"]:
                name = f" {c['name']}" if c["name"] else ""
                detail = f": {c['detail']}" if c["detail"] else ""
                lines.append(f"      {c['change']}{name}{detail}")
    return "\n".join(lines)
