"""Settings read from the environment when first imported, as the real application's are."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    slack_token: str
    database_url: str

    @classmethod
    def from_env(cls) -> Settings:
        token = os.environ.get("ASSISTANT_SLACK_TOKEN")
        if not token:
            raise RuntimeError("ASSISTANT_SLACK_TOKEN environment variable is required")
        url = os.environ.get("DATABASE_URL", "postgresql://localhost/assistant")
        return cls(slack_token=token, database_url=url.replace("postgresql://", "postgresql+asyncpg://", 1))


settings = Settings.from_env()
