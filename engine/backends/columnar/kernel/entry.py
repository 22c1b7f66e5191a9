"""The kernel's entry: ``Checked`` (a population's contract checks, kept for several rulebooks)
and ``run`` (one rulebook's decisions over the rows the kernel vouches for).

Two passes. ``Checked`` reads the Arrow buffers of a frame (kernel/arrow.py) and validates every
row against the contract model (kernel/validation.py), keeping per row an ok flag, its period
end and its input registers (label texts coded in the population's own dictionary). ``run``
then decides one rulebook over those validated rows: its date groups, the input limits its
exactness proof lowered, its label codes, and its program (kernel/programs.py) block by block
over int64 registers (kernel/interpreter.py), writing the typed output buffers (status and
reason indices, Decimal128 amounts; kernel/buffers.py) in place. Any number of rulebooks share
one ``Checked`` (simulate: baseline and reforms).

Nothing here depends on a rule: the interpreter is a fixed switch over opcodes, compiled by
numba once (kernel/cache.py keeps it); the program is data. A row the kernel does not vouch for
(invalid or unusual input, an uncovered date, a magnitude beyond the program's proven limits)
is marked, and the caller decides it on the Polars path (and from there the Rete engine) instead.
"""

from __future__ import annotations

import datetime as dt
import threading

import numba as nb
import numpy as np
import polars as pl

from engine.backends.columnar import program as cp
from engine.backends.columnar.kernel.arrow import Inputs
from engine.backends.columnar.kernel.buffers import carve, decimal_series
from engine.backends.columnar.kernel.interpreter import decide_blocks
from engine.backends.columnar.kernel.layout import (
    BLOCK,
    FIRST_LABEL,
    LABEL_FIELDS,
    N_INPUTS,
    NUMERIC,
    SECTION_SIZE,
    SECTIONS_COUNTABLE,
    START_LIMIT,
)
from engine.backends.columnar.kernel.programs import labels_of, program_for
from engine.backends.columnar.kernel.validation import validate_all

_EPOCH = dt.date(1970, 1, 1)
# One kernel call at a time per process: it already uses every core, and numba's fallback
# threading layer (workqueue) aborts on concurrent parallel calls from several threads.
_RUNNING = threading.Lock()

#: Largest population dictionary of a label field; beyond, a population is validated again
#: for each rulebook with that rulebook's own labels (a scan per row would cost more).
MAX_DICTIONARY = 256


class Checked:
    """The contract checks of one population. ``shared``: kept for several rulebooks (simulate),
    so the checks run once into population-wide input registers (``validated``); else the one
    rulebook deciding it validates each block as it decides (no population-wide copy). A label
    field's register in the shared form holds the text's code in the population's own
    dictionary (its distinct texts); each rulebook maps those codes to its labels as it decides."""

    inp: Inputs  # what the kernel reads of the frame (when it can read it)
    end: pl.Series  # the rows' period ends (when usable)

    def __init__(self, frame: pl.DataFrame, shared: bool = False):
        self.n = frame.height
        self.shared = shared
        texts = (pl.Utf8, pl.Categorical, pl.Enum)
        self.usable = SECTIONS_COUNTABLE and all(
            c in frame.columns and isinstance(frame.schema[c], texts)
            for c in ("application_id", "enterprise.region_code")
        )
        if self.usable:  # else the output could not copy both columns as text
            self.inp = Inputs(frame)
            self.usable = self.inp.end is not None
            if self.inp.end is not None:
                self.end = self.inp.end
                self.end_dates = self.end.drop_nulls().unique().to_list()
        self._runs: dict = {}
        self._dictionary: dict | None = None
        self._dictionary_read = False

    @property
    def dictionary(self) -> dict | None:
        """Label field -> the population's distinct texts (None when one has too many)."""
        if not self._dictionary_read:
            self._dictionary_read = True
            self._dictionary = {}
            for path in LABEL_FIELDS:
                words: tuple = ()
                if path in self.inp.frame.columns and self.inp.frame.schema[path] == pl.Utf8:
                    s = self.inp.frame.get_column(path)
                    words = tuple(sorted(s.filter(s != "").unique().to_list()))
                if len(words) > MAX_DICTIONARY:
                    self._dictionary = None
                    break
                self._dictionary[path] = words
        return self._dictionary

    def inputs(self, labels: dict) -> tuple:
        """What the kernel's checks read, with label codes counted among ``labels``."""
        inp = self.inp
        txt_meta, strings, soffs, keys = inp.with_labels(labels)
        return (
            *inp.num,
            START_LIMIT,
            *inp.bool,
            *inp.txt,
            txt_meta,
            inp.pat_tab,
            inp.pat_len,
            strings,
            soffs,
            keys,
            *inp.dates,
            inp.bad,
            SECTION_SIZE,
        )

    def validated(self, labels: dict):
        """(label texts the codes index, registers, validity, ok, period ends), computed
        once (or once per label set when the population's dictionary is too large)."""
        use = self.dictionary if self.dictionary is not None else labels
        key = tuple(sorted(use.items()))
        hit = self._runs.get(key)
        if hit is None:
            nblocks = (self.n + BLOCK - 1) // BLOCK
            in_regs = np.zeros((nblocks, N_INPUTS, BLOCK), dtype=np.int64)
            in_vals = np.ones((nblocks, N_INPUTS, BLOCK), dtype=np.uint8)
            ok = np.zeros(self.n, dtype=np.uint8)
            ends = np.zeros(self.n, dtype=np.int64)
            with _RUNNING:
                validate_all(self.n, self.inputs(use), in_regs, in_vals, ok, ends, nb.get_num_threads())
            hit = self._runs[key] = (use, in_regs, in_vals, ok, ends)
        return hit


def run(book, frame: pl.DataFrame, grouping, codes: dict, schema: dict, checked: Checked | None = None):
    """Decide the rows of ``frame`` the kernel vouches for.

    ``grouping``: [period ends] -> {parameter-set key: (params, [dates])} (uncovered dates
    left out); ``codes``: outcome -> OutcomeCodes; ``checked``: ``Checked(frame)`` when the
    caller shares one between rulebooks.
    Returns (typed frame of every row, vouched bool array), or None when the rulebook uses a
    construct the kernel does not implement. Rows not vouched hold placeholders.
    """
    n = frame.height
    checked = Checked(frame) if checked is None else checked
    if not checked.usable:
        return None
    inp = checked.inp
    groups = grouping(checked.end_dates)
    if not groups:
        return None
    labels = labels_of(book, [p for p, _ in groups.values()])
    days = {}
    for g, (_params, dates) in enumerate(groups.values()):
        for d in dates:
            days[(d - _EPOCH).days] = g
    gbase = min(days) if days else 0
    gtab = np.full(max(days) - gbase + 1 if days else 1, -1, dtype=np.int8)
    if len(gtab) > 1_000_000 or len(groups) > 127:
        return None
    for d, g in days.items():
        gtab[d - gbase] = g
    outcomes = list(book.outcomes)
    O = len(outcomes)  # noqa: E741 (the kernel names its dimensions O and n)
    amounts = [o for o in outcomes if o.amount is not None]
    lutlen = np.array([len(codes[o.name].lut) for o in outcomes], dtype=np.int64)
    lut = np.zeros((O, int(lutlen.max())), dtype=np.int64)
    for k, o in enumerate(outcomes):
        lut[k, : lutlen[k]] = codes[o.name].lut
    # a reason list's index in as few bytes as its outcome's lists need (less to write and gather)
    fused = not checked.shared and len(groups) == 1  # (see below)
    st_out, rs_out, am_out, am_bits, tot_out, vouched, ends = carve(
        ((O, n), np.uint8),
        ((O, n), np.uint8 if lut.max() < 256 else np.uint32),
        ((len(amounts), n, 2), np.int64),
        ((len(amounts), (n + 7) // 8), np.uint8),
        ((2, n, 2), np.int64),
        ((n,), np.uint8),
        ((n,), np.int64),
        reuse=fused,
    )
    # One parameter group and no other rulebook to share the checks with: validate as it decides.
    if fused:
        vin = checked.inputs(labels)
        words = {p: labels.get(p, ()) for p in LABEL_FIELDS}
        in_regs, in_vals = np.zeros((0, 0, 0), dtype=np.int64), np.zeros((0, 0, 0), dtype=np.uint8)
        ok = np.zeros(0, dtype=np.uint8)
    else:
        words, in_regs, in_vals, ok, ends = checked.validated(labels)  # its own period ends
        vin = checked.inputs(words)
    lab_reg = np.array([FIRST_LABEL + inp.label_slots[p] for p in LABEL_FIELDS], dtype=np.int64)
    lab_out = np.array([FIRST_LABEL + k for k in range(len(LABEL_FIELDS))], dtype=np.int64)  # program_for's
    lab_map = np.zeros((len(LABEL_FIELDS), 1 + max([len(words[p]) for p in LABEL_FIELDS] + [0])), dtype=np.int64)
    for c, p in enumerate(LABEL_FIELDS):
        mine = {t: k + 1 for k, t in enumerate(labels.get(p, ()))}
        for k, t in enumerate(words[p]):
            lab_map[c, k + 1] = mine.get(t, 0)
    # Limits start high and are lowered, field by field, only where a bound needs it: the
    # validation checked START_LIMIT; each rulebook checks the limits it lowered (a row beyond
    # goes to the careful path).
    base = {p: START_LIMIT for p in NUMERIC}
    for g, (key, (params, _)) in enumerate(groups.items()):
        try:
            prog, limits = program_for(book, params, key, inp.scales, base, labels, codes)
        except cp.Unsupported:
            return None
        if prog is None:
            if fused:  # nothing written to a block that may hold another run's bytes
                return None
            continue
        lowered = [(f, limits[p]) for f, p in enumerate(NUMERIC) if limits[p] < START_LIMIT]
        chk_reg = np.array([f for f, _ in lowered], dtype=np.int64)
        chk_lim = np.array([lim for _, lim in lowered], dtype=np.int64)
        src = np.array(
            sorted(
                {int(r) for row in prog.ops for i in cp.operands(row) for r in [row[i]] if r < N_INPUTS}
                - set(lab_out.tolist())
            ),
            dtype=np.int64,
        )
        with _RUNNING:
            decide_blocks(
                n,
                g,
                gtab,
                gbase,
                fused,
                vin,
                in_regs,
                in_vals,
                ok,
                ends,
                chk_reg,
                chk_lim,
                lab_reg,
                lab_out,
                lab_map,
                prog.ops,
                prog.consts,
                prog.n_regs,
                src,
                np.array(prog.status, dtype=np.int64),
                np.array(prog.code, dtype=np.int64),
                np.array(prog.amount, dtype=np.int64),
                np.array([prog.subsidy, prog.levy], dtype=np.int64),
                lut,
                lutlen,
                st_out,
                rs_out,
                am_out,
                am_bits,
                tot_out,
                vouched,
                nb.get_num_threads(),
            )
    # Status and reason texts from their indices: every column in one select, so Polars gathers
    # them in parallel (one after another they cost more than the decisions' arithmetic).
    index = pl.DataFrame({**{f"s{k}": st_out[k] for k in range(O)}, **{f"r{k}": rs_out[k] for k in range(O)}})
    texts = index.select(
        *[
            pl.lit(pl.Series(list(o.statuses), dtype=codes[o.name].status_dtype))
            .gather(pl.col(f"s{k}"))
            .alias(f"{o.name}.status")
            for k, o in enumerate(outcomes)
        ],
        *[
            pl.lit(pl.Series(codes[o.name].categories, dtype=codes[o.name].dtype))
            .gather(pl.col(f"r{k}"))
            .alias(f"{o.name}.reasons")
            for k, o in enumerate(outcomes)
        ],
    )
    cols = [
        inp.frame.get_column("application_id"),
        inp.frame.get_column("enterprise.region_code").alias("region_code"),
        checked.end.alias("evaluated_on"),
    ]
    a = 0
    nothing = pl.repeat(None, n, dtype=pl.Utf8, eager=True)  # one column of nulls, shared by name
    for o in outcomes:
        cols.append(texts.get_column(f"{o.name}.status"))
        if o.amount is None:
            cols.append(nothing.alias(f"{o.name}.amount"))
        else:
            cols.append(decimal_series(f"{o.name}.amount", am_out[a], am_bits[a], n, o.amount.places))
            a += 1
        cols.append(texts.get_column(f"{o.name}.reasons"))
    cols += [
        decimal_series("totals.subsidy_yuan", tot_out[0], None, n, 2),
        decimal_series("totals.levy_yuan", tot_out[1], None, n, 2),
        nothing.alias("error"),
    ]
    return pl.DataFrame(cols).select(list(schema)), vouched.view(bool)
