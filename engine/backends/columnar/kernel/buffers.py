"""The kernel's typed outputs: status and reason indices, Decimal128 amounts with their validity
bits, totals, written in place block by block (``write_outputs``, compiled), into buffers
carved from one allocation that a later run may reuse (``carve``), and handed to Polars as
Arrow arrays without a copy (``decimal_series``).
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import polars as pl
import pyarrow as pa

from engine.backends.columnar.kernel.cache import jit
from engine.backends.columnar.kernel.layout import BLOCK


@jit()
def pack_bits(flags, m, bits, at, merge):
    """The 0/1 ``flags[:m]`` into ``bits`` from byte ``at`` (ORed in with ``merge``, else
    written), eight to a byte, least significant first (Arrow's validity order); ``flags`` past
    m are 0 up to a multiple of 8. Eight flags read as one little-endian word, times
    0x0102040810204080, hold their byte in the product's top 8 bits (tests/backends/columnar/
    test_columnar_kernel.py checks all 256 patterns)."""
    words = flags.view(np.uint64)
    for q in range((m + 7) // 8):
        byte = np.uint8((words[q] * np.uint64(0x0102040810204080)) >> np.uint64(56))
        bits[at + q] = (bits[at + q] | byte) if merge else byte


@jit()
def write_outputs(
    r0,
    m,
    ok,
    regs,
    vals,
    every,
    out_status,
    out_code,
    out_amount,
    out_tot,
    lut,
    lutlen,
    st_out,
    rs_out,
    am_out,
    am_bits,
    tot_out,
    vouched,
):
    """The typed output buffers of the rows vouched for in this block, column by column.
    ``every``: this pass is the only one (one parameter group), so every row is written, a row
    not vouched for with zeros, without a branch; else other rows keep what another group's
    pass wrote."""
    for j in range(m):
        vouched[r0 + j] = ok[j] if every else vouched[r0 + j] | ok[j]
    flags = np.zeros(BLOCK, dtype=np.uint8)  # whole words: rows past m stay 0
    for o in range(out_status.shape[0]):
        rs = regs[out_status[o]]
        rc = regs[out_code[o]]
        so = st_out[o]
        ro = rs_out[o]
        lo = lut[o]
        size = lutlen[o]
        if every:
            for j in range(m):
                code = rc[j]
                keep = ok[j] != 0 and 0 <= code < size
                so[r0 + j] = np.uint8(rs[j]) if ok[j] != 0 else np.uint8(0)
                ro[r0 + j] = lo[min(max(code, 0), size - 1)] if keep else 0
        else:
            for j in range(m):
                if ok[j]:
                    code = rc[j]
                    so[r0 + j] = rs[j]
                    ro[r0 + j] = lo[code] if 0 <= code < size else 0
    a = 0
    for o in range(out_amount.shape[0]):
        r = out_amount[o]
        if r < 0:
            continue
        ra = regs[r]
        va = vals[r]
        ao = am_out[a]
        bits = am_bits[a]
        if every:
            for j in range(m):
                x = ra[j] if (ok[j] & va[j]) != 0 else 0
                ao[r0 + j, 0] = x
                ao[r0 + j, 1] = x >> 63
        else:
            for j in range(m):
                if ok[j] and va[j]:
                    x = ra[j]
                    ao[r0 + j, 0] = x
                    ao[r0 + j, 1] = x >> 63
        for j in range(m):
            flags[j] = ok[j] & va[j]
        pack_bits(flags, m, bits, r0 >> 3, not every)  # r0 is a multiple of 8: whole bytes
        a += 1
    for t in range(2):
        rt = regs[out_tot[t]]
        to = tot_out[t]
        if every:
            for j in range(m):
                x = rt[j] if ok[j] != 0 else 0
                to[r0 + j, 0] = x
                to[r0 + j, 1] = x >> 63
        else:
            for j in range(m):
                if ok[j]:
                    x = rt[j]
                    to[r0 + j, 0] = x
                    to[r0 + j, 1] = x >> 63


def decimal_series(name: str, buf: np.ndarray, bits: np.ndarray | None, n: int, places: int) -> pl.Series:
    """A Decimal128 column over the kernel's (low, high) int64 pairs and validity bits, no copy."""
    validity = None if bits is None else pa.py_buffer(bits)
    arr = pa.Array.from_buffers(pa.decimal128(38, places), n, [validity, pa.py_buffer(buf)])
    return pl.Series(name, arr)


class Spare:
    """The last output block, handed out again once nothing refers to it (every array carved
    from it, every view and Arrow buffer over them, gone with the decisions built on it), to a
    pass that writes every byte of it (one parameter group: ``run``'s fused pass). Streaming
    chunks, Dask partitions and repeated calls then reuse warm pages instead of faulting fresh
    ones in (with huge pages, at the price of the kernel compacting memory when it is
    fragmented). NumPy points every view's base at the array that owns the memory, so the
    block's own reference count says whether anything still uses it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.block = None

    def take(self, size: int, reuse: bool):
        with self.lock:
            # references: this attribute and getrefcount's argument; any view adds one
            idle = self.block is not None and sys.getrefcount(self.block) == 2
            if not (reuse and idle and self.block.nbytes >= size):
                self.block = np.zeros(size, dtype=np.uint8)
            return self.block


SPARE = Spare()


def carve(*shapes, reuse: bool = False) -> list:
    """Arrays of the given (shape, dtype), carved from one allocation: one large mapping takes
    transparent huge pages and is released whole, where a handful of mid-sized arrays come from
    the heap, which the allocator trims and then faults back in 4 KiB pages on the next run.
    Zeroed, or with ``reuse`` possibly the spare block's old bytes (for a pass that writes them
    all). Each array starts on a 64-byte boundary."""
    sizes = [int(np.prod(shape)) * np.dtype(dt).itemsize for shape, dt in shapes]
    starts = np.cumsum([0] + [(z + 63) // 64 * 64 for z in sizes])
    block = SPARE.take(int(starts[-1]) + 64, reuse)
    base = (-block.ctypes.data) % 64
    return [block[base + a : base + a + z].view(dt).reshape(shape) for a, z, (shape, dt) in zip(starts, sizes, shapes)]
