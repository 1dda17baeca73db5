"""The PMO office plugin: the resource view, strategic alignment and ranking, and the monthly PMO pack.

First-party, registered through the ``pmo_jira`` entry-point group like any third-party plugin.
It adds the reports ``resources``, ``strategy`` and ``monthly``, the standards PMO-RES-001,
PMO-RES-002 and PMO-STR-001, and the mapping sections ``resources:`` and ``strategy:``.
"""
