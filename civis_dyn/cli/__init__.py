"""``civis-dyn``: the Civis API on the command line, generated lazily from the schema.

::

    civis-dyn <resource> <command> [ARGS] [--options]
    civis-dyn jobs list-runs 42 --limit 5 --output table
    civis-dyn spec show | spec refresh | spec path
    civis-dyn jobs follow-log ID [RUN_ID]
    civis-dyn scripts run-and-wait ID
    civis-dyn serve [--port N] [--spec PATH] [--key K]
    civis-dyn demo

Which schema: the same resolution as :class:`civis_dyn.APIClient` (with
``CIVIS_API_KEY`` and ``CIVIS_API_ENDPOINT``), unless the global ``--spec
PATH`` option or ``CIVIS_DYN_SPEC`` names a local schema file.

Only the invoked resource's commands are built. Shell completion uses click's
mechanism: ``eval "$(_CIVIS_DYN_COMPLETE=bash_source civis-dyn)"`` in
``~/.bashrc`` (``zsh_source`` for zsh; for fish,
``_CIVIS_DYN_COMPLETE=fish_source civis-dyn | source``).
"""

from ._app import cli

__all__ = ["cli", "main"]

COMPLETE_VAR = "_CIVIS_DYN_COMPLETE"


def main(argv=None, *, standalone_mode=True):
    """Run ``civis-dyn`` (the console script's entry point).

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``).
    standalone_mode : bool, optional
        True: exit with the command's status, as a console script does.

    Returns
    -------
    object
        The command's return value when ``standalone_mode`` is False.
    """
    # click itself exits quietly when the reader of a pipe goes away (EPIPE)
    return cli.main(args=argv, prog_name="civis-dyn", complete_var=COMPLETE_VAR,
                    standalone_mode=standalone_mode)
