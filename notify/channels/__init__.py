"""Ways a message leaves Hezuo: e-mail (SMTP) and SMS (a provider); the inbox needs no sending."""


class PermanentFailure(Exception):
    """The address or number is unusable (SMTP 5xx, a refused number): never retried."""


class TemporaryFailure(Exception):
    """The channel is down or busy: retried later with backoff."""
