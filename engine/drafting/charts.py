"""The charts of ``shuangtan simulate``, for a drafter, in the language in force.

What a drafter asks is what the reform changes: so the regions show reform − baseline (subsidy,
levy, net cost) side by side, named by city, on an axis in 万元 or 亿元 (whichever keeps the
ticks short; never matplotlib's ``1e8`` offset); the distribution shows only the amounts that
changed, one panel per amount that did (no empty panel). Chinese is set in the packaged Noto Sans
SC (engine/notices/fonts.py), so a machine without a Chinese system font still draws it.

Floats here are pixel positions only; every figure a person reads as money is in the exact tables.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from engine.i18n import region, t

#: (the axis unit's key, yuan per unit): the largest that keeps the biggest bar at ≥ 1 unit
SCALES = (("charts.axis_yi", 100_000_000), ("charts.axis_wan", 10_000), ("charts.axis_yuan", 1))
COLOURS = {"subsidy": "#d9822b", "levy": "#4a7c59", "net_cost": "#3b6ea5"}
BY_REGION, DISTRIBUTION = "cost_by_region.png", "amount_changes.png"
#: a series whose largest change is this many times smaller than another's gets its own panel
HIDDEN_BELOW = 20
#: more changed applications than this: the distribution's count axis is logarithmic
LOG_FROM = 200


def scale_for(values) -> tuple[str, int]:
    """The axis unit (its name in the language in force) and its size in yuan for ``values``."""
    biggest = max((abs(Decimal(v)) for v in values), default=Decimal(0))
    for key, size in SCALES:
        if biggest >= size:
            return t(key), size
    return t("charts.axis_yuan"), 1


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from engine.notices.fonts import matplotlib_fallbacks

    plt.rcParams["font.sans-serif"] = ["DejaVu Sans"]
    # A family after the generic one is matplotlib's per-glyph fallback: the packaged Noto Sans SC
    # (the [pdf] extra) draws what DejaVu Sans lacks, so a Chinese label is never empty boxes.
    plt.rcParams["font.family"] = ["sans-serif", *matplotlib_fallbacks()]
    plt.rcParams["axes.formatter.useoffset"] = False
    plt.rcParams["axes.unicode_minus"] = False  # the packaged font has no U+2212 glyph
    return plt


def _grouped_ticks(ax, axis: str = "y") -> None:
    """Tick labels grouped in thousands, every label of an axis with the same places: as many
    as the step between ticks needs (2.5 → 7.5, 5.0, 2.5; never 7.5 beside 5)."""
    from matplotlib.ticker import FuncFormatter

    which = ax.yaxis if axis == "y" else ax.xaxis

    def label(v, _pos):
        ticks = sorted(which.get_majorticklocs())
        steps = [b - a for a, b in zip(ticks, ticks[1:]) if b > a]
        return f"{v:,.{tick_places(min(steps) if steps else 1)}f}"

    which.set_major_formatter(FuncFormatter(label))


def tick_places(step: float) -> int:
    """Decimal places that show a tick step exactly enough: 1 for 2.5 or 0.5, 2 for 0.25, 0 for 5."""
    for places in range(4):
        if abs(step * 10**places - round(step * 10**places)) < 1e-6 * max(1.0, step * 10**places):
            return places
    return 4


def write_charts(c, out_dir) -> list[str]:
    """The two PNGs of a comparison in ``out_dir``; their file names."""
    plt = _plt()
    out_dir = Path(out_dir)
    for figure, name in ((by_region_figure, BY_REGION), (distribution_figure, DISTRIBUTION)):
        fig = figure(plt, c)
        fig.savefig(out_dir / name, dpi=110)
        plt.close(fig)
    return [BY_REGION, DISTRIBUTION]


def pyplot():
    """matplotlib's pyplot, set up for the charts (a test draws the figures without files)."""
    return _plt()


def by_region_figure(plt, c):
    reg = c.by_region
    names = [region(code) if code != "(unknown)" else t("charts.unknown_region") for code in reg["region_code"]]
    every = ("subsidy", "levy", "net_cost")
    changes = {col: [Decimal(v) for v in reg[f"{col}.change"]] for col in every}
    # a series no region's change moves is left out (an empty slot beside each city reads as
    # missing data) and named in a note instead
    cols = [col for col in every if any(changes[col])]
    if not cols:
        return _note_figure(plt, t("charts.no_change"))
    unchanged = [t(f"charts.{col}") for col in every if col not in cols]
    biggest = [max(abs(v) for v in changes[col]) for col in cols]
    if min(biggest) * HIDDEN_BELOW < max(biggest):
        return _by_region_panels(plt, c, names, cols, changes, unchanged)
    unit_name, size = scale_for([v for col in cols for v in changes[col]])
    fig, ax = plt.subplots(figsize=(max(8, 0.9 * len(names) + 3), 5))
    width = 0.8 / len(cols)
    for i, col in enumerate(cols):
        xs = [k + (i - (len(cols) - 1) / 2) * width for k in range(len(names))]
        ax.bar(xs, [float(v / size) for v in changes[col]], width=width, label=t(f"charts.{col}"), color=COLOURS[col])
    _unchanged_note(fig, unchanged)
    ax.set_xticks(list(range(len(names))), names, rotation=30, ha="right")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel(t("charts.change_axis", unit=unit_name))
    _grouped_ticks(ax)
    ax.set_title(t("charts.by_region_title"))
    ax.legend()
    fig.suptitle(t("charts.versions", reform=c.reform_book.version, base=c.base_book.version), fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 1) if unchanged else None)  # room for the note below the cities
    return fig


def _by_region_panels(plt, c, names, cols, changes, unchanged):
    """One panel per series, each on its own 万元/亿元 axis: a change a hundred times smaller than
    another (a subsidy tilt beside a levy reform) would be a hairline on a shared axis."""
    fig, axes = plt.subplots(
        len(cols), 1, sharex=True, figsize=(max(8, 0.9 * len(names) + 3), 2.6 * len(cols) + 1.6), squeeze=False
    )
    for ax, col in zip(axes[:, 0], cols, strict=True):
        unit_name, size = scale_for(changes[col])
        ax.bar(range(len(names)), [float(v / size) for v in changes[col]], width=0.6, color=COLOURS[col])
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_ylabel(t("charts.panel_axis", unit=unit_name))
        ax.set_title(t("charts.panel_title", what=t(f"charts.{col}")), fontsize=10)
        _grouped_ticks(ax)
    axes[-1, 0].set_xticks(list(range(len(names))), names, rotation=30, ha="right")
    versions = t("charts.versions", reform=c.reform_book.version, base=c.base_book.version)
    fig.suptitle(t("charts.by_region_title") + "\n" + versions, fontsize=10)
    _unchanged_note(fig, unchanged)
    fig.tight_layout(rect=(0, 0.04, 1, 1) if unchanged else None)
    return fig


def _unchanged_note(fig, unchanged: list[str]) -> None:
    if unchanged:
        fig.text(0.01, 0.01, t("charts.unchanged", what=t("charts.sep").join(unchanged)), fontsize=9, color="#555555")


def distribution_figure(plt, c):
    """One histogram per amount that changed for some application; a note when none did."""
    panels = []
    for col in ("subsidy", "levy"):
        values = [Decimal(v) for v in c.per_application[f"{col}.change"] if v != 0]
        if values:
            panels.append((col, values))
    if not panels:
        return _note_figure(plt, t("charts.no_change"))
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.5), squeeze=False)
    for ax, (col, values) in zip(axes[0], panels, strict=True):
        unit_name, size = scale_for(values)
        ax.hist([float(v / size) for v in values], bins=min(50, max(5, len(set(values)))), color=COLOURS[col])
        log = len(values) > LOG_FROM  # a few changed applications read better on a plain count axis
        if log:
            ax.set_yscale("log")
        if not log:
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(t("charts.change_axis", unit=unit_name))
        ax.set_ylabel(t("charts.applications_log" if log else "charts.applications"))
        _grouped_ticks(ax, "x")
        ax.set_title(t("charts.distribution_title", what=t(f"charts.{col}"), n=f"{len(values):,}"))
    fig.tight_layout()
    return fig


def _note_figure(plt, text: str):
    """A figure that says, in words, why there is nothing to draw."""
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    return fig
