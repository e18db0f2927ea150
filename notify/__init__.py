"""Notifications: a transactional outbox, its delivery (e-mail, SMS) and the in-app inbox."""
