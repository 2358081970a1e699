"""Charts drawn on the server (matplotlib, SVG), embedded in the page: nothing is fetched at run time."""
from __future__ import annotations

import base64
import io
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")  # no display on a server
from matplotlib import pyplot  # noqa: E402  (the backend must be chosen first)

Figure = int | str


# More bars than this make a chart nobody can read (and take seconds to draw): the largest are drawn, and the page's
# table beside the chart holds every figure.
MAX_BARS = 15


def drawn_bars(values: Mapping[str, Figure]) -> dict[str, Figure]:
    """The bars worth drawing, in the given order: none for a category with no concerns, and only the MAX_BARS
    largest when there are more (a "withheld" figure counts as small, never as none)."""
    shown = {label: value for label, value in values.items() if value != 0}
    if len(shown) <= MAX_BARS:
        return shown
    largest = set(sorted(shown, key=lambda label: shown[label] if isinstance(shown[label], int) else 0,
                         reverse=True)[:MAX_BARS])
    return {label: value for label, value in shown.items() if label in largest}


def bar_chart(values: Mapping[str, Figure]) -> str:
    """A horizontal bar chart as a data: URI of SVG; withheld figures are drawn as 0 with a note."""
    bars = drawn_bars(values)
    labels = list(bars)
    numbers = [value if isinstance(value, int) else 0 for value in bars.values()]
    left_out = len([value for value in values.values() if value != 0]) - len(bars)
    figure, axes = pyplot.subplots(figsize=(7, 0.4 * max(len(labels), 2) + 0.8))
    try:
        axes.barh(labels, numbers, color="#337ab7")
        axes.invert_yaxis()
        axes.set_xlabel("concerns" + (" (bars of withheld figures drawn as 0)" if 0 in numbers and labels else "")
                        + (f"; the {len(bars)} largest shown, {left_out} more in the table" if left_out else ""))
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
