"""Lazy package faces (PEP 562): a package names what it offers without importing it all.

A heavy package (the daemon, the web app, the notices' renderers) lists its face as
name → submodule; the submodule is imported the first time a name is used, so a
command that needs one light part (``netwatch check``) does not load the web stack.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_face(package: str, exports: Mapping[str, str]) -> Callable[[str], object]:
    """The ``__getattr__`` of ``package``: ``exports`` maps each name to its submodule."""

    def __getattr__(name: str) -> object:
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # later look-ups skip this function
        return value

    return __getattr__
