"""The service process after the call, wired: routing and escalation, telling the customer,
asking them to rate, follow-up calls (docs/service.md)."""
