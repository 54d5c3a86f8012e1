"""Cases: list, timeline, assign, notes, workflow, resolution; the supervisors' view."""
