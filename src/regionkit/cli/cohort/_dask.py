"""Dask clusters for ``--dask``: a local cluster, an existing scheduler, or SLURM.

``--dask slurm`` builds a ``dask_jobqueue.SLURMCluster`` (dask-jobqueue is an
optional dependency: ``pip install dask-jobqueue``): each SLURM job runs one
Dask worker process with ``--slurm-cores`` threads, and ``--n-jobs`` jobs are
submitted.
"""

from __future__ import annotations

import contextlib
import logging
import sys

logger = logging.getLogger(__name__)

__all__ = ["dask_client", "slurm_cluster"]


def slurm_cluster(
    *,
    queue: str | None = None,
    account: str | None = None,
    cores: int = 1,
    memory: str = "4GB",
    walltime: str = "01:00:00",
    job_extra: list[str] | None = None,
    local_directory: str | None = None,
    scheduler_host: str | None = None,
):
    """An (unscaled) SLURMCluster whose workers run this Python.

    Parameters
    ----------
    queue, account : str, optional
        SLURM partition (``-p``) and account (``-A``).
    cores : int, default=1
        Cores per SLURM job (one worker process per job, one thread per core).
    memory : str, default="4GB"
        Memory per SLURM job.
    walltime : str, default="01:00:00"
        Time limit per SLURM job.
    job_extra : list of str, optional
        Extra ``#SBATCH`` directives, e.g. ``["--qos=short"]``.
    scheduler_host : str, optional
        Address the scheduler listens on (must be reachable from the compute
        nodes); by default dask's choice of this machine's address.

    Raises
    ------
    ImportError
        dask-jobqueue is not installed, with the command to install it.
    """
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError as error:
        raise ImportError(
            "--dask slurm needs dask-jobqueue: pip install dask-jobqueue"
        ) from error
    return SLURMCluster(
        queue=queue,
        account=account,
        cores=cores,
        processes=1,
        memory=memory,
        walltime=walltime,
        job_extra_directives=list(job_extra or []),
        python=sys.executable,
        local_directory=local_directory,
        scheduler_options={"dashboard_address": None,
                           **({"host": scheduler_host} if scheduler_host else {})},
    )


@contextlib.contextmanager
def dask_client(address: str, n_workers: int, slurm_options: dict | None = None):
    """A ``distributed.Client`` for ``--dask ADDRESS``, closed on exit.

    ``"local"``: a LocalCluster of ``n_workers`` single-threaded worker
    processes on 127.0.0.1; ``"local-threads"``: the same in this process
    (threads); ``"slurm"``: a SLURMCluster scaled to ``n_workers`` jobs;
    anything else: the address of a running scheduler.
    """
    from distributed import Client, LocalCluster

    cluster = None
    if address in ("local", "local-threads"):
        processes = address == "local"
        # worker processes talk over TCP on the loopback; threads stay in-process
        network = {"host": "127.0.0.1"} if processes else {}
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
            **network,
        )
        client = Client(cluster)
    elif address == "slurm":
        cluster = slurm_cluster(**(slurm_options or {}))
        cluster.scale(jobs=n_workers)
        client = Client(cluster)
    else:
        client = Client(address)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
