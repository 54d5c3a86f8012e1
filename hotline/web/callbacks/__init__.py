"""Callbacks: the callback requests the ACD holds for later and those it is working on."""
