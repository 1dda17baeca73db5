"""Mapping files: how a Jira site expresses scope, fields, phases, standards, waivers and write-back.

Plugins declare sections of their own with ``MappingSection`` models (see docs/plugins.md) and
build them from the same pieces as the built-in ones: ``Strict``, ``Text``, ``ProjectKey``,
``choice``, ``problem``.
"""

from __future__ import annotations

from pmo_jira.mapping.loader import check_mapping, load_mapping, validate_mapping
from pmo_jira.mapping.phases import classify
from pmo_jira.mapping.schema import (
                                     KNOWN_FIELDS,
                                     ConsistencyIssue,
                                     Mapping,
                                     MappingSection,
                                     ProjectKey,
                                     StandardConfig,
                                     Strict,
                                     Text,
                                     WaiverConfig,
                                     choice,
                                     choice_hint,
                                     describe,
                                     problem,
)

__all__ = [
    "KNOWN_FIELDS", "ConsistencyIssue", "Mapping", "MappingSection", "ProjectKey", "StandardConfig", "Strict",
    "Text", "WaiverConfig", "check_mapping", "choice", "choice_hint", "classify", "describe", "load_mapping", "problem", "validate_mapping",
]
