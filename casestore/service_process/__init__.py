"""The service process after the call: work orders routed to teams, the customer told and
asked to rate (see docs/service.md)."""
