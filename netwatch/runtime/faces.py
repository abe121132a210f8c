"""Lazy package faces (PEP 562): a package names what it offers without importing it all.

A heavy package (the daemon, the web app, the notices' renderers) lists its face as
submodule → names; a submodule is imported the first time one of its names is used,
so a command that needs one light part (``netwatch check``) does not load the web stack.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping


def lazy_face(package: str, modules: Mapping[str, Iterable[str]]) -> Callable[[str], object]:
    """The ``__getattr__`` of ``package``: ``modules`` maps each submodule to the names it gives
    (the submodule's own name among them puts the module itself on the face)."""
    home = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> object:
        try:
            module = home[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        found = importlib.import_module(f"{package}.{module}")
        value = found if name == module else getattr(found, name)  # a module may be on the face
        setattr(sys.modules[package], name, value)  # later look-ups skip this function
        return value

    return __getattr__

