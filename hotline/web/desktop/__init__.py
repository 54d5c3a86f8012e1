"""The agent desktop: state bar, the call with its screen pop, wrap-up and the call's case."""
