"""Named random streams: chunk invariance, independence of names, distribution."""

import numpy as np
from scipy import stats

from simsrc.sampling import normals, uniforms


def test_chunks_are_bit_identical_to_one_block():
    whole = uniforms(42, "gallium", "demand_shocks", 0, 1000, 7)
    parts = np.vstack([uniforms(42, "gallium", "demand_shocks", a, min(a + 333, 1000), 7)
                       for a in range(0, 1000, 333)])
    assert np.array_equal(whole, parts)


def test_prefix_does_not_depend_on_number_of_draws():
    a = uniforms(1, "cobalt", "x", 0, 10, 3)
    b = uniforms(1, "cobalt", "x", 0, 50, 3)
    assert np.array_equal(a, b[:10])


def test_streams_differ_by_seed_mineral_and_element():
    base = uniforms(7, "nickel", "events.a", 0, 100, 4)
    for other in (uniforms(8, "nickel", "events.a", 0, 100, 4),
                  uniforms(7, "cobalt", "events.a", 0, 100, 4),
                  uniforms(7, "nickel", "events.b", 0, 100, 4)):
        assert not np.array_equal(base, other)
        # no overlap at all in values (independent streams)
        assert len(np.intersect1d(base, other)) == 0


def test_open_interval_and_distribution():
    u = uniforms(3, "lithium", "u", 0, 20000, 5).ravel()
    assert u.min() > 0 and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > 1e-4
    z = normals(3, "lithium", "z", 0, 20000, 5).ravel()
    assert np.all(np.isfinite(z))
    assert stats.kstest(z, "norm").pvalue > 1e-4
