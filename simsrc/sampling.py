"""Named random streams keyed by (seed, mineral, element name, draw index).

Every stochastic element of a scenario (a demand-shock process, an uncertain parameter, an
event, a capacity project's delay) has its own stream. The stream's generator is NumPy's
PCG64 seeded by ``SeedSequence(seed, spawn_key=(key(mineral), key(element)))``; draw ``d``
owns the block of ``width`` consecutive 64-bit outputs starting at ``d * width``, reached
with ``PCG64.advance``. Hence:

- a draw's numbers depend only on the seed, the mineral, the element's name, the draw index
  and the element's own width -- never on chunk size, thread count, executor or on which
  other policies exist (common random numbers across scenarios);
- a chunk of draws ``[start, stop)`` is generated without generating the draws before it.

Uniforms are on the open interval (0, 1) (53-bit, centred), so inverse CDFs never see 0 or 1.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy.special import ndtri

#: Scale of a 53-bit integer to (0, 1).
_TWO_M53 = 2.0 ** -53

#: Name of the shared mineral key for elements that are common to all minerals (e.g. an
#: event such as a negotiation outcome, which must be the same in every market of a draw).
SHARED = "__shared__"


def name_key(name: str) -> int:
    """A stable 32-bit integer for a name (first 4 bytes of its BLAKE2b digest)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=4).digest(), "little")


def seed_sequence(seed: int, mineral: str, element: str) -> np.random.SeedSequence:
    """The SeedSequence of one named stream.

    Parameters
    ----------
    seed : int
        The scenario seed (entropy), >= 0.
    mineral : str
        Mineral code, or :data:`SHARED` for elements common to all markets.
    element : str
        The element's stable name, e.g. ``"demand_shocks"`` or ``"events.section232"``.
    """
    return np.random.SeedSequence(int(seed), spawn_key=(name_key(mineral), name_key(element)))


def uniforms(seed: int, mineral: str, element: str, start: int, stop: int, width: int) -> np.ndarray:
    """Uniform (0, 1) numbers of draws ``start..stop-1`` of one stream.

    Parameters
    ----------
    seed, mineral, element
        Stream key (see :func:`seed_sequence`).
    start, stop : int
        Draw indices, ``0 <= start <= stop``.
    width : int
        Numbers per draw (fixed by the element alone, e.g. periods x regions).

    Returns
    -------
    ndarray, shape (stop - start, width), float64
    """
    n = stop - start
    if n < 0 or start < 0 or width < 0:
        raise ValueError("need 0 <= start <= stop and width >= 0")
    if n == 0 or width == 0:
        return np.zeros((n, width))
    bg = np.random.PCG64(seed_sequence(seed, mineral, element))
    bg.advance(start * width)
    raw = bg.random_raw(n * width)
    u = ((raw >> np.uint64(11)).astype(np.float64) + 0.5) * _TWO_M53
    return u.reshape(n, width)


def normals(seed: int, mineral: str, element: str, start: int, stop: int, width: int) -> np.ndarray:
    """Standard normal numbers of draws ``start..stop-1`` (inverse CDF of :func:`uniforms`)."""
    return ndtri(uniforms(seed, mineral, element, start, stop, width))
