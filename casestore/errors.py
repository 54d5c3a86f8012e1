"""Case-store exceptions.

    CaseStoreError
     +-- SchemaError            the database schema is missing, older or unknown
     +-- StoreUnavailable       the database could not be reached or refused a statement
     +-- IllegalCaseTransition  a case status change the workflow does not allow
     +-- NotFound               no case / customer with that key
     +-- InvalidInput           a value the store refuses (survey score out of range, ...)
"""

from __future__ import annotations


class CaseStoreError(Exception):
    """Base of every error the case store raises."""


class SchemaError(CaseStoreError):
    def __init__(self, message: str, *, current: str | None = None, expected: str | None = None) -> None:
        super().__init__(message)
        self.current = current
        self.expected = expected


class StoreUnavailable(CaseStoreError):
    pass


class IllegalCaseTransition(CaseStoreError):
    def __init__(self, number: str, current: str, wanted: str) -> None:
        super().__init__(f"case {number}: cannot go from {current!r} to {wanted!r}")
        self.number = number
        self.current = current
        self.wanted = wanted


class NotFound(CaseStoreError):
    pass


class InvalidInput(CaseStoreError):
    pass
