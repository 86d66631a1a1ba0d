"""Event paths: frequencies against their probabilities (within 4 standard errors)."""

import numpy as np

from simsrc.kernels.events import INITIAL_OFF, INITIAL_STATIONARY, dated_paths, markov_paths, negotiation_paths
from simsrc.sampling import uniforms


def test_dated_event_fires_with_its_probability():
    S, p = 20000, 0.37
    u = uniforms(11, "gallium", "events.reinstatement", 0, S, 1)[:, 0]
    paths = dated_paths(u, np.full(S, p), 5, 12)
    assert not paths[:, :5].any()
    fired = paths[:, 5]
    assert np.array_equal(paths[:, 5:].min(axis=1), paths[:, 5:].max(axis=1))  # stays on
    se = np.sqrt(p * (1 - p) / S)
    assert abs(fired.mean() - p) < 4 * se


def test_markov_long_run_share_matches_stationary_probability():
    S, T, p_on, p_off = 4000, 200, 0.1, 0.3
    u = uniforms(5, "__shared__", "events.regime", 0, S, T + 1)
    paths = markov_paths(u, np.full(S, p_on), np.full(S, p_off), INITIAL_STATIONARY, 0, T)
    pi = p_on / (p_on + p_off)
    share = paths.mean(axis=1)  # per draw, long-run share of time on
    # standard error from the spread across independent draws
    se = share.std(ddof=1) / np.sqrt(S)
    assert abs(share.mean() - pi) < 4 * se
    # stationary start: the on-share in the first period is pi too
    assert abs(paths[:, 0].mean() - pi) < 4 * np.sqrt(pi * (1 - pi) / S)


def test_markov_respects_start_and_initial_state():
    u = uniforms(5, "__shared__", "events.r2", 0, 100, 21)
    paths = markov_paths(u, np.full(100, 1.0), np.full(100, 0.0), INITIAL_OFF, 4, 20)
    assert not paths[:, :4].any()
    assert not paths[:, 4].any() and paths[:, 5:].all()


def test_negotiation_outcomes_exclusive_after_deadline():
    S = 10000
    u = uniforms(2, "__shared__", "events.s232", 0, S, 1)[:, 0]
    ok, failed = negotiation_paths(u, np.full(S, 0.4), 2, 8)
    assert not ok[:, :2].any() and not failed[:, :2].any()
    assert np.all(ok[:, 2:] + failed[:, 2:] == 1)
    assert abs(ok[:, -1].mean() - 0.4) < 4 * np.sqrt(0.24 / S)
