"""Every hook a plugin can implement is documented in docs/plugins.md and run by a test.

The guide's example plugin implements every hook and tests/test_plugin_guide.py installs and runs
it, so a hook missing from the example is a hook no test exercises end to end.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from pmo_jira import hookspecs

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
HOOKS = sorted(name for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("pmo_jira_"))


def _example_plugin() -> str:
    match = re.search(r"^(`{3,})python file=pmo_jira_acme\.py\n(.*?)^\1", GUIDE.read_text(encoding="utf-8"),
                      re.MULTILINE | re.DOTALL)
    assert match, "docs/plugins.md has no example plugin (```python file=pmo_jira_acme.py)"
    return match.group(2)


def test_there_are_hooks_to_check():
    assert {"pmo_jira_standards", "pmo_jira_mapping_sections", "pmo_jira_cli_commands"} <= set(HOOKS)


def test_every_hook_is_in_the_guides_table_and_described():
    guide = GUIDE.read_text(encoding="utf-8")
    for hook in HOOKS:
        assert f"| `{hook}` |" in guide, f"{hook} is missing from the table at the top of docs/plugins.md"
        assert re.search(rf"^- \*\*[^*]+\*\* \(`{hook}[`(]", guide, re.MULTILINE), \
            f"{hook} has no '- **What** (`{hook}`)' entry in docs/plugins.md"


def test_every_hook_is_implemented_by_the_example_plugin_the_guide_test_runs():
    example = _example_plugin()
    for hook in HOOKS:
        assert re.search(rf"^@hookimpl\ndef {hook}\(", example, re.MULTILINE), \
            f"the guide's example plugin does not implement {hook}, so no test runs it"
