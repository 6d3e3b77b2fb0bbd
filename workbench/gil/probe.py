"""`python -m workbench.gil.probe N`: run GIL claim N's experiment in this fresh interpreter and
print one JSON line. Needs only the standard library and this package on the path, so it runs under
any CPython the user points `--python` at, installed packages or not."""

from __future__ import annotations

import json
import sys

from workbench.gil.claims import claim
from workbench.metadata import interpreter


def main() -> int:
    number = int(sys.argv[1])
    measurements = claim(number).measure()
    # After the experiment: importing an extension can switch a free-threaded build's GIL back on.
    print(
        json.dumps(
            {"experiment": number, "measurements": measurements, "interpreter": interpreter()}
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
