"""Where batches run: worker processes on this machine, or actors on Ray.

Both engines load the model once per worker and keep a bounded number of
batches in flight (so a 100,000-article input is never all in memory); results
come back in completion order, each as ``(outcomes, worker pid, worker peak RSS)``.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Iterable, Iterator

from ..errors import SlantError
from .records import Record
from .work import Outcome, analyse_batch, init_worker

__all__ = ["Engine", "LocalEngine", "RayEngine", "make_engine", "default_workers", "local_workers", "EngineError"]

Result = tuple[list[Outcome], int, int]
IN_FLIGHT_PER_WORKER = 2


class EngineError(SlantError):
    """A worker died or the engine could not start; what was committed stays, rerun to resume."""


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def local_workers(requested: int) -> int:
    """The worker processes ``requested`` of the local engine can have: one per CPU this process may run on at
    most. Each holds the model (150-300 MB) and analysis is CPU-bound, so more cost memory and give no speed:
    ``--workers 500`` on a laptop would have grown to 500 processes, 100 GB or more."""
    return min(requested, default_workers())


class Engine:
    name = "engine"

    def __init__(self, model: str | None, workers: int, threads: int | None):
        self.model = model
        self.workers = workers
        # each worker gets its share of the cores unless told otherwise
        self.threads = threads or max(1, default_workers() // workers)

    def map(self, batches: Iterable[list[Record]]) -> Iterator[Result]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LocalEngine(Engine):
    """``workers`` processes on this machine (spawned, so no state leaks from the parent)."""

    name = "local"

    def __init__(self, model: str | None, workers: int, threads: int | None = None, thresholds: str = "micro",
                 fetch_options: dict | None = None):
        import multiprocessing

        super().__init__(model, workers, threads)
        self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=init_worker,
                                        initargs=(model, self.threads, thresholds, fetch_options))

    def map(self, batches: Iterable[list[Record]]) -> Iterator[Result]:
        from concurrent.futures.process import BrokenProcessPool

        it = iter(batches)
        pending: set = set()

        def fill() -> None:
            while len(pending) < self.workers * IN_FLIGHT_PER_WORKER:
                batch = next(it, None)
                if batch is None:
                    return
                pending.add(self.pool.submit(analyse_batch, batch))

        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                pending.discard(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    raise EngineError("a worker process died (out of memory, or killed); what was committed is "
                                      "kept: run the same command again to resume") from None
            fill()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _Analyst:
    """A Ray actor: one worker with its own loaded model."""

    def __init__(self, model: str | None, threads: int, thresholds: str, fetch_options: dict | None):
        init_worker(model, threads, thresholds, fetch_options)

    def run(self, batch: list[Record]) -> Result:
        return analyse_batch(batch)


class RayEngine(Engine):
    """``workers`` Ray actors; a local Ray runtime is started when no ``address`` is given.

    On a cluster every node needs slant installed (``pip install "slant[ray]"``), and a
    ``--model`` folder must exist at the same path on every node."""

    name = "ray"

    def __init__(self, model: str | None, workers: int, threads: int | None = None, address: str | None = None,
                 thresholds: str = "micro", fetch_options: dict | None = None):
        try:
            import ray
        except ImportError:
            raise EngineError('--engine ray needs Ray: pip install "slant[ray]"') from None
        super().__init__(model, workers, threads)
        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            options = dict(include_dashboard=False, logging_level="ERROR", log_to_driver=False)
            try:
                if address:
                    ray.init(address=address, **options)
                else:
                    ray.init(num_cpus=workers, object_store_memory=256 * 1024 * 1024, **options)
            except Exception as ex:  # ConnectionError, RuntimeError, ...: one line, not a trace
                raise EngineError(f"cannot start Ray{' at ' + address if address else ''}: "
                                  f"{str(ex).splitlines()[0] if str(ex) else ex.__class__.__name__}") from None
            self.started = True
        actor = ray.remote(num_cpus=1)(_Analyst)
        self.actors = [actor.remote(model, self.threads, thresholds, fetch_options) for _ in range(workers)]

    def map(self, batches: Iterable[list[Record]]) -> Iterator[Result]:
        ray = self.ray
        it = iter(batches)
        load = {i: 0 for i in range(len(self.actors))}
        pending: dict = {}

        def fill() -> None:
            for i in sorted(load, key=load.get):
                while load[i] < IN_FLIGHT_PER_WORKER:
                    batch = next(it, None)
                    if batch is None:
                        return
                    pending[self.actors[i].run.remote(batch)] = i
                    load[i] += 1

        fill()
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                load[pending.pop(ref)] -= 1
                try:
                    yield ray.get(ref)
                except ray.exceptions.RayError as ex:
                    raise EngineError(f"a Ray worker failed ({ex.__class__.__name__}); what was committed is "
                                      "kept: run the same command again to resume") from None
            fill()

    def close(self) -> None:
        for actor in getattr(self, "actors", []):
            self.ray.kill(actor)
        if self.started:
            self.ray.shutdown()


def make_engine(engine: str, model: str | None, workers: int, threads: int | None = None,
                address: str | None = None, thresholds: str = "micro", fetch_options: dict | None = None) -> Engine:
    if workers < 1:
        raise SlantError(f"--workers must be at least 1, got {workers}")
    if engine == "local":
        if address:
            raise SlantError("--address goes with --engine ray only")
        return LocalEngine(model, workers, threads, thresholds, fetch_options)
    if engine == "ray":
        return RayEngine(model, workers, threads, address, thresholds, fetch_options)
    raise SlantError(f"unknown engine {engine!r} (local or ray)")
