"""Summary statistics over draws (numba, parallel over blocks of cells)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: Columns gathered together, so that reading one draw's row touches whole cache lines.
_BLOCK = 32


#: Below this many values a cube is summarised on one thread (parallel start-up and thread
#: synchronisation cost more than they save; a run summarises ~30 outputs per mineral).
PARALLEL_MIN_VALUES = 2_000_000


def column_stats(cube, qs):
    """Mean, sd, percentiles and count of each column of ``cube``, ignoring NaN: see
    :func:`column_stats_parallel` (used for large cubes; small ones run the same code on one
    thread, with identical results)."""
    if cube.size >= PARALLEL_MIN_VALUES:
        return column_stats_parallel(cube, qs)
    return column_stats_serial(cube, qs)


@njit(cache=True, parallel=True, nogil=True)
def column_stats_parallel(cube, qs):
    """Mean, sd, percentiles and count of each column of ``cube``, ignoring NaN.

    Parameters
    ----------
    cube : ndarray (n_draws, n_cells), float32 or float64
        One output of one mineral: draws by (period x region) cells; NaN marks a failed solve.
    qs : ndarray (Q,) float64
        Percentiles in [0, 100], linear interpolation between order statistics (as
        ``numpy.percentile``'s default method).

    Returns
    -------
    ndarray (Q + 3, n_cells) float64
        Rows: the Q percentiles, then mean, sd (ddof=1; NaN when fewer than 2), count.
    """
    n, m = cube.shape
    nq = qs.shape[0]
    out = np.full((nq + 3, m), np.nan)
    n_blocks = (m + _BLOCK - 1) // _BLOCK
    for blk in prange(n_blocks):
        _block_stats(cube, qs, out, blk)
    return out


@njit(cache=True, nogil=True)
def column_stats_serial(cube, qs):
    """:func:`column_stats_parallel` on one thread."""
    n, m = cube.shape
    nq = qs.shape[0]
    out = np.full((nq + 3, m), np.nan)
    for blk in range((m + _BLOCK - 1) // _BLOCK):
        _block_stats(cube, qs, out, blk)
    return out


@njit(cache=True, nogil=True)
def _block_stats(cube, qs, out, blk):
    """Statistics of the columns of block ``blk`` (``_BLOCK`` columns gathered draw by draw)."""
    n, m = cube.shape
    i0 = blk * _BLOCK
    i1 = min(i0 + _BLOCK, m)
    nc = i1 - i0
    bufs = np.empty((nc, n))
    counts = np.zeros(nc, dtype=np.int64)
    sums = np.zeros(nc)
    lows = np.full(nc, np.inf)
    highs = np.full(nc, -np.inf)
    for d in range(n):  # row by row: contiguous reads; NaN dropped; sums in draw order
        for c in range(nc):
            v = np.float64(cube[d, i0 + c])
            if v == v:
                bufs[c, counts[c]] = v
                counts[c] += 1
                sums[c] += v
                lows[c] = min(lows[c], v)
                highs[c] = max(highs[c], v)
    ks = np.empty(qs.shape[0], dtype=np.int64)
    for c in range(nc):
        _cell_stats(bufs[c, :counts[c]], qs, out, i0 + c, sums[c], lows[c], highs[c], ks)


@njit(cache=True)
def _cell_stats(b, qs, out, i, s, lo_v, hi_v, ks):
    """Statistics of one cell's non-NaN values ``b`` (their sum ``s`` in order, minimum and
    maximum) into column ``i`` of ``out``; ``ks`` is scratch of length Q."""
    nq = qs.shape[0]
    k = b.shape[0]
    out[nq + 2, i] = k
    if k == 0:
        return
    mean = s / k
    ss = 0.0
    for d in range(k):
        ss += (b[d] - mean) ** 2
    out[nq, i] = mean
    if k > 1:
        out[nq + 1, i] = np.sqrt(ss / (k - 1))
    if lo_v == hi_v:  # constant cell (e.g. a region with no production): no selection needed
        for j in range(nq):
            out[j, i] = lo_v
        return
    # order statistics needed: the lower neighbour ``lo`` of each percentile position is
    # selected in place (each selection within the segment left between already-selected
    # ones); its upper neighbour ``lo + 1`` is then the minimum of the segment after ``lo``
    nk = 0  # distinct lower positions, ascending (insertion into the sorted prefix)
    for j in range(nq):
        kj = int(np.floor(qs[j] / 100.0 * (k - 1)))
        p = nk
        while p > 0 and ks[p - 1] > kj:
            p -= 1
        if p > 0 and ks[p - 1] == kj:
            continue
        for q in range(nk, p, -1):
            ks[q] = ks[q - 1]
        ks[p] = kj
        nk += 1
    _multiselect(b, ks[:nk], 0, nk, 0, k)
    for j in range(nq):
        pos = qs[j] / 100.0 * (k - 1)
        lo = int(np.floor(pos))
        frac = pos - lo
        v_lo = b[lo]
        if frac == 0.0 or lo + 1 >= k:
            out[j, i] = v_lo
            continue
        # the segment after lo ends at the next selected position (inclusive)
        stop = k - 1
        for q in range(nk):
            if ks[q] > lo:
                stop = ks[q]
                break
        v_hi = b[lo + 1]
        for q in range(lo + 2, stop + 1):
            if b[q] < v_hi:
                v_hi = b[q]
        out[j, i] = v_lo + frac * (v_hi - v_lo)


@njit(cache=True)
def _multiselect(a, ks, k0, k1, lo, hi):
    """Place the order statistics ks[k0:k1] (sorted, inside [lo, hi)) at their positions.

    Divide and conquer with an explicit stack: select the middle one, then the left ones
    within [lo, k) and the right ones within (k, hi).
    """
    stack = np.empty((2 * ks.shape[0] + 2, 4), dtype=np.int64)
    top = 0
    stack[0, 0], stack[0, 1], stack[0, 2], stack[0, 3] = k0, k1, lo, hi
    top = 1
    while top > 0:
        top -= 1
        k0, k1, lo, hi = stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3]
        if k0 >= k1:
            continue
        mid = (k0 + k1) // 2
        k = ks[mid]
        _select(a, k, lo, hi)
        stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3] = k0, mid, lo, k
        top += 1
        stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3] = mid + 1, k1, k + 1, hi
        top += 1


@njit(cache=True)
def _select(a, k, lo, hi):
    """In-place quickselect: a[k] becomes the value it would have if a[lo:hi] were sorted.

    Partitions without data-dependent branches (Lomuto's scheme with the swap done
    unconditionally and the boundary advanced by the comparison's 0 or 1): on random data a
    branching partition mispredicts about every other comparison, which made selection most
    of a summary's time. When the wanted position is not below the pivot's, a second pass
    gathers the values equal to the pivot next to it, so that long runs of equal values
    (capacities, prices at a floor) end the search at once.
    """
    hi -= 1
    while hi > lo:
        m = (lo + hi) // 2  # median-of-three pivot
        if a[m] < a[lo]:
            a[m], a[lo] = a[lo], a[m]
        if a[hi] < a[lo]:
            a[hi], a[lo] = a[lo], a[hi]
        if a[hi] < a[m]:
            a[hi], a[m] = a[m], a[hi]
        pivot = a[m]
        # [lo, lt) < pivot
        lt = lo
        for i in range(lo, hi + 1):
            v = a[i]
            a[i] = a[lt]
            a[lt] = v
            lt += v < pivot
        if k < lt:
            hi = lt - 1
            continue
        # [lt, le) == pivot, [le, hi] > pivot
        le = lt
        for i in range(lt, hi + 1):
            v = a[i]
            a[i] = a[le]
            a[le] = v
            le += v == pivot
        if k >= le:
            lo = le
        else:
            return


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
