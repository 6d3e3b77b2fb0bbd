"""threads: read every file under a directory with a bounded thread pool (the fastest way here).

    python threads_file_read.py DIR --threads 8

File reads release the GIL, so a pool of threads overlaps them; measured here, 8 threads beat 32
and every async file API (which hop to threads anyway). Reads whole files unbuffered.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def read_one(path: Path) -> int:
    with open(path, "rb", buffering=0) as f:  # no userspace buffer: one read for a whole file
        data = f.readall()
    if len(data) != os.stat(path).st_size:
        raise OSError(f"short read of {path}")
    return len(data)


def main(directory: Path, threads: int) -> tuple[int, int, int]:
    paths = [p for p in directory.rglob("*") if p.is_file()]
    ok = failed = nbytes = 0
    with ThreadPoolExecutor(max_workers=threads) as pool:  # the bound on concurrency
        for future in [pool.submit(read_one, p) for p in paths]:
            try:
                nbytes += future.result()
                ok += 1
            except OSError:
                failed += 1
    return ok, failed, nbytes


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("directory", type=Path)
    p.add_argument("--threads", type=int, default=8)
    a = p.parse_args()
    t0 = time.perf_counter()
    try:
        ok, bad, nbytes = main(a.directory, a.threads)
    except KeyboardInterrupt:
        raise SystemExit("interrupted") from None  # running reads finish; queued ones never start
    took = time.perf_counter() - t0
    print(f"summary: {ok} ok, {bad} failed, {nbytes / took / 1e6:.0f} MB/s in {took:.2f}s")
