"""Domain errors. Services raise them; the API and the pages turn each into one plain answer."""
from __future__ import annotations


class DomainError(Exception):
    status_code = 400


class NotFound(DomainError):
    """No such record, or one this user may not see: the two are never told apart."""

    status_code = 404

    def __init__(self, what: str = "record"):
        super().__init__(f"No such {what}.")


class Forbidden(DomainError):
    status_code = 403

    def __init__(self, message: str = "Your role may not do this."):
        super().__init__(message)


class Conflict(DomainError):
    """The request clashes with the record's current state (HTTP 409); `status` is the case's state now."""

    status_code = 409

    def __init__(self, message: str, status: str | None = None):
        super().__init__(message)
        self.status = status


class NotAllowed(Conflict):
    def __init__(self, event: str, status: str):
        super().__init__(f"'{event}' is not allowed while the case is {status.replace('_', ' ')}.", status)


class StaleVersion(Conflict):
    def __init__(self, status: str | None = None, what: str = "case"):
        super().__init__(f"The {what} changed since you opened it. Reload it, check what changed, and try again: "
                         "nothing you entered was saved.", status)


class InvalidData(DomainError):
    """Missing or invalid fields (HTTP 422); `errors` maps each field to its messages."""

    status_code = 422

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("Some fields are missing or invalid.")
        self.errors = errors
