"""Numba kernels: pure functions of arrays, no I/O, no pandas, no random draws.

- :mod:`simsrc.kernels.equilibrium`: one market clearing in levels (semismooth Newton);
- :mod:`simsrc.kernels.welfare`: closed-form surplus, revenues, rents, fiscal cost;
- :mod:`simsrc.kernels.events`: event state paths;
- :mod:`simsrc.kernels.dynamics`: the period loop over draws.

Numba's on-disk cache (``cache=True``) is keyed on the file that defines a function, not on the
functions it calls in other modules: after an edit of ``equilibrium.py`` the cached
``dynamics.simulate`` would still hold machine code compiled against the old solver (wrong
numbers, or a crash when a workspace layout changed). On import, this package therefore
hashes the sources of all its modules and, when the hash differs from the one recorded in the
cache directory, deletes the package's cache files so every kernel is recompiled against the
current code. Nothing happens when the sources are unchanged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: Compiler options of kernel functions that allocate nothing and return no array (the solver,
#: welfare and per-period functions; ``@njit(**LEAF)``). Numba counts references to every array
#: a function holds, and each array view it takes (``ws[1][k]``, ``sigma[s]``) costs an atomic
#: increment and decrement, which its pruning pass left in place in the solver's functions (242
#: such calls in the Jacobian's machine code). They unpack dozens of views of their workspace per
#: call: about 0.4 us per call of the Jacobian before this option, 10-13% of a cold solve. Without
#: allocations every array such a function sees is owned by its caller for the whole call, so
#: reference counting can be left out (numba's ``_nrt`` target option; numba refuses to compile
#: an allocation or a returned view in such a function, and a test checks that no compiled
#: ``LEAF`` function returns an array). Arithmetic is unchanged: results are bit-identical.
LEAF = dict(cache=True, error_model="numpy", _nrt=False)

_HERE = Path(__file__).resolve().parent
#: File in the numba cache directory holding the hash of the kernel sources it was built from.
STAMP_NAME = "simsrc-kernels-sources.sha256"


def sources_digest() -> str:
    """SHA-256 of the names and contents of this package's ``*.py`` files and of
    ``simsrc/outputs.py``, whose registry fixes the kernel's output rows."""
    h = hashlib.sha256()
    for p in sorted(_HERE.glob("*.py")) + [_HERE.parent / "outputs.py"]:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _cache_dirs() -> list[Path]:
    """The directory where numba keeps this package's cache files (as numba locates it)."""
    try:
        from numba.core import caching

        def _probe():  # a function "defined" in this package, for the locators
            return None

        for cls in caching.CacheImpl._locator_classes:  # numba uses the first that applies
            try:
                loc = cls.from_function(_probe, str(_HERE / "equilibrium.py"))
            except Exception:  # a locator that does not apply here
                continue
            if loc is not None:
                return [Path(loc.get_cache_path())]
        return [_HERE / "__pycache__"]
    except Exception:  # numba internals changed: fall back to the in-tree cache
        return [_HERE / "__pycache__"]


def invalidate_stale_caches() -> int:
    """Delete this package's numba cache files if they were built from other sources.

    Returns the number of files deleted.
    """
    digest = sources_digest()
    modules = {p.stem for p in _HERE.glob("*.py")}
    deleted = 0
    for d in _cache_dirs():
        stamp = d / STAMP_NAME
        try:
            if stamp.read_text() == digest:
                continue
        except OSError:
            pass
        if d.is_dir():
            for f in d.iterdir():
                if f.suffix in (".nbi", ".nbc") and f.name.split(".", 1)[0] in modules:
                    try:
                        f.unlink()
                        deleted += 1
                    except OSError:
                        pass
        try:
            d.mkdir(parents=True, exist_ok=True)
            stamp.write_text(digest)
        except OSError:
            pass
    return deleted


invalidate_stale_caches()
