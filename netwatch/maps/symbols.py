"""What each marker looks like: a shape that carries the meaning, a colour that helps.

Printed in black and white a map must still read, so every kind of thing has its own
shape (and the tables' numbers beside it); the colours are Okabe and Ito's palette,
told apart by the common colour blindnesses. The choropleth of online rates uses
ColorBrewer's YlOrRd classes (sequential, colour-blind safe) and prints each rate
as a number too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from netwatch.vocab import BlindCause

# Okabe & Ito (2008), "Color Universal Design"
ORANGE, SKY_BLUE, GREEN, YELLOW = "#E69F00", "#56B4E9", "#009E73", "#F0E442"
BLUE, VERMILLION, PURPLE, BLACK = "#0072B2", "#D55E00", "#CC79A7", "#000000"
GREY = "#777777"
SHAPES = ("circle", "square", "triangle", "triangle_down", "diamond", "pentagon", "hexagon")


@dataclass(frozen=True, slots=True)
class Style:
    shape: str  # SHAPES
    colour: str


# One style per kind of thing, the same on every map (docs/maps section of the README).
STYLES: dict[str, Style] = {
    "device_down": Style("triangle", VERMILLION),  # an outage: unreachable, service or uplink
    "device_fault": Style("triangle_down", YELLOW),  # any other device problem
    "site": Style("square", GREEN),  # a trunking site (the plan's nearest sites)
    BlindCause.COVERAGE_HOLE: Style("circle", BLUE),  # blind spots, by cause
    BlindCause.SITE_DOWN: Style("diamond", ORANGE),
    BlindCause.UPLINK_DOWN: Style("pentagon", PURPLE),
    BlindCause.UPLINK_SLOW: Style("hexagon", SKY_BLUE),
    "point": Style("circle", GREY),  # a coverage point or device without a problem
}

# Online rate classes of the choropleth, best first: (lowest rate of the class, colour)
RATE_CLASSES: tuple[tuple[float, str], ...] = (
    (0.98, "#FFFFB2"), (0.95, "#FECC5C"), (0.90, "#FD8D3C"), (0.0, "#E31A1C"))
NO_RATE = "#FFFFFF"


def rate_colour(rate: float | None) -> str:
    """The choropleth colour of an online rate (0..1), white when there is none."""
    if rate is None:
        return NO_RATE
    return next(colour for low, colour in RATE_CLASSES if rate >= low)


def shape_svg(shape: str, x: float, y: float, r: float, fill: str, stroke: str = BLACK,
              width: float = 0.8) -> str:
    """One marker as an SVG element centred on (x, y), about ``2r`` across."""
    paint = f'fill="{fill}" stroke="{stroke}" stroke-width="{width:g}"'
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {paint}/>'
    if shape == "square":
        s = r * 0.9
        return (f'<rect x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" '
                f'height="{2 * s:.1f}" {paint}/>')
    corners = {
        "triangle": (3, -90.0, 1.25), "triangle_down": (3, 90.0, 1.25),
        "diamond": (4, -90.0, 1.2), "pentagon": (5, -90.0, 1.1), "hexagon": (6, 0.0, 1.05),
    }[shape]
    n, start, grow = corners
    points = " ".join(
        f"{x + r * grow * math.cos(math.radians(start + 360 * i / n)):.1f},"
        f"{y + r * grow * math.sin(math.radians(start + 360 * i / n)):.1f}" for i in range(n))
    return f'<polygon points="{points}" {paint}/>'
