"""Where tasks run: one interface for the local process and a Dask distributed cluster.

``get_executor(spec)`` takes ``"local"``, ``"dask"`` (a local cluster of 2 single-threaded
worker processes), ``"dask://HOST:PORT"`` (a running scheduler, e.g. one started by
dask-jobqueue on SLURM) or a ``distributed.Client``. ``Executor.map(fn, tasks)`` yields the
results in task order, keeping at most ``window`` tasks in flight on a cluster, so memory stays
bounded and the results are written in the same order whatever the executor (hence identical
results). ``run`` distributes its chunks and ``batch`` its members through it.
"""

from __future__ import annotations

from collections import deque

#: Tasks in flight on a cluster (their results wait in worker memory until consumed).
WINDOW = 8


class LocalExecutor:
    """Runs tasks one after the other in this process."""

    name = "local"

    def map(self, fn, tasks, window: int = WINDOW):
        for t in tasks:
            yield fn(*t)

    def close(self):
        pass


class DaskExecutor:
    """Runs tasks on a Dask distributed cluster; results come back in task order."""

    name = "dask"

    def __init__(self, spec="dask"):
        import os

        from .errors import SimsrcError

        try:
            from distributed import Client
        except ImportError:
            raise SimsrcError("the Dask executor needs the dask extra: pip install 'simsrc[dask]'") from None
        if isinstance(spec, Client):
            self.client, self.own = spec, False
        elif isinstance(spec, str) and spec.startswith("dask://"):
            addr = spec[len("dask://"):]
            timeout = float(os.environ.get("SIMSRC_DASK_TIMEOUT", "10"))
            try:
                self.client, self.own = Client(addr, timeout=f"{timeout}s"), True
            except Exception as exc:  # OSError, TimeoutError, a refused or unresolvable address
                raise SimsrcError(f"cannot reach the Dask scheduler at {addr} within {timeout:g} s "
                                  f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no answer'}); "
                                  "start one (`dask scheduler`) or use --executor local") from None
        else:
            try:
                self.client, self.own = Client(processes=True, n_workers=2, threads_per_worker=1), True
            except Exception as exc:
                raise SimsrcError(f"cannot start a local Dask cluster ({type(exc).__name__}: {exc}); "
                                  "use --executor local") from None

    def map(self, fn, tasks, window: int = WINDOW):
        tasks = iter(tasks)
        pending = deque()

        def submit():
            t = next(tasks, None)
            if t is not None:
                pending.append(self.client.submit(fn, *t, pure=False))

        for _ in range(window):
            submit()
        while pending:
            result = pending.popleft().result()
            submit()
            yield result

    def close(self):
        if self.own:
            self.client.close()


def get_executor(spec="local"):
    """An executor for ``"local"``, ``"dask"``, ``"dask://HOST:PORT"`` or a Client."""
    from .errors import SimsrcError

    if spec in (None, "local"):
        return LocalExecutor()
    if spec == "dask" or (isinstance(spec, str) and spec.startswith("dask://")) or type(spec).__name__ == "Client":
        return DaskExecutor(spec)
    raise SimsrcError(f"executor {spec!r}: use 'local', 'dask' (a local cluster) or 'dask://HOST:PORT'")
