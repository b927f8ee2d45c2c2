"""Schema-loading tests in isolation: a private cache directory, no inherited settings."""

from civis_dyn.spec import _cache, _source

SETTINGS = ("CIVIS_API_KEY", "CIVIS_API_ENDPOINT", "CIVIS_DYN_SPEC_TTL", "CIVIS_DYN_CACHE_DIR",
            "CIVIS_DYN_MAX_SCHEMA_BYTES", "CIVIS_DYN_MAX_RESPONSE_BYTES", "CIVIS_JOB_ID",
            "CIVIS_RUN_ID")


def isolated_schema_loading(monkeypatch, tmp_path, keep=()):
    """Generator for an autouse fixture: cache in ``tmp_path/cache``, settings unset (but
    ``keep``), no memory of other tests' schemas or cache warnings."""
    for name in SETTINGS:
        if name not in keep:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CIVIS_DYN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(_cache, "_WARNED", set())
    _source.clear_memory_cache()
    yield
    _source.clear_memory_cache()
