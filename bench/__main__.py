"""``python -m bench`` (``make bench``): every benchmark, each against its baseline.

python -m bench                 everything, the million-row scale step included
python -m bench --quick         a short smoke run (small counts; used by a test)
python -m bench --no-million    skip the 1,000,000-number step
python -m bench --only policy,http     (policy, http, scale, propagation, startup)
python -m bench --no-pg         SQLite only
python -m bench --json F        also write the figures as JSON to F
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from . import machine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--no-million", action="store_true", help="skip the million-row step")
    parser.add_argument("--only", default="policy,http,scale,propagation,startup")
    parser.add_argument("--no-pg", action="store_true", help="skip every PostgreSQL step")
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    if args.no_pg:
        from . import servers

        servers.PG_DISABLED = True
        only.discard("scale")
        only.discard("propagation")

    info = machine.describe()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items() if k != "versions"))
    print("versions: " + info["versions"])
    results: dict[str, Any] = {"machine": info, "quick": args.quick}
    started = time.perf_counter()
    if "policy" in only:
        from . import policy

        results["policy"] = policy.run(args.quick)
    if "http" in only:
        from . import http

        results["http"] = http.run(args.quick)
    if "scale" in only:
        from . import scale

        results["scale"] = scale.run(args.quick, million=not args.no_million)
    if "propagation" in only:
        from . import propagation

        results["propagation"] = propagation.run(args.quick)
    if "startup" in only:
        from . import startup

        results["startup"] = startup.run(args.quick)
    print(f"done in {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
