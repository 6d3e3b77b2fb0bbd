"""A worker process's entry point: `python -m workbench.harness.worker`. It runs one cell (see
`cell_worker`), then exits.

It imports almost nothing before it has read the cell's spec, because some models must change the
standard library before anything else imports it: gevent's monkey-patching has to come before
`socket`, `ssl` and `threading` are used (see `workbench.models.PRELUDES`).
"""

from __future__ import annotations

import json
import os
import sys

from servers.lifetime import die_with_parent


def main() -> None:
    die_with_parent()
    spec_line = sys.stdin.readline()
    if not spec_line:
        os._exit(1)
    from workbench.models import run_prelude

    run_prelude(json.loads(spec_line)["model"])
    from workbench.harness.cell_worker import run

    code = run(spec_line, sys.stdin, sys.stdout)
    sys.stdout.flush()
    sys.stderr.flush()
    # Exit hard: a client thread still blocked past the grace period must not hold the process.
    os._exit(code)


if __name__ == "__main__":
    main()
