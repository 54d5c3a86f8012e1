"""Sub-commands of `hotline`: every module here defines `register(subparsers)`.

A module's `register` adds one or more parsers and sets `handler=` (a function taking the
parsed namespace and returning an exit code) with `parser.set_defaults`.
"""
