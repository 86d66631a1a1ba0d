"""Summary statistics over draws: moments in numba, order statistics by numpy's sort.

Percentiles come from each cell's values sorted by ``numpy.sort``, which on x86 uses
vectorised (AVX2/AVX-512) sorting networks: 2,000 float32 values sort in about 3 us, against
about 15 us for five selections with a scalar quickselect, which made the percentiles most of
a run's summaries. Moments are summed in draw order, so means and standard deviations do not
depend on how cells are blocked or on the number of threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import get_num_threads, njit, prange

#: Cells gathered, sorted and summarised together (a block per task; reading one draw's
#: row of a block touches whole cache lines, and each cell's sum is one of that many
#: independent chains).
BLOCK_CELLS = 32
#: Below this many values a cube is summarised on one thread (thread start-up and hand-over
#: cost more than they save; a run summarises ~30 outputs per mineral).
PARALLEL_MIN_VALUES = 2_000_000


def column_stats(cube, qs, workers=None):
    """Mean, sd, percentiles and count of each column of ``cube``, ignoring NaN.

    Parameters
    ----------
    cube : ndarray (n_draws, n_cells), float32 or float64
        One output of one mineral: draws by (period x region) cells; NaN marks a failed solve.
    qs : ndarray (Q,) float64
        Percentiles in [0, 100], linear interpolation between order statistics (as
        ``numpy.percentile``'s default method).
    workers : int, optional
        Threads over blocks of cells (default: numba's thread count for cubes of at least
        :data:`PARALLEL_MIN_VALUES` values, else 1). Results do not depend on it.

    Returns
    -------
    ndarray (Q + 3, n_cells) float64
        Rows: the Q percentiles, then mean, sd (ddof=1; NaN when fewer than 2), count.
    """
    cube = np.asarray(cube)
    n, m = cube.shape
    qs = np.ascontiguousarray(qs, dtype=np.float64)
    out = np.full((qs.shape[0] + 3, m), np.nan)
    if m == 0:
        return out
    if workers is None:
        workers = get_num_threads() if cube.size >= PARALLEL_MIN_VALUES else 1
    width = BLOCK_CELLS
    starts = range(0, m, width)

    def block(c0):
        c1 = min(c0 + width, m)
        buf = np.empty((c1 - c0, n), dtype=cube.dtype)
        _gather_moments(cube, c0, buf, out)
        buf.sort(axis=1)  # NaN last
        _percentiles(buf, qs, out, c0)

    if workers <= 1 or len(starts) == 1:
        for c0 in starts:
            block(c0)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="simsrc-stats") as ex:
            list(ex.map(block, starts))
    return out


@njit(cache=True, nogil=True)
def _gather_moments(cube, c0, buf, out):
    """Copy columns ``c0:c0 + len(buf)`` of ``cube`` into the rows of ``buf`` (draw order) and
    write their count, mean and sd (ddof=1) into ``out``'s last three rows; NaN is skipped."""
    n = cube.shape[0]
    nc = buf.shape[0]
    nq = out.shape[0] - 3
    sums = np.zeros(nc)
    counts = np.zeros(nc, dtype=np.int64)
    for d in range(n):  # row by row: contiguous reads; each cell summed in draw order
        for c in range(nc):
            v = cube[d, c0 + c]
            buf[c, d] = v
            x = np.float64(v)
            if x == x:
                sums[c] += x
                counts[c] += 1
    means = np.zeros(nc)
    for c in range(nc):
        out[nq + 2, c0 + c] = counts[c]
        if counts[c] > 0:
            means[c] = sums[c] / counts[c]
            out[nq, c0 + c] = means[c]
    # squared deviations in a second pass over the rows (each cell in draw order, the cells
    # as independent sums)
    ss = np.zeros(nc)
    for d in range(n):
        for c in range(nc):
            x = np.float64(cube[d, c0 + c])
            if x == x:
                ss[c] += (x - means[c]) ** 2
    for c in range(nc):
        if counts[c] > 1:
            out[nq + 1, c0 + c] = np.sqrt(ss[c] / (counts[c] - 1))


@njit(cache=True, nogil=True)
def _percentiles(srt, qs, out, c0):
    """Percentiles of each row of ``srt`` (sorted, NaN last; its count already in ``out``)
    into rows ``0:Q`` of ``out`` at columns ``c0 + row``."""
    nq = qs.shape[0]
    for c in range(srt.shape[0]):
        i = c0 + c
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
