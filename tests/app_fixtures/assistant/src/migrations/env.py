"""The application's own Alembic environment: it runs only inside Alembic (``context.config``)."""

from alembic import context
from src.infra.db.models import Base

config = context.config
target_metadata = Base.metadata
