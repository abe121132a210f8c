"""Reading a map's SVG back in tests: its frame, markers, labels and outlines."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

NS = "{http://www.w3.org/2000/svg}"


@dataclass
class Drawn:
    root: ET.Element
    frame: tuple[float, float, float, float]  # x, y, width, height
    markers: list[ET.Element]
    labels: list[str]
    outlines: list[str]  # path data
    texts: list[str]
    cells: list[ET.Element]


def group(root: ET.Element, cls: str) -> list[ET.Element]:
    return [el for g in root.iter(f"{NS}g") if g.get("class") == cls for el in g]


def read(svg: str) -> Drawn:
    root = ET.fromstring(svg)
    rect = next(r for r in root.iter(f"{NS}rect") if r.get("class") == "frame")
    frame = tuple(float(rect.get(k, "0")) for k in ("x", "y", "width", "height"))
    labels = [t.text or "" for t in root.iter(f"{NS}text") if t.get("class") == "label"]
    outlines = [p.get("d", "") for p in root.iter(f"{NS}path") if p.get("class") == "outline"]
    texts = ["".join(t.itertext()) for t in root.iter(f"{NS}text")]
    cells = [r for r in root.iter(f"{NS}rect") if r.get("class") == "cell"]
    return Drawn(root, frame, group(root, "markers"), labels, outlines, texts,  # type: ignore[arg-type]
                 cells)


def marker_points(el: ET.Element) -> list[tuple[float, float]]:
    """Every corner of a drawn marker (circle: its bounding box)."""
    tag = el.tag.removeprefix(NS)
    if tag == "circle":
        x, y, r = (float(el.get(k, "0")) for k in ("cx", "cy", "r"))
        return [(x - r, y - r), (x + r, y + r)]
    if tag == "rect":
        x, y, w, h = (float(el.get(k, "0")) for k in ("x", "y", "width", "height"))
        return [(x, y), (x + w, y + h)]
    nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", el.get("points", ""))]
    return list(zip(nums[::2], nums[1::2], strict=True))


def inside(frame: tuple[float, float, float, float], x: float, y: float) -> bool:
    fx, fy, fw, fh = frame
    return fx <= x <= fx + fw and fy <= y <= fy + fh


def subpaths(d: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?=M)", d) if s.strip()]
