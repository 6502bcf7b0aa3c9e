"""Developer tooling behind the ``nakamura-db`` command (not needed by a deploy)."""
