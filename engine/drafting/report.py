"""The simulate report (report.md), in the language in force: every sentence from
``templates/messages/report.yaml``, outcomes by title, statuses by name, cities by name, amounts
exact and grouped (engine/i18n). The CSV and JSON files beside it do not change with the language.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from engine.i18n import language, region, t, unit


def _yuan(d) -> str:
    return f"{Decimal(d):,.2f}"


def _signed(d, places: int = 2) -> str:
    d = Decimal(d)
    return ("+" if d > 0 else "") + f"{d:,.{places}f}"


def _money(d) -> str:
    """An amount with its unit, for a sentence: ``139,703,518.10元`` / ``139,703,518.10 yuan``."""
    return _join(_yuan(d), unit("yuan"))


def _signed_money(d) -> str:
    return _join(_signed(d), unit("yuan"))


def _join(number: str, unit_name: str) -> str:
    return f"{number}{'' if language() == 'zh' else ' '}{unit_name}"


def _table(header: list, rows: list) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def _title(book, name: str) -> str:
    try:
        return book.outcome(name).title[language()]
    except KeyError:
        return name


def money_lines(book) -> list[tuple[str, str, str]]:
    """(column, label, unit) of the money summary (engine.drafting.simulate.money_lines), labelled
    in the language in force."""
    from engine.drafting.simulate import money_lines as lines

    lang, named = language(), {o.name: o for o in book.outcomes}
    shown = {"subsidy": t("report.line_subsidy"), "levy": t("report.line_levy"), "net_cost": t("report.line_net")}
    out = []
    for col, _, unit_name in lines(book):
        o = named.get(col)
        if o is None:
            out.append((col, shown[col], unit_name))
        elif o.kind == "levy":
            out.append((col, t("report.line_levy_outcome", title=o.title[lang]), unit_name))
        else:
            out.append((col, o.title[lang], unit_name))
    return out


def printed_lines(c, how: str, files: list[str], folder) -> list[str]:
    """What simulate prints when it is done."""
    net = c.money["net_cost"]
    return [
        t(
            "report.printed",
            n=f"{c.rows:,}",
            changed=f"{c.per_application.height:,}",
            base=_money(net["baseline"]),
            reform=_money(net["reform"]),
            change=_signed_money(net["change"]),
        ),
        t("report.wrote", how=how, files=t("cli.summary.list_sep").join(files), folder=folder),
    ]


def render_report(c, meta: dict, charts: list[str]) -> str:
    m = c.money
    net = m["net_cost"]
    none = t("report.none")
    out = [t("report.title", reform=c.reform_book.version, base=c.base_book.version), ""]
    out += [
        t("report.population", population=meta.get("population"), n=f"{c.rows:,}", periods=meta.get("periods", "?")),
        t("report.baseline_book", version=c.base_book.version, digest=c.base_book.digest),
        t("report.reform_book", version=c.reform_book.version, digest=c.reform_book.digest),
        t(
            "report.reforms",
            reforms=", ".join(meta.get("reforms", [])) or none,
            baseline_reforms=", ".join(meta.get("baseline_reforms", [])) or none,
        ),
        t(
            "report.backend",
            backend=meta.get("backend"),
            baseline=f"{c.timings.get('baseline', 0):.2f}",
            reform=f"{c.timings.get('reform', 0):.2f}",
            compare=f"{c.timings.get('compare', 0):.2f}",
        ),
        t("report.changed", changed=f"{c.per_application.height:,}", errors=f"{c.errors.height:,}"),
        "",
    ]
    out += [
        t("report.headline"),
        "",
        t(
            "report.headline_text",
            base=_money(net["baseline"]),
            reform=_money(net["reform"]),
            change=_signed_money(net["change"]),
            subsidy=_signed_money(m["subsidy"]["change"]),
            levy=_signed_money(m["levy"]["change"]),
        ),
        "",
    ]
    rows = []
    for col, label, unit_name in money_lines(c.base_book):
        d = m[col]
        places = 3 if unit_name == "tCO2e" else 2
        rows.append(
            [
                label,
                unit(unit_name),
                f"{d['baseline']:,.{places}f}",
                f"{d['reform']:,.{places}f}",
                _signed(d["change"], places),
            ]
        )
    header = [t(f"report.col_{k}") for k in ("line", "unit", "baseline", "reform", "change")]
    out += [t("report.money"), "", _table(header, rows), ""]
    out += [
        t("report.counts"),
        "",
        _table(
            [t(f"report.col_{k}") for k in ("outcome", "status", "baseline", "reform", "change")],
            [
                [
                    _title(c.base_book, r["outcome"]),
                    t(f"cli.status.{r['status']}"),
                    f"{r['baseline']:,}",
                    f"{r['reform']:,}",
                    f"{r['change']:+,}" if r["change"] else "0",
                ]
                for r in c.counts.iter_rows(named=True)
            ],
        ),
        "",
    ]
    reg_rows = [
        [
            r["region_code"],
            region(r["region_code"]) if r["region_code"] != "(unknown)" else t("charts.unknown_region"),
            f"{r['applications']:,}",
            _yuan(r["subsidy.baseline"]),
            _yuan(r["subsidy.reform"]),
            _signed(r["subsidy.change"]),
            _signed(r["levy.change"]),
            _yuan(r["net_cost.baseline"]),
            _yuan(r["net_cost.reform"]),
            _signed(r["net_cost.change"]),
        ]
        for r in c.by_region.iter_rows(named=True)
    ]
    reg_rows.append(
        [
            t("report.total"),
            "",
            f"{c.rows:,}",
            _yuan(m["subsidy"]["baseline"]),
            _yuan(m["subsidy"]["reform"]),
            _signed(m["subsidy"]["change"]),
            _signed(m["levy"]["change"]),
            _yuan(net["baseline"]),
            _yuan(net["reform"]),
            _signed(net["change"]),
        ]
    )
    region_cols = (
        "region",
        "city",
        "applications",
        "subsidy_baseline",
        "subsidy_reform",
        "subsidy_change",
        "levy_change",
        "net_baseline",
        "net_reform",
        "net_change",
    )
    out += [
        t("report.by_region"),
        "",
        _table([t(f"report.col_{k}") for k in region_cols], reg_rows),
        "",
        f"![{t('report.chart_by_region')}]({charts[0]})",
        "",
    ]
    out += [t("report.what_changed"), ""]
    if c.changes.height:
        trans = (
            c.changes.group_by(["outcome", "old_status", "new_status", "old_reasons", "new_reasons"])
            .agg(pl.len().alias("applications"))
            .sort(["applications", "outcome"], descending=[True, False])
            .head(25)
        )
        out += [
            t("report.transitions"),
            "",
            _table(
                [t(f"report.col_{k}") for k in ("outcome", "status", "reasons", "applications")],
                [
                    [
                        _title(c.base_book, r["outcome"]),
                        f"{_status(r['old_status'])} → {_status(r['new_status'])}",
                        f"`{r['old_reasons'] or '—'}` → `{r['new_reasons'] or '—'}`",
                        f"{r['applications']:,}",
                    ]
                    for r in trans.iter_rows(named=True)
                ],
            ),
            "",
        ]
        gainers = c.per_application.filter(pl.col("net_cost.change") > 0).height
        losers = c.per_application.filter(pl.col("net_cost.change") < 0).height
        others = c.per_application.height - gainers - losers
        out += [t("report.gainers", gainers=f"{gainers:,}", losers=f"{losers:,}", others=f"{others:,}"), ""]
        top = c.per_application.sort(pl.col("net_cost.change").abs(), descending=True).head(10)
        top_cols = (
            "application",
            "region",
            "subsidy_baseline",
            "subsidy_reform",
            "levy_baseline",
            "levy_reform",
            "net_change",
        )
        out += [
            _table(
                [t(f"report.col_{k}") for k in top_cols],
                [
                    [
                        r["application_id"],
                        region(r["region_code"]) if r["region_code"] else "",
                        _yuan(r["subsidy.baseline"]),
                        _yuan(r["subsidy.reform"]),
                        _yuan(r["levy.baseline"]),
                        _yuan(r["levy.reform"]),
                        _signed(r["net_cost.change"]),
                    ]
                    for r in top.iter_rows(named=True)
                ],
            ),
            "",
        ]
    else:
        out += [t("report.no_change"), ""]
    out += [f"![{t('report.chart_distribution')}]({charts[1]})", "", t("report.files"), ""]
    return "\n".join(out)


def _status(status) -> str:
    return t(f"cli.status.{status}") if status else "—"
