"""simsrc: Monte Carlo simulator of critical-mineral trade policy.

A multi-region partial-equilibrium Armington model (GSIM, Francois & Hall 2003) solved in
levels, with capacity limits, producer price floors, minimum import prices and export caps,
stepped through time over Monte Carlo draws. See docs/model.md.
"""

__version__ = "0.1.0"
