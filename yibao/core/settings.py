"""Settings from the environment (YIBAO_*), read once per process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    """Deployment settings; every field has a working default for a laptop."""

    database_url: str
    policy_pack: str
    policy_overlays: str | None
    host: str
    port: int
    var_dir: Path
    workers: int
    db_pool_size: int
    queue_seconds: float
    head_seconds: float
    body_seconds: float
    clock_start: str | None


def _default_var_dir() -> Path:
    return Path(os.environ.get("YIBAO_VAR_DIR", "var")).resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process (cached; tests call ``get_settings.cache_clear()`` after changing env)."""
    var_dir = _default_var_dir()
    return Settings(
        database_url=os.environ.get("YIBAO_DATABASE_URL", f"sqlite:///{var_dir / 'yibao.db'}"),
        policy_pack=os.environ.get("YIBAO_POLICY_PACK", "yunnan"),
        policy_overlays=os.environ.get("YIBAO_POLICY_OVERLAYS"),
        host=os.environ.get("YIBAO_HOST", "127.0.0.1"),
        port=int(os.environ.get("YIBAO_PORT", "8000")),
        var_dir=var_dir,
        # Serving capacity (assumed defaults, tuned on a 2-core machine; see docs/deploy.md): each worker
        # process runs at most db_pool_size requests against the database at once, one connection each;
        # a request waits at most queue_seconds for its turn, then gets 503 with Retry-After.
        workers=int(os.environ.get("YIBAO_WORKERS", "1")),
        db_pool_size=int(os.environ.get("YIBAO_DB_POOL_SIZE", "2")),
        queue_seconds=float(os.environ.get("YIBAO_QUEUE_SECONDS", "5")),
        # Deadlines for reading a request (assumed, as a proxy's usual ones): its head within head_seconds of
        # its first byte, its body within body_seconds of the head (4 MiB at 1 Mbit/s takes 34 s).
        head_seconds=float(os.environ.get("YIBAO_HEAD_SECONDS", "10")),
        body_seconds=float(os.environ.get("YIBAO_BODY_SECONDS", "60")),
        # A demo or training server may live in another period (the demo data's collection period).
        clock_start=os.environ.get("YIBAO_CLOCK") or None,
    )
