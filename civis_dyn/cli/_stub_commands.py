"""``civis-dyn stubs`` (typed stubs from the schema) and ``civis-dyn spec diff`` (schema changes)."""

import json
import os
import sysconfig
import time

import click

from ._session import ApiFailure, api_errors, session_of

__all__ = ["spec_diff_command", "stubs_command"]


@click.command("stubs")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Write a PEP 561 stub package: DIR/civis_dyn-stubs/, DIR/pyproject.toml, DIR/setup.py "
                   "(then `pip install DIR`). With --layout typings: DIR/civis_dyn/.")
@click.option("--install", is_flag=True, default=False,
              help="Write civis_dyn-stubs/ into this environment's site-packages, where "
                   "mypy, Pyright/Pylance and PyCharm find it.")
@click.option("--layout", type=click.Choice(["typings", "package"]), default=None,
              help="typings: <dir>/civis_dyn/ (Pyright's stubPath); package: "
                   "<dir>/civis_dyn-stubs/. Default: typings for ./typings, package for --out.")
def stubs_command(out_dir, install, layout):
    """Generate typed stubs (.pyi) from the schema in use.

    \b
    civis-dyn stubs                 ./typings/civis_dyn/ (VS Code/Pylance, Pyright;
                                    mypy with mypy_path = typings)
    civis-dyn stubs --install       site-packages/civis_dyn-stubs/ (every tool)
    civis-dyn stubs --out DIR       DIR/civis_dyn-stubs/ + pyproject.toml, setup.py

    The stubs record the schema's sha256: a client built from another schema
    warns once per process and names this command. Use the global --spec PATH
    to generate from a schema file.
    """
    from .._stubs import write_stubs

    ctx = click.get_current_context()
    if install and out_dir is not None:
        raise click.UsageError("give either --out DIR or --install, not both", ctx)
    if install:
        if layout == "typings":
            raise click.UsageError("--install writes the package layout (civis_dyn-stubs)", ctx)
        out_dir, layout = sysconfig.get_paths()["purelib"], "package"
    elif out_dir is None:
        out_dir, layout = "typings", layout or "typings"
    else:
        layout = layout or "package"
    spec = session_of(ctx).spec
    started = time.perf_counter()
    try:
        with api_errors(ctx):
            target = write_stubs(spec, out_dir, layout, pyproject=not install)
    except OSError as exc:
        raise ApiFailure(f"cannot write the stubs in {out_dir}: {exc.strerror or exc}") from None
    elapsed = time.perf_counter() - started
    count = sum(1 for _ in target.rglob("*.pyi"))
    click.echo(f"Wrote {count} stub files for schema {spec.sha256[:12]} to {target} "
               f"in {elapsed:.2f} s", err=True)
    click.echo(str(target))


_SOURCES = ("cached", "live", "bundle")


def _load_source(session, which):
    """An :class:`ApiSpec` for ``cached``, ``live``, ``bundle`` or a schema file path."""
    from .._config import ClientConfig
    from .._pipeline import SyncDriver, key_fingerprint
    from ..spec._cache import DiskCache, schema_entry_name
    from ..spec._model import ApiSpec
    from ..spec._source import download_schema, read_schema_file, bundled_spec_path

    if which == "bundle":
        path = bundled_spec_path()
        return ApiSpec.from_bytes(read_schema_file(path), source="bundle", location=str(path))
    if which not in _SOURCES:
        if not os.path.isfile(which):
            raise click.BadParameter(f"{which!r} is neither a schema file nor one of "
                                     f"{', '.join(_SOURCES)}", param_hint="OLD/NEW")
        return ApiSpec.from_bytes(read_schema_file(which), source="file", location=which)
    config = ClientConfig.resolve(retries=session.retries, user_agent="civis-dyn-cli")
    if not config.api_key:
        raise ApiFailure(f"spec diff: the {which} schema is per API key: set CIVIS_API_KEY, "
                         f"or compare schema files")
    if which == "cached":
        name = schema_entry_name(config.base_url, config.api_version, key_fingerprint(config.api_key))
        cache = DiskCache()
        entry = cache.read_schema(name)
        if entry is None:
            raise ApiFailure(f"spec diff: no cached schema for {config.base_url} in "
                             f"{cache.directory} (run `civis-dyn spec refresh` first, or "
                             f"compare schema files)")
        return ApiSpec.from_bytes(entry.raw, source="disk-cache", location=str(cache.path(name)),
                                  fetched_at=entry.fetched_at)
    transport = SyncDriver.from_config(config)
    try:
        fetched = download_schema(transport, config.api_version, time.time)  # caches left as they are
    finally:
        transport.close()
    return ApiSpec.from_bytes(fetched.raw, source="download", location=transport.url("endpoints"),
                              fetched_at=fetched.fetched_at)


@click.command("diff")
@click.argument("old", default="cached", metavar="[OLD]")
@click.argument("new", default="live", metavar="[NEW]")
@click.option("--json", "as_json", is_flag=True, default=False, help="Print the diff as JSON.")
@click.option("--exit-code", is_flag=True, default=False,
              help="Exit 3 when the schemas differ (for CI), 0 when they do not.")
def spec_diff_command(old, new, as_json, exit_code):
    """Show what changed between two schemas: operations, parameters, deprecations.

    OLD and NEW are schema files or one of: cached (the schema the client has
    cached for CIVIS_API_ENDPOINT and CIVIS_API_KEY), live (downloaded now
    from /endpoints; the caches are not touched), bundle (shipped with
    civis_dyn). Default: cached against live.

    \b
    civis-dyn spec diff                        cached -> live
    civis-dyn spec diff old.json new.json --json
    civis-dyn spec diff bundle live
    """
    from ..spec._diff import diff_specs, format_diff

    ctx = click.get_current_context()
    session = session_of(ctx)
    with api_errors(ctx):
        before = _load_source(session, old)
        after = _load_source(session, new)
        diff = diff_specs(before, after)
    if as_json:
        click.echo(json.dumps({"old_source": old, "new_source": new, **diff}, indent=2))
    else:
        click.echo(format_diff(diff, old, new))
    if exit_code and not diff["identical"]:
        ctx.exit(3)
