"""PMO standards: the base class, the registry, the per-site context and the built-in catalogue."""

from pmo_jira.standards.base import Check, Standard, StandardOptions

__all__ = ["Check", "Standard", "StandardOptions"]
