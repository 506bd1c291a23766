"""The brief laid out while its charts are still being drawn.

WeasyPrint reads each image as it builds the boxes, before the layout, but a chart's
box needs only the chart's size: its width is the text's, its height follows the
SVG's aspect. So, given charts drawn by another process (`render.ChartSource`), the
brief's URL fetcher answers an ``lgs-chart:`` URL at once with the chart's frame, an
empty SVG of the size the chart will be (`charts.chart_size`, known before it is
drawn), and the document is laid out while the charts are drawn. Before the PDF is
written, `Frames.draw_in` waits for each chart and puts it in its frame: the image
WeasyPrint made of the frame is made again from the chart's SVG (the same object,
URL and layout context), so the boxes laid out for the frame show the chart.

The frame's root has the chart's ``width``, ``height`` and ``viewBox`` written as
matplotlib writes them, so the layout is the one the chart itself would have had and
the PDF is byte-identical (the typesetter's tests compare it with one made in a single
process); a chart drawn at another size than its frame is an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lgs_reports.render import ChartSource


class ChartSizeError(RuntimeError):
    """A chart was drawn at another size than its frame's (a bug in `charts`)."""


class Frames:
    """The charts one layout framed: the URL fetcher's frames (`frame`) and the image
    cache WeasyPrint fills as it reads them (``HTML.render(cache=frames.images)``)."""

    def __init__(self, charts: ChartSource) -> None:
        self.charts = charts
        self.images: dict[str, Any] = {}  # URL -> the image WeasyPrint made of it
        self._framed: dict[str, str] = {}  # URL -> chart name, in the order framed

    def frame(self, url: str, name: str) -> bytes:
        """The SVG that stands for chart ``name`` (at ``url``) until it is drawn."""
        self._framed[url] = name
        return frame_svg(*self.charts.size(name)).encode()

    def draw_in(self) -> None:
        """Wait for each framed chart, in the order framed, and put it in its frame."""
        from xml.etree import ElementTree  # as WeasyPrint parses an SVG image

        from weasyprint.images import SVGImage

        for url, name in self._framed.items():
            image = self.images.get(url)
            if not isinstance(image, SVGImage):
                continue  # WeasyPrint could not read the frame, and said so
            tree = ElementTree.fromstring(self.charts.svg(name).encode())
            drawn = tuple(tree.get(attribute) for attribute in ("width", "height", "viewBox"))
            framed = _frame_size(*self.charts.size(name))
            if drawn != framed:
                raise ChartSizeError(f"chart {name} was drawn at {drawn}, its frame is {framed}")
            image.__init__(tree, url, image._url_fetcher, image._context)


def frame_svg(width_in: float, height_in: float) -> str:
    """An empty SVG of a chart's size, its root's size written as matplotlib writes a
    figure's (points, ``%f`` without trailing zeros)."""
    width, height, viewbox = _frame_size(width_in, height_in)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="{viewbox}"/>'
    )


def _frame_size(width_in: float, height_in: float) -> tuple[str, str, str]:
    """The root's ``width``, ``height`` and ``viewBox`` of a chart of this size."""
    width, height = (f"{inches * 72:f}".rstrip("0").rstrip(".") for inches in (width_in, height_in))
    return f"{width}pt", f"{height}pt", f"0 0 {width} {height}"
