"""Numba kernels: pure functions of arrays, no I/O, no pandas, no random draws.

- :mod:`simsrc.kernels.equilibrium`: one market clearing in levels (semismooth Newton);
- :mod:`simsrc.kernels.welfare`: closed-form surplus, revenues, rents, fiscal cost;
- :mod:`simsrc.kernels.events`: event state paths.
"""
