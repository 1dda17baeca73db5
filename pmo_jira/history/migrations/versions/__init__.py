"""One file per schema revision; each upgrades the one before it without losing a run."""
