"""The built-in catalogue, one module per PMO family (governance, initiation, planning, ...)."""
