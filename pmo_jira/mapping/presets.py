"""The preset mappings shipped with pmo-jira (the files of mappings/ in the source tree)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pmo_jira.errors import ConfigError


def presets_dir() -> Path:
    """Where the presets are: the installed ``pmo_jira.presets`` package, or mappings/ of a checkout.

    A wheel ships mappings/ as ``pmo_jira.presets``; an editable install maps only top-level
    packages, so there the source tree's mappings/ folder is the place.
    """
    spec = importlib.util.find_spec("pmo_jira.presets")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parents[2] / "mappings"


def preset(name: str) -> Path:
    """Path of a preset mapping by name (``sandbox``, ``pmbok-default`` ...)."""
    path = presets_dir() / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in presets_dir().glob("*.yaml"))
        raise ConfigError(f"no preset mapping named '{name}'", hint="presets: " + ", ".join(known))
    return path
