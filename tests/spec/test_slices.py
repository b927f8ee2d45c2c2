"""Per-resource schema slices: a warm start decodes only what the resources it uses need."""
import functools
import json

import pytest

from civis_dyn.spec._cache import DiskCache, index_entry_name, slices_entry_name
from civis_dyn.spec._model import ApiSpec


def warm_model(raw, disk):
    """A model as a warm start builds it: cached index, operations from slices."""
    cold = ApiSpec.from_bytes(raw)
    disk.write_index(cold.sha256, cold.index)
    disk.write_slices(cold.sha256, cold.slices())
    warm = ApiSpec.from_bytes(raw, index=disk.read_index(cold.sha256))
    warm.use_slices(functools.partial(disk.read_slice, cold.sha256))
    return cold, warm


def test_slices_give_every_operation_of_the_real_schema_without_parsing_it(real_spec_path, tmp_path):
    raw = real_spec_path.read_bytes()
    cold, warm = warm_model(raw, DiskCache(tmp_path))
    count = 0
    for resource in cold.resources():
        for name in cold.methods(resource):
            a, b = cold.operation(resource, name), warm.operation(resource, name)
            assert (a.signature, a.doc, a.returns) == (b.signature, b.doc, b.returns), (resource, name)
            count += 1
    assert count > 900
    assert warm._document is None  # never parsed the 2.4 MB schema


def test_a_slice_holds_only_its_resource_and_the_definitions_it_reaches(mini_spec_path):
    spec = ApiSpec.from_bytes(mini_spec_path.read_bytes())
    things = json.loads(spec.slices()["things"])
    assert all(path.startswith("/things/") for path in things["paths"])
    assert set(things["definitions"]) == {"Thing", "Schedule", "ThingCreate", "Run", "Shares"}
    assert "Me" not in things["definitions"]


def test_a_damaged_slices_file_falls_back_to_the_document_and_is_rebuilt_next_time(
        mini_spec_path, tmp_path):
    raw = mini_spec_path.read_bytes()
    disk = DiskCache(tmp_path)
    cold, warm = warm_model(raw, disk)
    path = disk.path(slices_entry_name(cold.sha256))
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.warns(RuntimeWarning, match=r"slices-v1-.*is corrupt \(sha256 mismatch\)"):
        op = warm.operation("users", "get_me")
    assert op.signature == cold.operation("users", "get_me").signature
    assert warm._document is not None  # parsed after all
    assert not path.exists() and not disk.path(index_entry_name(cold.sha256)).exists()


def test_a_missing_slices_file_falls_back_silently(mini_spec_path, tmp_path, recwarn):
    raw = mini_spec_path.read_bytes()
    disk = DiskCache(tmp_path)
    cold, warm = warm_model(raw, disk)
    disk.remove(slices_entry_name(cold.sha256))
    assert warm.operation("things", "get").doc == cold.operation("things", "get").doc
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_prune_bounds_slices_like_indexes(tmp_path):
    disk = DiskCache(tmp_path)
    for i in range(5):
        disk.write_slices(f"{i:064x}", {"jobs": b"{}"})
    removed = disk.prune(keep_indexes=2)
    assert len([n for n in removed if n.startswith("slices-v1-")]) == 3


def test_a_warm_process_documents_a_method_without_parsing_the_schema(real_spec_path, tmp_path):
    import os
    import subprocess
    import sys

    code = ("import civis_dyn, inspect; "
            f"c = civis_dyn.APIClient(api_key='k', local_api_spec={str(real_spec_path)!r}); "
            "inspect.signature(c.jobs.get); c.jobs.get.__doc__; c.workflows.post.__doc__; "
            "print(c.meta.spec._document is None)")
    env = {**os.environ, "CIVIS_DYN_CACHE_DIR": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                           check=True).stdout.strip() for _ in range(2)]
    assert runs == ["False", "True"]  # cold: parsed once to build the cache; warm: never
