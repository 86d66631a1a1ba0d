"""Test-suite settings: hypothesis examples are derived from the test's name (derandomize), so a
property test draws the same markets on every run and machine, and CI cannot fail by chance."""

from hypothesis import settings

settings.register_profile("simsrc", derandomize=True, deadline=None)
settings.load_profile("simsrc")
