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
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _pos: f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:,.1f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


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
    cols = ("subsidy", "levy", "net_cost")
    changes = {col: [Decimal(v) for v in reg[f"{col}.change"]] for col in cols}
    unit_name, size = scale_for([v for vs in changes.values() for v in vs])
    fig, ax = plt.subplots(figsize=(max(8, 0.9 * len(names) + 3), 5))
    width = 0.8 / len(cols)
    for i, col in enumerate(cols):
        xs = [k + (i - 1) * width for k in range(len(names))]
        ax.bar(xs, [float(v / size) for v in changes[col]], width=width, label=t(f"charts.{col}"), color=COLOURS[col])
    ax.set_xticks(list(range(len(names))), names, rotation=30, ha="right")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel(t("charts.change_axis", unit=unit_name))
    _grouped_ticks(ax)
    ax.set_title(t("charts.by_region_title"))
    ax.legend()
    fig.suptitle(t("charts.versions", reform=c.reform_book.version, base=c.base_book.version), fontsize=9)
    fig.tight_layout()
    return fig


def distribution_figure(plt, c):
    """One histogram per amount that changed for some application; a note when none did."""
    panels = []
    for col in ("subsidy", "levy"):
        values = [Decimal(v) for v in c.per_application[f"{col}.change"] if v != 0]
        if values:
            panels.append((col, values))
    if not panels:
        fig, ax = plt.subplots(figsize=(7, 3))
        ax.axis("off")
        ax.text(0.5, 0.5, t("charts.no_change"), ha="center", va="center", transform=ax.transAxes)
        return fig
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
