"""The GIL lab's experiments on a Dask cluster's hosts, all at once (one per host at a time)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

from workbench.cluster import tasks
from workbench.cluster.engine import connect, hosts_of, normalise_address, require_distributed
from workbench.errors import RunFailed, UsageError
from workbench.gil.lab import Experiments


def experiments_on_cluster(address: str, own_python: bool) -> Experiments:
    """A way for the GIL lab to run its experiments on the cluster's hosts, all at once (one per
    host at a time). With `own_python`, each host runs them under its worker's interpreter;
    otherwise under the paths given, which every host must have."""
    require_distributed()
    target = normalise_address(address)

    @contextlib.contextmanager
    def run(pairs: list[tuple[str, int]]) -> Iterator[Iterator[Any]]:
        with connect(target) as client:
            hosts_of(client, target, [], [] if own_python else sorted({p for p, _ in pairs}))
            run_id = f"workbench-{uuid.uuid4().hex[:12]}"
            futures = {
                client.submit(
                    tasks.experiment_task,
                    None if own_python else python,
                    number,
                    key=f"{run_id}-g{i}",
                    resources={"cell": 1},
                    pure=False,
                ): (python, number)
                for i, (python, number) in enumerate(pairs)
            }

            def finished() -> Iterator[Any]:
                from distributed import as_completed

                for future in as_completed(list(futures), loop=client.loop):
                    python, number = futures[future]
                    try:
                        answer = future.result()
                    except (RunFailed, UsageError):
                        raise
                    except Exception as exc:
                        reason = f"GIL experiment {number} failed on a host: {exc}"
                        raise RunFailed(reason) from None
                    yield python, number, answer["doc"], answer["host"]

            try:
                yield finished()
            finally:
                with contextlib.suppress(Exception):
                    client.cancel(list(futures), force=True)

    return run
