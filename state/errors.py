"""Errors of the shared-state adapter (Redis errors are converted into these at the edge)."""


class StateError(Exception):
    """Base of the state adapter's errors."""


class StateConfigError(StateError, ValueError):
    """The `state:` section is invalid."""


class StateUnavailable(StateError):
    """Redis could not be reached or did not answer in time."""
