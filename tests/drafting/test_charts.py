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
    # the levy no region's change moves is not an empty slot beside each city: a note names it
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["补贴", "净财政支出（补贴 − 税费）"]
    assert [text.get_text() for text in fig.texts if "未画出" in text.get_text()] == [
        "未画出（各地区均无变化）：环保税费"
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


@pytest.fixture(scope="module")
def levy_comparison():
    frame = generate(600, 7)
    reform = load_rulebook(None, [load_reform(REFORMS / "levy-per-order.yaml")])
    return simulate(frame, load_rulebook(), reform)


def test_a_levy_reform_draws_the_levy_and_the_net_cost_in_yi_with_even_ticks(levy_comparison):
    plt = pyplot()
    with use("zh"):
        fig = by_region_figure(plt, levy_comparison)
    ax = fig.axes[0]
    fig.canvas.draw()
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["环保税费", "净财政支出（补贴 − 税费）"]
    assert "亿元" in ax.get_ylabel() or "万元" in ax.get_ylabel()
    heights = [p.get_height() for p in ax.patches]
    assert any(h < 0 for h in heights) and any(h > 0 for h in heights)  # less levy, more net cost
    labels = [label.get_text() for label in ax.get_yticklabels() if label.get_text()]
    places = {len(x.partition(".")[2]) for x in labels}
    assert len(places) == 1, labels  # 7.5 beside 5.0, never beside 5
    assert "e" not in "".join(labels) and ax.yaxis.get_offset_text().get_text() == ""
    plt.close(fig)


def test_tick_places_follow_the_step():
    from engine.drafting.charts import tick_places

    assert [tick_places(s) for s in (5, 2.5, 0.5, 0.25, 200, 0.1)] == [0, 1, 1, 2, 0, 1]


def test_no_change_at_all_is_said_not_drawn():
    plt = pyplot()
    same = simulate(generate(50, 3), load_rulebook(), load_rulebook())
    with use("zh"):
        figs = [by_region_figure(plt, same), distribution_figure(plt, same)]
    for fig in figs:
        assert [t.get_text() for ax in fig.axes for t in ax.texts] == ["没有申请的补贴或税费发生变化"]
        plt.close(fig)


def test_a_change_far_smaller_than_another_gets_its_own_panel_and_scale():
    frame = generate(600, 7)
    reforms = [load_reform(REFORMS / f"{r}.yaml") for r in ("levy-per-order", "remote-region-tilt")]
    both = simulate(frame, load_rulebook(), load_rulebook(None, reforms))
    plt = pyplot()
    with use("zh"):
        fig = by_region_figure(plt, both)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["补贴的变化", "环保税费的变化", "净财政支出（补贴 − 税费）的变化"]
    units = [ax.get_ylabel() for ax in fig.axes]
    assert units[0] == "万元" and units[1] in ("万元", "亿元") and units[0] != units[1]
    assert max(p.get_height() for p in fig.axes[0].patches) >= 1  # the tilt is seen, not a hairline
    plt.close(fig)
