"""Notify's domain errors."""

from core.errors import NotFound


class NotificationNotFound(NotFound):
    def __init__(self, notification_id: int) -> None:
        super().__init__(f"There is no notification {notification_id} for you.")
