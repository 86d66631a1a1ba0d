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
    bufs = np.empty((i1 - i0, n))
    counts = np.zeros(i1 - i0, dtype=np.int64)
    for d in range(n):  # row by row: contiguous reads; NaN dropped
        for c in range(i1 - i0):
            v = cube[d, i0 + c]
            if v == v:
                bufs[c, counts[c]] = v
                counts[c] += 1
    for c in range(i1 - i0):
        _cell_stats(bufs[c, :counts[c]], qs, out, i0 + c)


@njit(cache=True)
def _cell_stats(b, qs, out, i):
    """Statistics of one cell's non-NaN values ``b`` into column ``i`` of ``out``."""
    nq = qs.shape[0]
    k = b.shape[0]
    out[nq + 2, i] = k
    if k == 0:
        return
    s = 0.0
    for d in range(k):
        s += b[d]
    mean = s / k
    ss = 0.0
    for d in range(k):
        ss += (b[d] - mean) ** 2
    out[nq, i] = mean
    if k > 1:
        out[nq + 1, i] = np.sqrt(ss / (k - 1))
    lo_v, hi_v = b.min(), b.max()
    if lo_v == hi_v:  # constant cell (e.g. a region with no production): no selection needed
        for j in range(nq):
            out[j, i] = lo_v
        return
    # order statistics needed: the lower neighbour ``lo`` of each percentile position is
    # selected in place (each selection within the segment left between already-selected
    # ones); its upper neighbour ``lo + 1`` is then the minimum of the segment after ``lo``
    ks = np.empty(nq, dtype=np.int64)
    for j in range(nq):
        ks[j] = int(np.floor(qs[j] / 100.0 * (k - 1)))
    ks = np.unique(ks)
    _multiselect(b, ks, 0, ks.shape[0], 0, k)
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
        for q in range(ks.shape[0]):
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
    """In-place quickselect: a[k] becomes the value it would have if a[lo:hi] were sorted."""
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
        i, j = lo, hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
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
