"""The simulate charts for a drafter: the change by region with city names on a 万元/亿元 axis,
no offset, the distribution without empty panels; drawn in the language in force."""

from __future__ import annotations

from decimal import Decimal

import pytest
from repo import REFORMS

from engine.drafting.charts import by_region_figure, distribution_figure, pyplot, scale_for, write_charts
from engine.drafting.population import generate
from engine.drafting.simulate import simulate
from engine.i18n import use
from engine.rulebook.loader import load_rulebook
from engine.rulebook.reforms import load_reform


@pytest.fixture(scope="module")
def comparison():
    frame = generate(600, 7)
    base = load_rulebook()
    return simulate(frame, base, load_rulebook(None, [load_reform(REFORMS / "remote-region-tilt.yaml")]))


def test_the_axis_unit_keeps_the_ticks_short():
    with use("zh"):
        assert scale_for([Decimal("3200000.00")]) == ("万元", 10_000)
        assert scale_for([Decimal("-250000000")]) == ("亿元", 100_000_000)
        assert scale_for([Decimal("12.50")]) == ("元", 1)
    with use("en"):
        assert scale_for([Decimal("250000000")]) == ("100 million yuan", 100_000_000)


def test_the_change_by_region_names_cities_in_chinese_without_an_offset(comparison):
    plt = pyplot()
    with use("zh"):
        fig = by_region_figure(plt, comparison)
    ax = fig.axes[0]
    fig.canvas.draw()
    cities = [label.get_text() for label in ax.get_xticklabels()]
    assert "吕梁市" in cities and "太原市" in cities and not any(c.isascii() for c in cities)
    assert "万元" in ax.get_ylabel() and "改革方案 − 基准" in ax.get_ylabel()
    assert ax.yaxis.get_offset_text().get_text() == ""  # no "1e8" above the axis
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        "补贴",
        "环保税费",
        "净财政支出（补贴 − 税费）",
    ]
    # the bars are the changes: the tilt raises only the remote regions' subsidies
    heights = {p.get_x(): p.get_height() for p in ax.patches}
    assert any(h > 0 for h in heights.values()) and all(h >= 0 for h in heights.values())
    plt.close(fig)


def test_the_distribution_has_a_panel_only_for_what_changed(comparison):
    plt = pyplot()
    assert comparison.per_application["levy.change"].cast(float).abs().sum() == 0  # the tilt leaves the levy
    with use("en"):
        fig = distribution_figure(plt, comparison)
    assert len(fig.axes) == 1 and "subsidy" in fig.axes[0].get_title()
    plt.close(fig)


def test_the_pngs_are_written(comparison, tmp_path):
    with use("zh"):
        names = write_charts(comparison, tmp_path)
    for name in names:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
