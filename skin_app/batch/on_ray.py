"""The batch run on Ray Data: the photos as a dataset, ``map_batches`` over a fixed pool of actors,
each one ``batch.Analyzer`` (one loaded model, its thread count set explicitly), the records streamed
back to the caller, who commits them (``batch.run_batch``).

The same code runs on a Ray started in this process (the default: a private local instance, never an
existing one by accident) and on a cluster (``address``: ``ray://HOST:PORT`` or ``auto``). On a
cluster every node needs SkinGorithm and its model files installed as here, and the photo paths must
name the same files on every node (a shared folder): the actors read the photos themselves.

Ray is an optional extra (``requirements-batch.txt``); ``available()`` says whether it is installed.
"""
from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

from skin_app.batch.run import Analyzer, BatchError, worker_env

BATCH_SIZE = 4              # photos per actor call: small, so progress is smooth and a crash loses little
INSTALL_HINT = "pip install -r requirements-batch.txt"


def available() -> bool:
    return importlib.util.find_spec("ray") is not None


def ray_records(todo: list[tuple[str, str]], view: str, workers: int | None = None, threads: int = 1,
                address: str | None = None) -> Iterator[list[str]]:
    """``analyze --json`` lines of ``todo`` ((photo, path) pairs), a batch at a time, in no set order.
    ``workers``: actors (default: the cluster's CPUs / ``threads``); ``address``: None for a private
    local Ray with ``workers * threads`` CPUs (at least this machine's)."""
    import ray

    env = worker_env(threads)
    init: dict[str, Any] = {"address": address or "local", "include_dashboard": False, "log_to_driver": False,
                            "logging_level": logging.ERROR, "runtime_env": {"env_vars": env}}
    if address is None:
        init["num_cpus"] = max(os.cpu_count() or 1, (workers or 1) * threads)
    # Ray prints on the driver's stdout (start-up lines, "(raylet) ..." notes when actors stop): while it
    # runs, stdout is stderr, so stdout stays clean for machine output (``--jsonl -`` writes after).
    with contextlib.redirect_stdout(sys.stderr):
        try:
            ray.init(**init)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise BatchError(f"Could not connect to Ray at {address}: {exc}",
                             "Check the address (ray://HOST:10001 or auto) and that the cluster is running.",
                             "ray_connect") from exc
        try:
            import ray.data
            logging.getLogger("ray.data").setLevel(logging.ERROR)
            ctx = ray.data.DataContext.get_current()
            ctx.enable_progress_bars = False                 # the batch draws its own
            ctx.print_on_execution_start = False
            if workers is None:
                workers = max(1, int(ray.cluster_resources().get("CPU", 1) // threads))
            workers = max(1, min(workers, -(-len(todo) // BATCH_SIZE)))
            ds = ray.data.from_items([{"photo": p, "path": a} for p, a in todo]).map_batches(
                Analyzer, fn_constructor_kwargs={"view": view, "threads": threads}, batch_size=BATCH_SIZE,
                batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=threads)
            for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
                yield [str(line) for line in batch["record"]]
        finally:
            ray.shutdown()
