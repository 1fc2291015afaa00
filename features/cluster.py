"""The Dask cluster a heavy command runs on: ``local`` (a LocalCluster sized to this machine)
or the address of an existing scheduler (``tcp://HOST:8786``)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import dask
from distributed import Client, LocalCluster

from features.scratch import owned_prefix, sweep_abandoned

ROWS_PER_GROUP = 250_000  # claims per member group: a few hundred MB of facts on a worker
SCRATCH_PREFIX = "claimrisk-dask-"  # the spill folder of a local cluster


@contextmanager
def connect(address: str) -> Iterator[Client]:
    """A client of ``address``. ``local``: one single-threaded worker process per core,
    memory shared equally, spilling to a temporary folder before a worker runs out (removed
    on the way out, or by the next ``local`` run when this process was killed)."""
    if address != "local":
        with Client(address) as client:
            yield client
        return
    sweep_abandoned(SCRATCH_PREFIX)
    with (
        tempfile.TemporaryDirectory(prefix=owned_prefix(SCRATCH_PREFIX)) as spill,
        dask.config.set(
            {"distributed.worker.memory.spill": 0.7, "distributed.worker.memory.target": 0.6}
        ),
        LocalCluster(
            n_workers=os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            memory_limit="auto",
            local_directory=spill,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def worker_threads(client: Client) -> dict[str, int]:
    """Threads of each worker, by address."""
    return {
        address: info["nthreads"] for address, info in client.scheduler_info()["workers"].items()
    }


def groups_for(client: Client, claims: int) -> int:
    """How many member groups a history of ``claims`` claims is split into: enough that every
    worker thread has at least two, and no group much above ``ROWS_PER_GROUP`` claims."""
    threads = sum(worker_threads(client).values()) or 1
    return max(2 * threads, -(-claims // ROWS_PER_GROUP))
