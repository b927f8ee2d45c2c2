"""The schema bundled with civis_dyn, built by ``tools/build_schema.py``.

This folder is installed as the package ``civis_dyn.schemas`` so that the
bundle can be found with :mod:`importlib.resources` in every kind of install.
"""
