"""Executors: where a sweep's runs are computed.

An executor is chosen by name (``--executor``, ``run_sweep(executor=...)``). Each is a factory
registered with :func:`register_executor`, the built-in ones included: ``local`` (this process
for one worker, else a pool of processes on this machine) and ``dask`` (a Dask cluster). A
factory ``factory(workers, options)`` returns a context manager whose ``with`` yields a
``concurrent.futures``-style executor: an object whose ``submit(function, *args)`` returns a
:class:`concurrent.futures.Future`, such as a :class:`concurrent.futures.Executor`. It may also
have

- ``workers``: how many calls it computes at once (default: the ``workers`` asked for), and
- ``check()``: called every :data:`POLL` seconds while no call finishes; it raises
  :class:`ExecutorError` when the executor can no longer compute them (a cluster without workers).

Entering it starts or connects to what it needs and writes nothing; leaving it stops what it
started. A new one::

    @register_executor("threads")
    def threads(workers, options):
        \"\"\"Threads of this process.\"\"\"
        options.refuse_scheduler("threads")
        return concurrent.futures.ThreadPoolExecutor(workers)

:func:`open_executor` opens an executor by name as a :class:`Pool`, which keeps at most two
calls per worker in flight, so that a sweep's memory stays flat in its number of runs.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent import futures
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from time import perf_counter
from types import MappingProxyType
from typing import Any, TypeVar

from simsolidarity.errors import ExecutorError, SimsolidarityError, shown
from simsolidarity.registry import check_name, check_registration
from simsolidarity.running.scenario import suggestion

#: Seconds a Dask sweep waits while its cluster has no worker before it stops (``--worker-timeout``).
DASK_NO_WORKER_TIMEOUT = 60.0
#: Seconds between two looks at an executor (its ``check()``) while no call finishes.
POLL = 1.0

Item = TypeVar("Item")


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system tells it, else every core.

    ``os.cpu_count()`` counts the host's cores, which a container or a task set (``taskset``,
    a batch scheduler) may not let this process use: one worker per core it cannot use only adds
    contention.
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


@dataclass(frozen=True)
class ExecutorOptions:
    """What a sweep passes on to its executor's factory beside the number of workers.

    Attributes:
        scheduler: the address of a cluster's scheduler, such as ``tcp://host:8786``, or
            ``None``. An executor that takes none refuses one (:meth:`refuse_scheduler`).
        no_worker_timeout: seconds an executor on a cluster waits while the cluster has no
            worker before it stops the sweep.
    """

    scheduler: str | None = None
    no_worker_timeout: float = DASK_NO_WORKER_TIMEOUT

    def refuse_scheduler(self, executor: str) -> None:
        """Raise :class:`SimsolidarityError` if a scheduler was given to ``executor``, which takes none."""
        if self.scheduler is not None:
            raise SimsolidarityError(
                f"--scheduler {shown(self.scheduler)}: the {executor} executor takes no scheduler; "
                "use --executor dask to run on a Dask cluster"
            )


#: Makes an executor: ``factory(workers, options)``, a context manager that yields it.
ExecutorFactory = Callable[[int, ExecutorOptions], AbstractContextManager[Any]]

#: The registered executors' factories by name.
EXECUTORS: dict[str, ExecutorFactory] = {}
#: The built-in ones (empty until they are registered below); replacing one takes ``replace=True``.
BUILT_IN_EXECUTORS: Mapping[str, ExecutorFactory] = MappingProxyType({})


def register_executor(
    name: str, factory: ExecutorFactory | None = None, *, replace: bool = False
) -> ExecutorFactory | Callable[[ExecutorFactory], ExecutorFactory]:
    """Register ``factory`` as the executor ``name``; returns it. Without ``factory``, a decorator that registers.

    Args:
        name: the name that ``--executor`` and ``run_sweep(executor=...)`` give; a non-empty string.
        factory: ``factory(workers, options)``, a context manager that yields the executor (see
            the module's description); ``options`` is an :class:`ExecutorOptions`. Its docstring's
            first line says what the executor is, in ``--help``.
        replace: allow taking a name already registered to another factory, the built-in ones
            (``local``, ``dask``) included.

    Registering the same definition again under its name (same module and qualified name)
    replaces it without ``replace``.

    Raises:
        SimsolidarityError: for a name that is not a non-empty string, a factory that is not
            callable, and, without ``replace``, a name taken by a built-in executor or by another
            factory.
    """
    check_name(name, kind="executor")

    def register(function: ExecutorFactory) -> ExecutorFactory:
        if not callable(function):
            raise SimsolidarityError(
                f"executor {name!r} must be a factory(workers, options) of executors, not {shown(function)}"
            )
        check_registration(name, function, EXECUTORS.get(name), built_in=name in BUILT_IN_EXECUTORS,
                           kind="executor", replace=replace)
        EXECUTORS[name] = function
        return function

    return register if factory is None else register(factory)


def executor_factory(name: str) -> ExecutorFactory:
    """The factory registered as ``name``.

    Raises:
        SimsolidarityError: for a name no executor is registered as, suggesting the nearest one.
    """
    if not isinstance(name, str) or name not in EXECUTORS:
        raise SimsolidarityError(f"--executor {shown(name)}: unknown executor{suggestion(name, list(EXECUTORS))}; "
                                 f"registered: {', '.join(EXECUTORS)}")
    return EXECUTORS[name]


# --- a sweep's view of an open executor ----------------------------------------------------------


@dataclass(frozen=True)
class Pool:
    """An open executor: where calls go, how many it computes at once, and how the wait checks on it.

    Attributes:
        name: the executor's registered name, for messages.
        executor: what the factory's ``with`` yielded.
        workers: how many calls it computes at once.
    """

    name: str
    executor: Any
    workers: int

    def submit(self, function: Callable[..., Any], *args: Any) -> futures.Future:
        """``function(*args)`` on the executor, as a future."""
        return self.executor.submit(function, *args)

    def check(self) -> None:
        """The executor's own ``check()``, if it has one: raises :class:`ExecutorError` when it cannot go on."""
        check = getattr(self.executor, "check", None)
        if check is not None:
            check()

    def _first(self, pending: set[futures.Future]) -> set[futures.Future]:
        """Wait for the first of ``pending`` to finish, checking on the executor every :data:`POLL` seconds."""
        while True:
            done, _ = futures.wait(pending, timeout=POLL, return_when=futures.FIRST_COMPLETED)
            if done:
                return done
            self.check()

    def _refuse_cancelled(self, future: futures.Future) -> None:
        # Only an executor that stops cancels a call (a cluster that lost its scheduler): its check
        # says why where it can.
        if future.cancelled():
            self.check()
            raise ExecutorError(f"the {self.name} executor cancelled the sweep's runs")

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` where the executor computes, waiting with the checks of :meth:`bounded`.

        Raises:
            ExecutorError: when the executor stops, or its worker processes cannot start.
        """
        future = self.submit(function, *args)
        self._first({future})
        self._refuse_cancelled(future)
        try:
            return future.result()
        except BrokenProcessPool as error:
            raise ExecutorError(f"the worker processes could not start ({error})") from None

    def bounded(self, function: Callable[[Item], Any], items: Iterable[Item]) -> Iterator[tuple[Item, futures.Future]]:
        """``function(item)`` for each item, at most two per worker in flight; yields each item with its
        finished future, as they finish.

        What has finished is handed back before more is submitted, so an executor that computes a
        call as it is submitted (one worker, in this process) hands back each before the next.
        A future that failed is yielded as it is, for the caller to record; an executor that stops
        (its processes died, it cancelled the calls, its ``check()`` raised) stops the iteration
        with :class:`ExecutorError`.
        """
        queue = iter(items)
        end = object()
        following: Any = next(queue, end)
        in_flight: dict[futures.Future, Item] = {}
        while in_flight or following is not end:
            if following is not end and len(in_flight) < 2 * self.workers and not any(f.done() for f in in_flight):
                in_flight[self.submit(function, following)] = following
                following = next(queue, end)
                continue
            for future in self._first(set(in_flight)):
                self._refuse_cancelled(future)
                if isinstance(future.exception(), BrokenProcessPool):
                    raise ExecutorError(
                        "a worker process died during a run (killed by the system, perhaps for lack of memory)"
                    ) from None
                yield in_flight.pop(future), future


@contextlib.contextmanager
def open_executor(name: str, workers: int, options: ExecutorOptions | None = None) -> Iterator[Pool]:
    """Open the executor registered as ``name`` for the block; starting or connecting to it writes nothing.

    Args:
        name: a registered executor (:data:`EXECUTORS`).
        workers: how many calls it should compute at once, 1 or more.
        options: passed on to the factory (default: no scheduler, the default no-worker timeout).

    Raises:
        SimsolidarityError: for an unknown name, or options the executor refuses.
    """
    factory = executor_factory(name)
    with factory(workers, options or ExecutorOptions()) as executor:
        yield Pool(name, executor, max(int(getattr(executor, "workers", workers)), 1))


# --- local: this process, or processes on this machine ---------------------------------------------


class InProcess(futures.Executor):
    """One worker: each call computed in this process as it is submitted."""

    workers = 1

    def submit(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> futures.Future:
        future: futures.Future = futures.Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(function(*args, **kwargs))
        except Exception as error:  # noqa: BLE001 - the future carries it, as a pool's would
            future.set_exception(error)
        return future


def _exit_with_parent(lifeline: Connection) -> None:
    """Worker initializer: end this process as soon as the sweep's process ends, however it ends.

    The sweep holds the sending end of ``lifeline`` and never sends; when it dies (even by
    SIGKILL) the kernel closes that end, the read below returns EOF, and the worker exits instead
    of computing runs nobody will collect (its pool's fork server and resource tracker then end too).
    """

    def watch() -> None:
        try:
            lifeline.recv_bytes()
        except (EOFError, OSError):
            pass
        os._exit(1)

    threading.Thread(target=watch, name="simsolidarity-lifeline", daemon=True).start()


class LocalProcesses:
    """A pool of worker processes on this machine, which exit when the sweep's process does."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def __enter__(self) -> LocalProcesses:
        # An explicit context, never the process-wide default, so that a sweep behaves the same from a
        # script, from Jupyter, and after mesa.batch_run has set the default to 'spawn'. Where it exists,
        # 'forkserver' starts workers from a clean server that has already imported the model and loaded
        # its compiled kernels (fast and thread-safe); elsewhere 'spawn'.
        if "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["simsolidarity.running.worker"])
        else:
            context = multiprocessing.get_context("spawn")
        # Workers start when runs are submitted, each taking a copy of the receiving end.
        self._receiving, self._lifeline = context.Pipe(duplex=False)
        self._pool = futures.ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=_exit_with_parent, initargs=(self._receiving,)
        )
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        # On an error or Ctrl-C, runs not yet started are dropped rather than computed for nothing.
        self._pool.shutdown(wait=True, cancel_futures=kind is not None)
        self._lifeline.close()
        self._receiving.close()

    def submit(self, function: Callable[..., Any], /, *args: Any) -> futures.Future:
        """``function(*args)`` in a worker process."""
        return self._pool.submit(function, *args)


@register_executor("local")
def local_processes(workers: int, options: ExecutorOptions) -> AbstractContextManager[Any]:
    """Processes on this machine (one worker: this process)."""
    options.refuse_scheduler("local")
    return InProcess() if workers == 1 else LocalProcesses(workers)


# --- dask: a Dask cluster --------------------------------------------------------------------------


#: The loggers of Dask's client side that report a lost scheduler with tracebacks, silenced during a sweep.
QUIET_DASK_LOGGERS = ("distributed.client", "distributed.batched", "distributed.comm", "distributed.core")


@contextlib.contextmanager
def _silenced(logger: str) -> Iterator[None]:
    """Only critical messages from ``logger`` for the block."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


class DaskCluster:
    """Runs on a Dask cluster: the one at ``scheduler``, or a local one started for the sweep.

    A sweep whose cluster has had no worker for ``no_worker_timeout`` seconds (all of them died or
    were stopped), or whose client lost its scheduler, stops with :class:`ExecutorError`; its
    folder keeps every finished run, to resume.
    """

    def __init__(self, workers: int, scheduler: str | None, no_worker_timeout: float) -> None:
        self.workers, self.scheduler, self.no_worker_timeout = workers, scheduler, no_worker_timeout
        self._without_workers: float | None = None  # when a look first found no worker
        self._last_look = 0.0

    def __enter__(self) -> DaskCluster:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise SimsolidarityError(
                "the dask executor needs Dask distributed: pip install -e '.[distributed]'"
            ) from None
        with contextlib.ExitStack() as stack:
            # A client that loses its scheduler logs each failed reconnection, and its closed
            # connections, with tracebacks; the sweep says what happened itself, in one line.
            for logger in QUIET_DASK_LOGGERS:
                stack.enter_context(_silenced(logger))
            if self.scheduler:
                try:
                    self._client = Client(self.scheduler, timeout="10s")
                except (OSError, TimeoutError, ValueError) as error:
                    raise SimsolidarityError(f"--scheduler {self.scheduler}: cannot connect ({error})") from None
            else:
                cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
                stack.callback(cluster.close)
                self._client = Client(cluster)
            stack.callback(self._client.close)
            self._resources = stack.pop_all()  # closed in __exit__: the client, the cluster, the logger
        # pure=False: every submission is computed, never served from Dask's cache of equal calls.
        self._executor = self._client.get_executor(pure=False)
        return self

    def __exit__(self, *exc: object) -> None:
        self._resources.close()

    def submit(self, function: Callable[..., Any], /, *args: Any) -> futures.Future:
        """``function(*args)`` on a worker of the cluster."""
        return self._executor.submit(function, *args)

    def _has_workers(self) -> bool:
        try:
            return bool(self._client.scheduler_info()["workers"])
        except Exception:  # noqa: BLE001 - a scheduler that cannot answer has no worker for us
            return False

    def check(self) -> None:
        """Stop the sweep when the client has lost its scheduler, or the cluster has had no worker
        at every look for ``no_worker_timeout`` seconds.

        Looks more than two polls apart (runs finished between them) start the count again.
        """
        if self._client.status != "running":
            where = self.scheduler or "of the local cluster"
            raise ExecutorError(f"the Dask cluster stopped the sweep's runs: the connection to the scheduler "
                                f"{where} was lost")
        looked = perf_counter()
        if self._has_workers():
            self._without_workers = None
        elif self._without_workers is None or looked - self._last_look > 2 * POLL:
            self._without_workers = looked
        elif looked - self._without_workers > self.no_worker_timeout:
            raise ExecutorError(
                f"the Dask cluster has had no worker for {self.no_worker_timeout:g} s "
                f"(--worker-timeout); every worker is gone"
            )
        self._last_look = perf_counter()


@register_executor("dask")
def dask_cluster(workers: int, options: ExecutorOptions) -> AbstractContextManager[Any]:
    """A Dask distributed cluster: the one at --scheduler, or a local one started for the sweep."""
    return DaskCluster(workers, options.scheduler, options.no_worker_timeout)


#: The executors this module defines, by name: replacing one takes ``replace=True``.
BUILT_IN_EXECUTORS = MappingProxyType(dict(EXECUTORS))
