"""``python -m pmo_jira``: the ``pmo-jira`` command (``[project.scripts]`` names the same function).

The CLI's entry function is imported directly: looking it up among the installed console scripts
through ``importlib.metadata`` scans every distribution's metadata first, which costs more than
``pmo-jira --version`` may take in all.
"""

import sys

from pmo_jira.cli.main import main

sys.exit(main())
