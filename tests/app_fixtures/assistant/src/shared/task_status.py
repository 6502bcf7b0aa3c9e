from enum import Enum


class TaskStatus(str, Enum):  # noqa: UP042 - written as the application writes it
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
