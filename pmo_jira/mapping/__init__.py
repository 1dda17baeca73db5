"""Mapping files: how a Jira site expresses scope, fields, phases, standards, waivers and write-back."""

from __future__ import annotations

from pmo_jira.mapping.loader import load_mapping, validate_mapping
from pmo_jira.mapping.phases import classify
from pmo_jira.mapping.schema import KNOWN_FIELDS, Mapping, StandardConfig, WaiverConfig

__all__ = ["KNOWN_FIELDS", "Mapping", "classify", "StandardConfig", "WaiverConfig", "load_mapping", "validate_mapping"]
