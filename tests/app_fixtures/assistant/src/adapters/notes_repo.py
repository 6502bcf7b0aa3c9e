"""A repository for a model that no longer exists: importing it fails (a missing dependency)."""

from __future__ import annotations

from sqlalchemy import select

from src.domain.note import Note


def notes_of(user_id: str):
    return select(Note).where(Note.user_id == user_id)
