"""The calls list: search past calls, drill down to one (IVR path, recordings, its case)."""
