"""A map as PNG, for Word documents (python-docx embeds pictures, not SVG): cairosvg.

cairosvg draws the same SVG that the HTML and WeasyPrint's PDF embed, with cairo and
the system's fonts (fonts-noto-cjk for the Chinese labels). The bytes are the same
for the same SVG, so a notice's DOCX stays repeatable.
"""

from __future__ import annotations

PNG_WIDTH = 1800  # pixels: a landscape A4 page's map at about 180 dpi


def svg_to_png(svg: str, width: int = PNG_WIDTH) -> bytes:
    """The PNG of an SVG document, ``width`` pixels wide (the height keeps the ratio)."""
    import cairosvg  # imported on first use: it loads cairo

    data: bytes = cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=width)
    return data
