"""The ACD core: calls, agents, queues, routing and their events.

Pure Python: no sockets, no disk, no wall clock. Time comes from an injected `Clock`.
"""
