"""Event state paths from uniform random numbers (numba; deterministic given inputs).

The uniforms come from :mod:`simsrc.sampling` (drawn in NumPy, one named stream per event);
these kernels only turn them into 0/1 state paths of shape (draws, periods). They are serial
(a few microseconds per chunk): a run calls them from a background thread while the period
loop's parallel kernel runs (:class:`simsrc.engine._ChunksAhead`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Initial state codes of a two-state Markov regime.
INITIAL_OFF = 0
INITIAL_ON = 1
INITIAL_STATIONARY = 2


@njit(cache=True, nogil=True)
def dated_paths(u, prob, period, n_periods):
    """State path of a dated event.

    Parameters
    ----------
    u : ndarray (S,)
        Uniform (0, 1) number per draw.
    prob : ndarray (S,)
        Probability that the event happens, per draw (an uncertain probability is drawn first).
    period : int
        Period index at which it happens (may be < 0: before the horizon, or >= n_periods).
    n_periods : int

    Returns
    -------
    ndarray (S, n_periods) uint8
        1 from ``period`` on in draws where it happens.
    """
    S = u.shape[0]
    out = np.zeros((S, n_periods), dtype=np.uint8)
    first = max(period, 0)
    for s in range(S):
        if u[s] < prob[s]:
            for t in range(first, n_periods):
                out[s, t] = 1
    return out


@njit(cache=True, nogil=True)
def markov_paths(u, p_on, p_off, initial, start, n_periods):
    """State path of a two-state Markov regime (1 = on), switching once per period.

    Parameters
    ----------
    u : ndarray (S, n_periods + 1)
        Uniforms: column 0 draws the initial state, column t + 1 the switch after period t.
    p_on, p_off : ndarray (S,)
        Per-period switch probabilities off -> on and on -> off.
    initial : int
        :data:`INITIAL_OFF`, :data:`INITIAL_ON` or :data:`INITIAL_STATIONARY` (drawn from the
        stationary distribution, P(on) = p_on / (p_on + p_off)).
    start : int
        First period in which the regime runs; before it the state is off.
    n_periods : int

    Returns
    -------
    ndarray (S, n_periods) uint8
    """
    S = u.shape[0]
    out = np.zeros((S, n_periods), dtype=np.uint8)
    first = max(start, 0)
    for s in range(S):
        if initial == INITIAL_ON:
            state = 1
        elif initial == INITIAL_OFF:
            state = 0
        else:
            denom = p_on[s] + p_off[s]
            pi_on = p_on[s] / denom if denom > 0 else 0.0
            state = 1 if u[s, 0] < pi_on else 0
        for t in range(first, n_periods):
            out[s, t] = state
            if state == 1:
                if u[s, t + 1] < p_off[s]:
                    state = 0
            else:
                if u[s, t + 1] < p_on[s]:
                    state = 1
    return out


def negotiation_paths(u, success_prob, deadline_period, n_periods):
    """States of a negotiation with a deadline.

    Returns
    -------
    (succeeded, failed) : two ndarrays (S, n_periods) uint8
        Both 0 before the deadline period; from it on, exactly one is 1.
    """
    decided = dated_paths(np.zeros_like(u), np.ones_like(u), deadline_period, n_periods)
    success = (u < success_prob).astype(np.uint8)[:, None]
    return decided * success, decided * (1 - success)
