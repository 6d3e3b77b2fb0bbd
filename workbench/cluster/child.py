"""`python -m workbench.cluster.child scheduler|worker ARGS`: Dask's own `dask scheduler` or
`dask worker` command, unchanged, in a process that the kernel stops when its owner dies (a
`workbench cluster local` killed with SIGKILL runs no code to stop them)."""

from __future__ import annotations

import sys

from servers.lifetime import die_with_parent


def main() -> None:
    die_with_parent()
    from dask.cli import run_cli

    sys.argv = ["dask", *sys.argv[1:]]
    run_cli()


if __name__ == "__main__":
    main()
