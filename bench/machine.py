"""What machine the figures were taken on."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata


def _mem_gib() -> str:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "?"


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _pg_version() -> str:
    try:
        out = subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-tAc",
                "show server_version",
                "postgres",
            ],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return out.stdout.strip() or "?"
    except Exception:
        return "?"


def describe() -> dict[str, str]:
    versions = {}
    for dist in (
        "fastapi",
        "starlette",
        "uvicorn",
        "pydantic",
        "sqlalchemy",
        "psycopg",
        "aiosqlite",
        "pluggy",
        "phonenumbers",
    ):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "-"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": _cpu(),
        "memory": _mem_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "postgresql": _pg_version(),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }
