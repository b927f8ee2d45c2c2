"""Lazy exports: a package's names that are imported only when first used."""

import importlib

__all__ = ["lazy_exports"]


def lazy_exports(package, table, namespace, submodules=()):
    """Return ``__getattr__`` and ``__dir__`` for a package with lazily imported names.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    table : dict
        ``{name: ".module"}``: where each lazy name lives, relative to ``package``.
    namespace : dict
        The package's ``globals()``; a name is stored there once imported.
    submodules : iterable of str, optional
        Submodules that are attributes of the package without an import
        statement (``civis_dyn.utils``), imported on first access.
    """
    submodules = frozenset(submodules)

    def __getattr__(name):
        if name in submodules:
            try:
                return importlib.import_module(f".{name}", package)
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(table) | submodules)

    return __getattr__, __dir__
