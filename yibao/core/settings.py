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
    )
