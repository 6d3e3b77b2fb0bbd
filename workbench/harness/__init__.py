"""Run (model, client, workload) cells, each in a fresh worker process, and collect results."""
