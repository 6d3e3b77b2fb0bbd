"""Scripted comparisons and benchmarks, each run from the clone's root as `python -m scripts.NAME`
(a package, so that they share `_script` and the figure modules without editing `sys.path`)."""
