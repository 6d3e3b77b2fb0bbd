"""Cells and load on a Dask cluster: `--cluster ADDRESS` on io, net, disk, sweep and gil, `--spread
K` for one target loaded from K hosts at once, and `workbench cluster local` to try it here.

Built on Dask's `distributed` (an optional extra: `pip install 'workbench[cluster]'`), never on a
home-made one: Dask ships the tasks, keeps the workers, balances the cells (one per host at a time,
by the `cell` resource) and re-runs a task whose worker died. What a task does on its host is
what `io` does here: the same fresh worker process per cell, with its own mock server.

- `engine`: the connection and the checks before any cell starts (versions, dependencies, paths).
- `tasks`: what runs on a worker.
- `dispatch`: the parent side, from planned cells to one result document.
- `merge`: a spread cell's hosts combined into one row (pure).
- `local` and `child`: a scheduler and workers on 127.0.0.1.
"""
