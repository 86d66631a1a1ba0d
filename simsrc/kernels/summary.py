"""Summary statistics over draws, accumulated chunk by chunk as a run's chunks arrive.

A run's cells (period x region of one output of one mineral) are mostly constant across draws:
in the headline batch about 84% of them (periods before any shock, regions without a market,
flags). :class:`CellStats` takes a cube's chunks of draws in draw order and, per chunk, in one
row-by-row pass over the chunk (contiguous reads), adds each cell's count and sum and finds the
cells that vary within the chunk; only those are kept, transposed (cell by draw). At the end a
cell whose kept values are all equal is summarised without sorting (its mean is its value
exactly: a float64 sum of k copies of a float32 value is exact, and so is its division by k;
its squared deviations are zero), and the varying cells are gathered into blocks in draw order,
their squared deviations summed in draw order, sorted by ``numpy.sort`` (vectorised AVX2/AVX-512
sorting networks on x86) and their percentiles read off. So the summaries are the same, to the
last bit, as sorting every cell of the whole cube: means and standard deviations are summed in
draw order, and neither depends on how draws are chunked or cells blocked, nor on the number of
threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from numba import get_num_threads, njit, prange

#: Cells gathered, sorted and summarised together (a block per task).
BLOCK_CELLS = 32
#: Below this many kept values a cube's varying cells are summarised on one thread (thread
#: start-up and hand-over cost more than they save; a run summarises ~30 outputs per mineral).
PARALLEL_MIN_VALUES = 2_000_000


class CellStats:
    """Count, mean, sd and percentiles of each cell of a (draws x cells) cube fed in chunks.

    Chunks must come in draw order (:meth:`add`); :meth:`result` may be called once all have.

    Parameters
    ----------
    cells : int
        Number of cells (columns of each chunk).
    """

    def __init__(self, cells: int):
        self.cells = int(cells)
        self.sums = np.zeros(self.cells)
        self.counts = np.zeros(self.cells, dtype=np.int64)
        self.draws = 0
        #: one per chunk: (n, count per cell, constant value per cell or NaN, row per cell in
        #: ``kept`` or -1, kept values (varying cells x n) or the .npy file holding them)
        self.segments: list[tuple] = []
        self.dtype = None

    def add(self, x: np.ndarray, ok: np.ndarray | None = None) -> int:
        """Add the next chunk of draws.

        Parameters
        ----------
        x : ndarray (n, cells), float32 or float64
            NaN marks a failed solve (skipped).
        ok : ndarray (n, cells) bool, optional
            False marks values to skip as NaN (a non-converged solve); None: all kept.

        Returns
        -------
        int
            Bytes of the values kept from this chunk.
        """
        x = np.ascontiguousarray(x)
        n, m = x.shape
        if m != self.cells:
            raise ValueError(f"chunk has {m} cells, expected {self.cells}")
        if self.dtype is None:
            self.dtype = x.dtype
        elif x.dtype != self.dtype:
            x = x.astype(self.dtype)
        mask = (np.ones((0, 0), dtype=np.bool_) if ok is None or ok.all()
                else np.ascontiguousarray(ok, dtype=np.bool_).reshape(n, m))
        cnt = np.zeros(m, dtype=np.int64)
        lo = np.empty(m, dtype=np.float64)
        hi = np.empty(m, dtype=np.float64)
        _scan(x, mask, self.sums, self.counts, cnt, lo, hi)
        vary = (cnt > 0) & (lo < hi)
        idx = np.flatnonzero(vary)
        row = np.full(m, -1, dtype=np.int64)
        row[idx] = np.arange(len(idx))
        kept = np.empty((len(idx), n), dtype=x.dtype)
        if len(idx):
            _gather(x, mask, idx, kept)
        const = np.where((cnt > 0) & ~vary, lo, np.nan)
        self.segments.append((n, cnt, const, row, kept))
        self.draws += n
        return kept.nbytes

    def spill(self, folder: Path, stem: str) -> None:
        """Move the kept values held in memory to ``.npy`` files in ``folder`` (read back
        memory-mapped by :meth:`result`)."""
        for k, (n, cnt, const, row, kept) in enumerate(self.segments):
            if isinstance(kept, np.ndarray) and kept.size:
                f = Path(folder) / f"{stem}-{k:05d}.npy"
                np.save(f, kept)
                self.segments[k] = (n, cnt, const, row, f)

    def files(self) -> list[Path]:
        """The scratch files holding spilled values (removed by the caller once summarised)."""
        return [s[4] for s in self.segments if not isinstance(s[4], np.ndarray)]

    def result(self, qs, workers: int | None = None) -> np.ndarray:
        """Percentiles ``qs`` (linear interpolation between order statistics, as
        ``numpy.percentile``'s default), mean, sd (ddof=1) and count of each cell.

        Returns
        -------
        ndarray (Q + 3, cells) float64
            Rows: the Q percentiles, then mean, sd (NaN when fewer than 2 values), count; NaN
            where a cell has no value.
        """
        qs = np.ascontiguousarray(qs, dtype=np.float64)
        m, nq = self.cells, qs.shape[0]
        out = np.full((nq + 3, m), np.nan)
        k = self.counts
        out[nq + 2] = k
        has = k > 0
        out[nq, has] = self.sums[has] / k[has]
        # a cell is constant if it varies in no chunk and its constant chunks agree
        value = np.full(m, np.nan)
        vary = np.zeros(m, dtype=np.bool_)
        for _, cnt, const, row, _ in self.segments:
            vary |= row >= 0
            c = ~np.isnan(const)
            first = c & np.isnan(value)
            value[first] = const[first]
            vary |= c & (const != value)
        const = has & ~vary
        out[:nq, const] = value[const]
        out[nq + 1, const & (k > 1)] = 0.0
        cells = np.flatnonzero(vary)
        if not len(cells):
            return out
        segs = [(n, cnt, cv, row, np.load(kp, mmap_mode="r") if not isinstance(kp, np.ndarray) else kp)
                for n, cnt, cv, row, kp in self.segments]
        if workers is None:
            workers = get_num_threads() if len(cells) * self.draws >= PARALLEL_MIN_VALUES else 1
        width = BLOCK_CELLS
        starts = range(0, len(cells), width)

        def block(b0):
            bc = cells[b0:b0 + width]
            buf = np.empty((len(bc), self.draws), dtype=self.dtype)
            off = 0
            for n, cnt, cv, row, kp in segs:
                r = row[bc]
                v = r >= 0
                if v.any():
                    buf[v, off:off + n] = kp[r[v]]
                if not v.all():  # constant in this chunk: its count of the value, then NaN
                    c = ~v
                    buf[c, off:off + n] = np.where(np.arange(n)[None, :] < cnt[bc[c], None],
                                                   cv[bc[c], None], np.nan)
                off += n
            _deviations(buf, bc, out)
            buf.sort(axis=1)  # NaN last
            _percentiles(buf, qs, out, bc)

        if workers <= 1 or len(starts) == 1:
            for b0 in starts:
                block(b0)
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="simsrc-stats") as ex:
                list(ex.map(block, starts))
        return out


def column_stats(cube, qs, workers=None):
    """Mean, sd, percentiles and count of each column of ``cube`` (draws x cells), ignoring
    NaN: :meth:`CellStats.result` of the whole cube as one chunk.

    Returns
    -------
    ndarray (Q + 3, n_cells) float64
        Rows: the Q percentiles, then mean, sd (ddof=1; NaN when fewer than 2), count.
    """
    cube = np.asarray(cube)
    st = CellStats(cube.shape[1])
    if cube.shape[0]:
        st.add(cube)
    return st.result(qs, workers=workers)


@njit(cache=True, nogil=True)
def _scan(x, mask, sums, counts, cnt, lo, hi):
    """One row-by-row pass over a chunk ``x`` (n, m): each cell's sum and count (added to
    ``sums`` and ``counts``, in draw order), and its count, min and max within the chunk;
    NaN and values where ``mask`` (if not empty) is False are skipped."""
    n, m = x.shape
    use_mask = mask.shape[0] > 0
    for c in range(m):
        cnt[c] = 0
        lo[c] = np.inf
        hi[c] = -np.inf
    for d in range(n):
        for c in range(m):
            v = np.float64(x[d, c])
            if v == v and (not use_mask or mask[d, c]):
                sums[c] += v
                cnt[c] += 1
                if v < lo[c]:
                    lo[c] = v
                if v > hi[c]:
                    hi[c] = v
    for c in range(m):
        counts[c] += cnt[c]


@njit(cache=True, nogil=True)
def _gather(x, mask, idx, kept):
    """Columns ``idx`` of ``x`` into the rows of ``kept`` (draw order), NaN where ``mask``
    (if not empty) is False."""
    n = x.shape[0]
    use_mask = mask.shape[0] > 0
    k = idx.shape[0]
    for d in range(n):
        for j in range(k):
            c = idx[j]
            if use_mask and not mask[d, c]:
                kept[j, d] = np.nan
            else:
                kept[j, d] = x[d, c]


@njit(cache=True, nogil=True)
def _deviations(buf, cells, out):
    """Sd (ddof=1) of each row of ``buf`` (a cell's values in draw order, NaN skipped) about
    the mean in ``out``, into ``out``'s sd row."""
    nq = out.shape[0] - 3
    for j in range(buf.shape[0]):
        i = cells[j]
        k = out[nq + 2, i]
        if k < 2:
            continue
        mu = out[nq, i]
        ss = 0.0
        for d in range(buf.shape[1]):
            x = np.float64(buf[j, d])
            if x == x:
                ss += (x - mu) ** 2
        out[nq + 1, i] = np.sqrt(ss / (k - 1))


@njit(cache=True, nogil=True)
def _percentiles(srt, qs, out, cells):
    """Percentiles of each row of ``srt`` (sorted, NaN last; its count already in ``out``)
    into rows ``0:Q`` of ``out`` at columns ``cells``."""
    nq = qs.shape[0]
    for c in range(srt.shape[0]):
        i = cells[c]
        k = int(out[nq + 2, i])
        if k == 0:
            continue
        for j in range(nq):
            pos = qs[j] / 100.0 * (k - 1)
            lo = int(np.floor(pos))
            frac = pos - lo
            v_lo = np.float64(srt[c, lo])
            if frac == 0.0 or lo + 1 >= k:
                out[j, i] = v_lo
                continue
            v_hi = np.float64(srt[c, lo + 1])
            out[j, i] = v_lo if v_hi == v_lo else v_lo + frac * (v_hi - v_lo)


@njit(cache=True, nogil=True)
def npv_sum(x, disc):
    """``nansum(float64(x) * disc[None, :, None], axis=1)`` of a (draws, periods, regions)
    array in one pass, adding periods in order (as numpy does along that axis, so the
    result is the same to the last bit), without the float64 copies."""
    n, T, R = x.shape
    out = np.zeros((n, R))
    for s in range(n):
        for t in range(T):
            d = disc[t]
            for r in range(R):
                v = np.float64(x[s, t, r]) * d
                if v == v:
                    out[s, r] += v
    return out


#: ``kind`` of :func:`period_stat`.
PERIOD_SUM, PERIOD_MEAN, PERIOD_MAX = 0, 1, 2


@njit(cache=True, nogil=True)
def period_stat(x, kind):
    """Per draw and region, over the periods of a (draws, periods, regions) array, NaN
    skipped, in float64: ``kind`` :data:`PERIOD_SUM` the sum (0 if no value),
    :data:`PERIOD_MEAN` the mean, :data:`PERIOD_MAX` the maximum (NaN if no value). Periods are
    taken in order."""
    n, T, R = x.shape
    out = np.zeros((n, R))
    cnt = np.zeros(R, dtype=np.int64)
    for s in range(n):
        for r in range(R):
            cnt[r] = 0
            out[s, r] = -np.inf if kind == 2 else 0.0
        for t in range(T):
            for r in range(R):
                v = np.float64(x[s, t, r])
                if v == v:
                    cnt[r] += 1
                    if kind == 2:
                        if v > out[s, r]:
                            out[s, r] = v
                    else:
                        out[s, r] += v
        if kind != 0:
            for r in range(R):
                if cnt[r] == 0:
                    out[s, r] = np.nan
                elif kind == 1:
                    out[s, r] /= cnt[r]
    return out


@njit(cache=True, parallel=True, nogil=True)
def nonfinite_solves(out, nan_ok, pair_price, pair_qty, conv_row):
    """The solves of a chunk whose outputs break the registry's rules, in one pass.

    Parameters
    ----------
    out : ndarray (Q, S, T, R) float32
        A chunk's outputs (rows as in the kernel's ``out``).
    nan_ok : ndarray (Q,) uint8
        1 for rows that may be NaN (only an infinite value breaks them), 0 for rows that must
        be finite.
    pair_price, pair_qty : ndarray (P,) int64
        Rows that may be NaN only where the other row is not positive (a price where the region
        produces or consumes nothing).
    conv_row : int
        The ``converged`` row.

    Returns
    -------
    bad, newly : ndarray (S, T) bool
        Solves breaking a rule, and those of them that had converged in some region.
    """
    Q, S, T, R = out.shape
    P = pair_price.shape[0]
    bad = np.zeros((S, T), dtype=np.bool_)
    newly = np.zeros((S, T), dtype=np.bool_)
    for s in prange(S):
        for t in range(T):
            b = False
            for q in range(Q):
                if nan_ok[q] == 1:
                    for r in range(R):
                        b |= np.isinf(out[q, s, t, r])
                else:
                    for r in range(R):
                        b |= not np.isfinite(out[q, s, t, r])
            for k in range(P):
                for r in range(R):
                    b |= np.isnan(out[pair_price[k], s, t, r]) and out[pair_qty[k], s, t, r] > 0
            if b:
                bad[s, t] = True
                for r in range(R):
                    if out[conv_row, s, t, r] > 0.5:
                        newly[s, t] = True
    return bad, newly
