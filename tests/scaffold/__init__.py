"""Scaffolding shared by the tests (importable: ``pythonpath = tests`` in setup.cfg).

* :mod:`scaffold.schemas` — one builder for hand-written Swagger 2.0 schemas,
  and the standard mini schema most tests run on;
* :mod:`scaffold.clock` — the one fake clock.

The one HTTP fake is the shipped :class:`civis_dyn.testing.LocalCivisAPI`, with
:class:`civis_dyn.testing.Faults` for misbehaviour; unit tests use ``requests-mock``.
"""
