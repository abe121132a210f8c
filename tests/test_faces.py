"""Packages are used through their faces: an import from outside a package names only what its
``__init__`` offers (``__all__``), and every face says what its modules are."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p.parent for p in (ROOT / "netwatch").glob("*/__init__.py"))

# Reaching into a package's modules from outside, each with its reason.
EXCEPTIONS: dict[tuple[str, str], str] = {
    # the lab's SNMP agent speaks the protocol from the agent's side with the same codec
    ("netwatch.lab.snmp_agent", "probes.snmp.codec"): "the agent encodes what the probe decodes",
    ("netwatch.lab.snmp_agent", "probes.snmp.usm"): "the agent keys and checks v3 messages",
}
PROBE_SUBPACKAGES = ("probes.icmp", "probes.snmp")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "netwatch" and len(parts) >= 2:
        return ".".join(parts[:2])
    for sub in PROBE_SUBPACKAGES:
        if module == sub or module.startswith(sub + "."):
            return sub
    return None


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name, []) for a in node.names)
    return found


def test_imports_from_outside_a_package_go_through_its_face() -> None:
    """``from netwatch.store.faultlog import X`` outside the store fails; ``from netwatch.store
    import X`` with X in the store's ``__all__`` passes."""
    problems = []
    for path in sorted([*(ROOT / "netwatch").rglob("*.py"), *(ROOT / "probes").rglob("*.py")]):
        here = _module_name(path)
        mine = _package_of(here)
        for line, module, names in _imports(path):
            target = _package_of(module)
            if target is None or target == mine:
                continue
            where = f"{path.relative_to(ROOT)}:{line}"
            if module != target:
                if (here, module) not in EXCEPTIONS:
                    problems.append(f"{where}: imports {module}, past the face of {target}")
                continue
            face = importlib.import_module(target)
            missing = [n for n in names if n not in getattr(face, "__all__", ())
                       and (here, f"{module}.{n}") not in EXCEPTIONS]
            if missing:
                problems.append(f"{where}: {', '.join(missing)} not in {target}.__all__")
    assert problems == []


def test_every_face_maps_its_modules_and_lists_its_names() -> None:
    """Each package's docstring names each of its modules, and its ``__all__`` names exist."""
    problems = []
    for package in PACKAGES:
        name = _module_name(package / "__init__.py")
        face = importlib.import_module(name)
        doc = face.__doc__ or ""
        for module in sorted(package.glob("*.py")):
            stem = module.stem
            if stem in ("__init__", "__main__") or f"``{stem}``" in doc:
                continue
            problems.append(f"{name}: the docstring does not say what ``{stem}`` is")
        for sub in sorted(p.parent.name for p in package.glob("*/__init__.py")):
            if f"``{sub}``" not in doc:
                problems.append(f"{name}: the docstring does not say what ``{sub}`` is")
        exported = getattr(face, "__all__", None)
        if exported is None:
            problems.append(f"{name}: no __all__")
            continue
        problems.extend(f"{name}: __all__ names {n}, which it lacks" for n in exported
                        if not hasattr(face, n))
    assert problems == []
