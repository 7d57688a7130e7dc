"""The dashboard's SVG charts: well-formed SVG whose geometry matches the data."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments.dashboard.svg_charts import (
    Series,
    Target,
    bar_chart,
    line_chart,
    nice_ticks,
    plain_number,
    tick_labels,
)
from experiments.formatting import persian_digits

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _points(polyline: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in polyline.get("points").split()]


def test_nice_ticks_examples():
    assert nice_ticks(0, 31.5) == [0, 10, 20, 30, 40]
    assert nice_ticks(0.52, 0.56) == pytest.approx([0.52, 0.53, 0.54, 0.55, 0.56])
    assert nice_ticks(0, 48, 6) == [0, 10, 20, 30, 40, 50]
    assert nice_ticks(5, 5)[0] < 5 < nice_ticks(5, 5)[-1]  # a flat series still gets a range
    assert nice_ticks(0, 0)[0] < 0 < nice_ticks(0, 0)[-1]
    with pytest.raises(ValueError, match="finite"):
        nice_ticks(0, math.inf)


@given(st.floats(-1e9, 1e9), st.floats(1e-6, 1e9))
def test_nice_ticks_span_the_range_in_round_equal_steps(low, relative_width):
    high = low + relative_width * max(1.0, abs(low))  # ranges wider than float noise
    ticks = nice_ticks(low, high)
    steps = [b - a for a, b in itertools.pairwise(ticks)]
    assert ticks[0] <= low + 1e-6 * steps[0] and ticks[-1] >= high - 1e-6 * steps[0]  # float noise aside
    assert 3 <= len(ticks) <= 12
    assert max(steps) - min(steps) <= 1e-6 * steps[0]
    mantissa = steps[0] / 10 ** math.floor(math.log10(steps[0]))
    assert min(abs(mantissa - m) for m in (1, 2, 5, 10)) < 1e-6


def test_plain_number():
    assert plain_number(31500) == "31,500"
    assert plain_number(0.55) == "0.55"
    assert plain_number(2.5) == "2.5"
    assert plain_number(20.0) == "20"
    assert plain_number(0) == "0"


def test_tick_labels_have_the_decimals_of_their_step():
    assert tick_labels(nice_ticks(50.0, 50.2)) == ["50.00", "50.05", "50.10", "50.15", "50.20"]
    assert tick_labels(nice_ticks(0, 31.5)) == ["0", "10", "20", "30", "40"]
    assert tick_labels(nice_ticks(0, 40000)) == ["0", "10,000", "20,000", "30,000", "40,000"]
    assert tick_labels(nice_ticks(-0.3, 0.3)) == ["-0.4", "-0.2", "0.0", "0.2", "0.4"]


def test_line_chart_geometry():
    x = list(range(5))
    run = Series("this run", [1.0, 2.0, float("nan"), 4.0, 5.0])
    base = Series("baseline", [1.0, 1.5, 2.0, 2.5, 3.0], colour="grey", dashed=True)
    svg = line_chart(
        "Units & <more>",
        x,
        [run, base],
        targets=[Target(8.0, "target 8")],
        marker_x=10,
        x_label="month",
        y_label="thousand units",
    )
    root = _parse(svg)
    assert root.find(f"{SVG}title").text == "Units & <more>"
    lines = root.findall(f".//{SVG}polyline")
    assert len(lines) == 3  # the run is broken at its NaN
    assert [len(_points(p)) for p in lines] == [2, 2, 5]
    target = root.find(f".//{SVG}line[@class='target']")
    target_y = float(target.get("y1"))
    assert all(y > target_y for p in lines for _, y in _points(p))  # 8 lies above every value
    marker = root.find(f".//{SVG}line[@class='marker']")
    assert float(marker.get("x1")) > max(x for p in lines for x, _ in _points(p))  # month 10 after month 4
    # larger values are higher on the page; equal x share a pixel column
    (x0, y0), (x1, y1) = _points(lines[0])
    assert x1 > x0 and y1 < y0
    assert _points(lines[0])[0] == pytest.approx(_points(lines[2])[0])
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"this run", "baseline", "target 8", "month", "thousand units"} <= set(texts)


def test_line_chart_persian_text_and_digits():
    svg = persian_digits(line_chart("واحدهای فعال‌شده", [0, 1, 2], [Series("این اجرا", [1, 2, 3])]))
    root = _parse(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    # Persian runs are isolated right to left, so "%" or a number keeps its place at the end
    assert "\u2067واحدهای فعال‌شده\u2069" in texts and "\u2067این اجرا\u2069" in texts
    assert "۲٫۰" in texts and not any(c.isascii() and c.isdigit() for t in texts for c in t)


def test_integer_x_gets_integer_ticks():
    root = _parse(line_chart("t", [0, 1, 2], [Series("run", [1.0, 2.0, 3.0])]))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts[-4:] == ["0", "1", "2", "run"]  # months 0, 1, 2 (not 0.0, 0.5, ...), then the legend


def test_line_chart_without_data_is_still_a_chart():
    root = _parse(line_chart("empty", [], [Series("run", [])]))
    assert root.findall(f".//{SVG}polyline") == []


@pytest.mark.parametrize("horizontal", [False, True])
def test_bar_chart_geometry(horizontal):
    run = Series("this run", [4.0, 2.0, 0.0])
    base = Series("baseline", [1.0, 2.0, 3.0], colour="grey")
    root = _parse(
        bar_chart("Exports", ["EU", "Iraq", "China"], [run, base], horizontal=horizontal, value_label="USD bn a year")
    )
    bars = root.findall(f".//{SVG}rect[@class='bar']")
    assert len(bars) == 6
    size = [float(b.get("width" if horizontal else "height")) for b in bars]
    # bars in category order, series within a category: run EU, baseline EU, run Iraq, ...
    assert size[0] == pytest.approx(4 * size[1]) and size[2] == pytest.approx(size[3])
    assert size[4] == 0 and size[5] == pytest.approx(3 * size[1])
    assert {"EU", "Iraq", "China", "USD bn a year", "this run", "baseline"} <= {t.text for t in root.iter(f"{SVG}text")}


def test_long_category_names_are_shortened_under_vertical_bars():
    root = _parse(bar_chart("Provinces", ["Sistan and Baluchestan", "Fars"], [Series("units", [2.0, 1.0])]))
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert "Fars" in texts and "Sistan and Balu…" in texts


def test_bar_chart_refuses_negative_or_missing_values():
    with pytest.raises(ValueError, match="finite and >= 0"):
        bar_chart("x", ["a"], [Series("s", [-1.0])])
    with pytest.raises(ValueError, match="finite and >= 0"):
        bar_chart("x", ["a"], [Series("s", [float("nan")])])


def test_charts_fill_their_container():
    root = _parse(line_chart("t", [0, 1], [Series("a", [1, 2])], width=460, height=230))
    assert root.get("width") == "100%" and root.get("viewBox") == "0 0 460 230" and root.get("height") is None


def _y_ticks(root: ET.Element) -> list[float]:
    """The y tick labels (text anchored at the end, left of the plot)."""
    texts = [t for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end" and t.get("class") is None]
    return [float(t.text.replace(",", "")) for t in texts if t.text and t.get("font-size") == "10"]


def test_a_far_target_is_named_off_scale_and_the_axis_fits_the_data():
    exports = Series("this run", [1.03, 1.05, 1.08])
    root = _parse(line_chart("exports", [0, 1, 2], [exports], targets=[Target(17, "target 17")]))
    assert not any(line.get("class") == "target" for line in root.iter(f"{SVG}line"))  # no line squashing the data
    notes = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "target-off-scale"]
    assert notes == ["↑ target 17"]
    assert max(_y_ticks(root)) < 2  # the differences between 1.03 and 1.08 are visible
    near = _parse(line_chart("share", [0, 1], [Series("a", [0.51, 0.515])], targets=[Target(0.5, "target 0.5")]))
    assert sum(line.get("class") == "target" for line in near.iter(f"{SVG}line")) == 1  # near: drawn as a line


def test_counts_start_at_zero():
    root = _parse(line_chart("consortia", [0, 1, 2], [Series("a", [100, 104, 110])], from_zero=True))
    assert min(_y_ticks(root)) == 0
    assert min(_y_ticks(_parse(line_chart("c", [0, 1, 2], [Series("a", [100, 104, 110])])))) >= 90
    still = _y_ticks(_parse(line_chart("activated", [0], [Series("a", [0.0])], from_zero=True)))
    assert min(still) == 0 < max(still)  # nothing yet: no negative counts on the axis


def test_long_names_beside_horizontal_bars_are_not_cut():
    name = "Kohgiluyeh and Boyer-Ahmad"
    root = _parse(bar_chart("p", [name, "Ilam"], [Series("a", [5, 3])], horizontal=True, width=460))
    label = next(t for t in root.iter(f"{SVG}text") if t.text == name)
    bar = next(r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar")
    assert float(bar.get("x")) - 5 >= 6 * len(name)  # room for the whole name left of the bars
    assert float(label.get("x")) == float(bar.get("x")) - 5
