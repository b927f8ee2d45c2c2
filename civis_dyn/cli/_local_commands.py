"""``civis-dyn serve`` and ``civis-dyn demo``: the local fake API from the command line."""

import threading

import click

from ._session import api_errors, session_of

__all__ = ["demo_command", "serve_command"]


def _spec_for(ctx, spec):
    """The schema the local API uses: the command's --spec, else the global one, else bundled."""
    return spec or session_of(ctx).spec_path


@click.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="TCP port on 127.0.0.1 (0 picks a free one).")
@click.option("--spec", type=click.Path(exists=True, dir_okay=False), default=None,
              metavar="PATH", help="Schema file (default: the global --spec, else the bundle).")
@click.option("--key", default=None, metavar="K",
              help="The API key clients must send (default: a random one, printed once).")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Keep files, SQL tables and objects here across restarts.")
def serve_command(port, spec, key, data_dir):
    """Serve a local, stateful fake Civis API built from the schema, until Ctrl+C.

    \b
    Point the client or the CLI at it:
      export CIVIS_API_ENDPOINT=<the printed URL>
      export CIVIS_API_KEY=<your --key, or the printed random key>
    """
    ctx = click.get_current_context()
    from ..testing._local_api import LocalCivisAPI

    with api_errors(ctx):
        api = LocalCivisAPI(spec=_spec_for(ctx, spec), api_key=key, port=port,
                            data_dir=data_dir)
    api.start()
    try:
        click.echo(f"Local Civis API serving at {api.url}")
        click.echo(f"export CIVIS_API_ENDPOINT={api.url}")
        if key is None:
            # a throwaway key made for this local server, not a Civis key
            click.echo(f"export CIVIS_API_KEY={api.api_key}")
        else:
            click.echo("export CIVIS_API_KEY=<the key given with --key>")
        click.echo("Press Ctrl+C to stop.")
        _wait_for_interrupt()
    finally:
        api.stop()
        click.echo("Stopped.", err=True)


def _wait_for_interrupt():
    """Block until SIGINT (Ctrl+C) or SIGTERM."""
    import signal

    stop = threading.Event()
    handled = (signal.SIGINT, signal.SIGTERM)
    try:
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in handled}
    except ValueError:  # not the main thread: only KeyboardInterrupt can stop us
        previous = {}
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command("demo")
@click.option("--spec", type=click.Path(exists=True, dir_okay=False), default=None,
              metavar="PATH", help="Schema file (default: the global --spec, else the bundle).")
def demo_command(spec):
    """A short tour of the client against an in-process local API (a few seconds)."""
    ctx = click.get_current_context()
    from ._demo import run_demo

    with api_errors(ctx):
        run_demo(spec=_spec_for(ctx, spec), echo=click.echo)
