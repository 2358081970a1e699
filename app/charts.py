"""Charts drawn on the server (matplotlib, SVG), embedded in the page: nothing is fetched at run time."""
from __future__ import annotations

import base64
import io
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")  # no display on a server
from matplotlib import pyplot  # noqa: E402  (the backend must be chosen first)

Figure = int | str


def bar_chart(values: Mapping[str, Figure]) -> str:
    """A horizontal bar chart as a data: URI of SVG; suppressed figures ("fewer than 5") are drawn as 0 with a note."""
    labels = list(values)
    numbers = [value if isinstance(value, int) else 0 for value in values.values()]
    figure, axes = pyplot.subplots(figsize=(7, 0.4 * max(len(labels), 2) + 0.8))
    try:
        axes.barh(labels, numbers, color="#337ab7")
        axes.invert_yaxis()
        axes.set_xlabel("concerns" + (" (bars of 'fewer than 5' drawn as 0)" if 0 in numbers and labels else ""))
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.set_xlim(0, max(numbers + [1]))
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    finally:
        pyplot.close(figure)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()
