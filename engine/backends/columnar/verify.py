"""Differential testing: random and boundary applications through both backends.

Boundaries are read from the rulebook (every threshold a field is compared with, every cap,
every tier minimum of a ratio table), so a reform that moves a threshold moves the test
values with it. Values land exactly on each boundary and one step either side, at several
decimal places; amounts are steered onto rounding ties (x.xx5) and onto the remaining caps.
A share of rows is deliberately broken or spelled unusually to compare the rejected sets.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from fractions import Fraction

import polars as pl

from engine.backends.columnar.inputs import RULES, SECTION_FIELDS
from engine.contract.application import FIELDS
from engine.rulebook.expressions import Compare, Const, Field, Param, walk
from engine.rulebook.loader import Rulebook

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
REGIONS = ("140100", "140200", "140300", "140400", "140500", "140600", "140700", "140800", "140900", "141000", "141100")


def credit_code(rng: random.Random) -> str:
    body = (
        "9114" + "".join(rng.choice("0123456789") for _ in range(4)) + "".join(rng.choice(_ALPHABET) for _ in range(9))
    )
    total = sum(_ALPHABET.index(c) * w for c, w in zip(body, _WEIGHTS))
    return body + _ALPHABET[(31 - total) % 31]


def _text(value: Fraction, places: int) -> str:
    q = Decimal(value.numerator) / Decimal(value.denominator)
    return str(q.quantize(Decimal(1).scaleb(-places))) if places else str(int(q))


def boundaries(book: Rulebook, when: dt.date) -> dict[str, set]:
    """Field path -> exact values its rules compare it with (thresholds, caps, tier edges)."""
    params = book.values_at(when)
    found: dict[str, set] = {}

    def value(node):
        if isinstance(node, Param) and not isinstance(params[node.name], dict):
            return params[node.name]
        if isinstance(node, Const):
            return node.number
        return None

    trees = [e.when for e in book.exceptions]
    for o in book.outcomes:
        trees += [e.when for e in o.applies] + [c.test for c in o.criteria] + [t for _, t in o.lets]
        if o.amount is not None and o.amount.cap is not None:
            trees.append(o.amount.cap)
        for t in o.tables:
            trees += [r.min for r in t.rows]
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, Compare):
                for a, b in ((node.left, node.right), (node.right, node.left)):
                    if isinstance(a, Field) and value(b) is not None:
                        found.setdefault(a.path, set()).add(value(b))
    caps = {
        value(n)
        for o in book.outcomes
        if o.amount and o.amount.cap is not None
        for n in walk(o.amount.cap)
        if value(n) is not None
    }
    caps |= {value(n) for o in book.outcomes for _, t in o.lets for n in walk(t) if value(n) is not None}
    for path, kind in FIELDS.items():
        if path.startswith("history.") and kind == "decimal":
            found.setdefault(path, set()).update(c for c in caps if c > 1)
    ratios = {value(r.min) for o in book.outcomes for t in o.tables for r in t.rows if value(r.min) is not None}
    found["__ratio"] = ratios
    return found


#: Values that pass every check of the baseline (the contract's worked example); amounts stay random.
_COMPLIANT = {
    "storage.capacity_kwh": "2000",
    "storage.energy_density_wh_per_kg": "268.5",
    "storage.cycle_life": 12000,
    "storage.backflow_response_ms": "40",
    "storage.baseline_peak_kw": "1200",
    "storage.peak_with_storage_kw": "840",
    "storage.platform.connected": True,
    "storage.platform.reporting_completeness": "0.97",
    "storage.platform.max_upload_delay_min": "10",
    "storage.platform.carbon_reduction_reported": True,
    "equipment.automated_return_receiving": True,
    "equipment.realtime_data_analytics": True,
    "packaging.nondegradable_share": "0",
    "packaging.has_recycling_system": False,
    "packaging.recycling_rate": "0.6",
    "packaging.filler_reduction_rate": "0.25",
    "history.equipment_subsidy_received": False,
}


class Generator:
    def __init__(self, book: Rulebook, seed: int = 0, when: dt.date | None = None, invalid_share: float = 0.06):
        self.rng = random.Random(seed)
        self.when = when or dt.date(2026, 12, 31)
        self.bounds = boundaries(book, self.when)
        self.invalid_share = invalid_share

    def _near(self, edge: Fraction) -> Fraction:
        r = self.rng
        step = Fraction(1, 10 ** r.choice((0, 1, 2, 3, 4, 6)))
        return edge + r.choice((-step, 0, 0, step))

    def _number(self, path: str, kind: str) -> object:
        r, rule = self.rng, RULES[path]
        edges = sorted(self.bounds.get(path, ()))
        hi = Fraction(1) if rule.le is not None else Fraction(r.choice((10, 1000, 10**6, 10**8)))
        pick = r.random()
        if edges and pick < 0.45:
            v = self._near(r.choice(edges))
        elif pick < 0.55:
            v = Fraction(0)
        elif pick < 0.6 and rule.le is None:
            v = Fraction(r.randrange(10**13, 10**16), r.choice((1, 100)))  # huge
        elif pick < 0.7:
            v = Fraction(r.randrange(0, 10**6) * 10 + 5, 1000)  # rounding tie x.xx5
        else:
            v = Fraction(r.randrange(0, 10**6), 10**6) * hi
        if rule.le is not None:
            v = min(max(v, Fraction(0)), Fraction(1))
        if rule.gt is not None and v <= 0:
            v = Fraction(1, 10 ** r.choice((0, 2, 3)))
        v = max(v, Fraction(0))
        if kind == "integer":
            return max(int(v), 1 if rule.gt is not None else 0)
        places = 2 if rule.money else r.choice((0, 1, 2, 3, 4, 6))
        while Fraction(Decimal(_text(v, places))) != v and places < 12 and not rule.money:
            places += 1
        return _text(v, places)

    def application(self, i: int) -> dict:
        r = self.rng
        start = self.when.replace(month=1, day=1)
        row: dict[str, object] = {
            "application_id": f"APP-{i:08d}",
            "period.start": start.isoformat(),
            "period.end": self.when.isoformat(),
            "enterprise.credit_code": credit_code(r),
            "enterprise.name": f"企业{i}",
            "enterprise.region_code": r.choice(REGIONS),
            "enterprise.size": r.choice(("sme", "sme", "large")),
            "enterprise.is_ecommerce": r.random() < 0.9,
        }
        # Half the rows start from a compliant application and move one to three fields (so
        # each boundary is met in isolation); the other half are random throughout.
        compliant = r.random() < 0.5
        for section in ("storage", "equipment", "packaging", "energy", "history"):
            if r.random() < (0.25 if section == "history" else 0.8):
                for path in SECTION_FIELDS[section]:
                    kind = FIELDS[path]
                    if compliant and path in _COMPLIANT:
                        row[path] = _COMPLIANT[path]
                    else:
                        row[path] = r.random() < 0.6 if kind == "boolean" else self._number(path, kind)
        if compliant:
            movable = [p for p in row if p in _COMPLIANT]
            for path in r.sample(movable, k=min(len(movable), r.randrange(4))):
                kind = FIELDS[path]
                row[path] = (not row[path]) if kind == "boolean" else self._number(path, kind)
        if "storage.baseline_peak_kw" in row and self.bounds.get("__ratio") and r.random() < 0.7:
            # land the peak-shaving ratio on a tier edge, or one step off it
            base = Fraction(r.choice((1200, 1000, 37, 3, 800000)))
            ratio = self._near(r.choice(sorted(self.bounds["__ratio"])))
            peak = max(base * (1 - ratio), Fraction(0))
            row["storage.baseline_peak_kw"] = _text(base, 0)
            places = 0
            while Fraction(Decimal(_text(peak, places))) != peak and places < 8:
                places += 1
            row["storage.peak_with_storage_kw"] = _text(peak, places)
        if r.random() < self.invalid_share:
            self._break(row)
        return row

    def _break(self, row: dict):
        """One fault (or an unusual but valid spelling) the two backends must treat alike."""
        r = self.rng
        fault = r.randrange(12)
        numeric = [p for p in row if FIELDS.get(p) == "decimal"]
        if fault == 0:
            cc = row["enterprise.credit_code"]
            row["enterprise.credit_code"] = cc[:17] + ("0" if cc[17] != "0" else "1")
        elif fault == 1 and numeric:
            row[r.choice(numeric)] = r.choice(("-1", "1.5", "abc", "1e3", "+5", " 12", "0.005", "NaN"))
        elif fault == 2:
            present = [p for p in row if p.split(".")[0] in ("storage", "equipment", "packaging", "energy")]
            if present:
                row[r.choice(present)] = None
        elif fault == 3:
            row["period.start"], row["period.end"] = row["period.end"], "2026-01-01"
            if row["period.start"] == row["period.end"]:
                row["period.start"] = "2026-02-01"
        elif fault == 4:
            row["period.end"] = "2025-12-31"  # before the rulebook starts
            row["period.start"] = "2025-01-01"
        elif fault == 5:
            row["application_id"] = "bad id!"
        elif fault == 6:
            row["enterprise.region_code"] = "14010"
        elif fault == 7:
            row["enterprise.size"] = "medium"
        elif fault == 8:
            row["period.start"] = "2025-06-01"  # longer than 366 days
        elif fault == 9:
            row["enterprise.name"] = ""
        elif fault == 10:
            row["history.storage_subsidy_granted_this_year_yuan"] = "10.005"
        else:
            row["period.end"] = "2026-02-30"

    def frame(self, n: int) -> pl.DataFrame:
        rows = [self.application(i) for i in range(n)]
        schema = {}
        for path, kind in FIELDS.items():
            schema[path] = {"boolean": pl.Boolean, "integer": pl.Int64}.get(kind, pl.Utf8)
        return pl.DataFrame(rows, schema=schema)


def disagreements(a: pl.DataFrame, b: pl.DataFrame, limit: int | None = None) -> list[tuple]:
    """(row, application_id, column, rete value, columnar value) for every differing cell.

    Error messages may be phrased differently; only whether a row was rejected must agree.
    """
    out = []
    if a.columns != b.columns or a.height != b.height:
        return [(-1, None, "(shape)", f"{a.height}x{a.columns}", f"{b.height}x{b.columns}")]
    for col in a.columns:
        x, y = a.get_column(col), b.get_column(col)
        if col == "error":
            x, y = x.is_not_null(), y.is_not_null()
        diff = (x != y) | (x.is_null() != y.is_null())
        diff = diff.fill_null(False)
        for i in diff.arg_true().to_list():
            out.append((i, a["application_id"][i], col, a[col][i], b[col][i]))
            if limit and len(out) >= limit:
                return out
    return out
