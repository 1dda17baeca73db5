"""``python -m pmo_jira``: the ``pmo-jira`` command, through the entry point the package declares.

Loading the declared console script (rather than importing the CLI here) keeps the CLI's entry
function in one place, the ``[project.scripts]`` table, and the core free of CLI imports.
"""

import sys
from importlib.metadata import entry_points

scripts = entry_points(group="console_scripts", name="pmo-jira")
if not scripts:
    sys.exit("Error: pmo-jira is not installed (pip install -e .), so `python -m pmo_jira` cannot find its command")
next(iter(scripts)).load()()
