"""The anchor: civis-python, installed in its own virtual environment.

``bench/.anchor-venv/`` (ignored by git) is created on first use with the
project's Python and filled from PyPI with that environment's own ``pip``, from
the pins in ``bench/requirements-anchor.txt``. Later runs reuse it when the
installed version matches the pin. A failed installation is reported, never
fatal: the benchmarks then measure civis_dyn alone.
"""

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Anchor", "ensure_anchor", "pinned_version"]

BENCH = Path(__file__).resolve().parent
VENV = BENCH / ".anchor-venv"
REQUIREMENTS = BENCH / "requirements-anchor.txt"
PACKAGE = "civis"
INSTALL_TIMEOUT = 600  # seconds


@dataclass
class Anchor:
    """The anchor's environment, or why it is missing.

    Attributes
    ----------
    python : str or None
        Its interpreter, when the anchor is usable.
    version : str or None
        The installed civis-python version.
    error : str or None
        Why the anchor could not be installed (then ``python`` is None).
    created : bool
        True when this run created or repaired the environment.
    """

    python: str | None
    version: str | None
    error: str | None = None
    created: bool = False

    @property
    def available(self):
        return self.python is not None


def pinned_version(requirements=REQUIREMENTS):
    """The ``civis==X`` version pinned in the requirements file."""
    text = Path(requirements).read_text(encoding="utf-8")
    match = re.search(rf"^\s*{PACKAGE}\s*==\s*([^\s#;]+)", text, re.MULTILINE)
    if match is None:
        raise ValueError(f"{requirements} does not pin {PACKAGE}==<version>")
    return match.group(1)


def _venv_python(venv):
    folder = "Scripts" if os.name == "nt" else "bin"
    name = "python.exe" if os.name == "nt" else "python"
    return venv / folder / name


def installed_version(python):
    """civis-python's version in the environment of ``python``, or None."""
    if not Path(python).exists():
        return None
    probe = subprocess.run([str(python), "-c", f"import {PACKAGE}; print({PACKAGE}.__version__)"],
                           capture_output=True, text=True, timeout=120, cwd=BENCH)
    return probe.stdout.strip() if probe.returncode == 0 else None


def _tail(text, lines=12):
    return "\n".join(text.strip().splitlines()[-lines:])


def ensure_anchor(venv=VENV, requirements=REQUIREMENTS, log=print):
    """Return the anchor's environment, creating or updating it when needed.

    Parameters
    ----------
    venv : Path
        Where the virtual environment lives.
    requirements : Path
        The pinned requirements.
    log : callable
        Progress messages.

    Returns
    -------
    Anchor
        With ``error`` set (and no ``python``) when it could not be installed.
    """
    venv = Path(venv)
    try:
        wanted = pinned_version(requirements)
    except (OSError, ValueError) as exc:
        return Anchor(None, None, f"cannot read the anchor's pin: {exc}")
    python = _venv_python(venv)
    have = installed_version(python)
    if have == wanted:
        return Anchor(str(python), have)
    if not python.exists():
        log(f"creating the anchor's virtual environment in {venv} ...")
        made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True,
                              text=True, timeout=INSTALL_TIMEOUT)
        if made.returncode != 0 or not python.exists():
            return Anchor(None, None, "could not create the virtual environment "
                          f"{venv}:\n{_tail(made.stdout + made.stderr)}")
    log(f"installing civis-python {wanted} into {venv} from PyPI ...")
    env = {k: v for k, v in os.environ.items() if k != "PIP_REQUIRE_VIRTUALENV"}
    try:
        installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                                    "-r", str(requirements)], capture_output=True, text=True,
                                   timeout=INSTALL_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return Anchor(None, None, f"pip install -r {requirements.name} did not finish in "
                      f"{INSTALL_TIMEOUT} s")
    if installed.returncode != 0:
        return Anchor(None, None, f"pip install -r {requirements.name} failed:\n"
                      f"{_tail(installed.stdout + installed.stderr)}")
    have = installed_version(python)
    if have != wanted:
        return Anchor(None, None, f"civis-python {wanted} was pinned but "
                      f"{have or 'nothing importable'} is installed in {venv}")
    return Anchor(str(python), have, created=True)
