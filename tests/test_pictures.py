"""Every picture the demo writes and every picture saved in a notebook fits a slide or a cell.

A picture fits when its width/height lies between 1/2 and 3 (a 16:9 slide is 1.78, a notebook
cell about 800 px wide). SVGs must parse as XML and keep their text at least 8.5 pt when shown at a
cell's width; PNGs and GIFs must open. The notebooks are walked as they are, whichever exist.
"""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
from PIL import Image

from nn import demo

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
WIDEST, TALLEST = 3.0, 0.5
CELL_WIDTH = 600  # points: a notebook cell of about 800 px
SMALLEST_TEXT = 8.5  # points, at the size the picture is shown ("about 9 pt")


def svg_size(text: str) -> tuple[float, float, float]:
    """(width, height, smallest font size) of an SVG, in points, checking that it parses."""
    root = ET.fromstring(text)
    width, height = (float(root.get(side).removesuffix("pt")) for side in ("width", "height"))
    sizes = [float(size) for size in re.findall(r'font-size="([\d.]+)"', text)]
    return width, height, min(sizes, default=SMALLEST_TEXT)


def check_svg(text: str, where: str) -> float:
    width, height, font = svg_size(text)
    assert TALLEST <= width / height <= WIDEST, f"{where}: {width:.0f} x {height:.0f} pt"
    shown = font * min(1.0, CELL_WIDTH / width)
    assert shown >= SMALLEST_TEXT, f"{where}: {font} pt text shown at {shown:.1f} pt"
    return width / height


def check_bitmap(data: bytes, where: str) -> float:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        width, height = image.size
    assert TALLEST <= width / height <= WIDEST, f"{where}: {width} x {height} px"
    return width / height


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("pictures")
    demo.main(["--epochs", "2", "--out", str(out), "--quiet"])
    return out


def test_every_picture_of_the_demo_fits(demo_out):
    checked = []
    for path in sorted(demo_out.iterdir()):
        if path.suffix == ".svg":
            checked.append(check_svg(path.read_text(encoding="utf-8"), path.name))
        elif path.suffix in (".png", ".gif"):
            checked.append(check_bitmap(path.read_bytes(), path.name))
    assert len(checked) == 7


def notebook_pictures():
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for number, cell in enumerate(notebook.cells):
            for k, output in enumerate(cell.get("outputs", [])):
                for kind, data in output.get("data", {}).items():
                    if kind in ("image/svg+xml", "image/png", "image/gif"):
                        where = f"{path.stem} cell {number} output {k} ({kind})"
                        yield pytest.param(where, kind, data, id=where)


@pytest.mark.parametrize(("where", "kind", "data"), list(notebook_pictures()))
def test_every_picture_saved_in_a_notebook_fits(where, kind, data):
    if kind == "image/svg+xml":
        check_svg(data if isinstance(data, str) else "".join(data), where)
    else:
        check_bitmap(base64.b64decode(data), where)


def test_the_checks_catch_a_strip_and_tiny_text():
    strip = '<svg xmlns="http://www.w3.org/2000/svg" width="1611pt" height="190pt"></svg>'
    with pytest.raises(AssertionError, match="1611 x 190"):
        check_svg(strip, "strip")
    wide = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1200pt" height="600pt">'
        '<text font-size="10.00">x</text></svg>'
    )
    with pytest.raises(AssertionError, match=r"shown at 5\.0 pt"):
        check_svg(wide, "wide")
    with pytest.raises(ET.ParseError):
        check_svg("<svg", "broken")
