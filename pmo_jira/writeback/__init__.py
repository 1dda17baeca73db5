"""Write findings back into Jira: namespaced labels, one owned comment, state in a property.

``plan_writeback`` decides (pure, no requests); ``check_blast_radius`` caps it; ``apply_plan``
performs it, all writes of one issue together, so a run killed half-way converges next time.
"""

from pmo_jira.state import STATE_PROPERTY, IssueState, parse_state
from pmo_jira.writeback.apply import ApplyReport, IssueError, apply_plan
from pmo_jira.writeback.plan import CommentOp, IssuePlan, Plan, PlanTotals, check_blast_radius, plan_writeback
from pmo_jira.writeback.render import MARKER, desired_labels, render_comment

__all__ = [
    "MARKER", "STATE_PROPERTY", "ApplyReport", "CommentOp", "IssueError", "IssuePlan", "IssueState",
    "Plan", "PlanTotals", "apply_plan", "check_blast_radius", "desired_labels", "parse_state",
    "plan_writeback", "render_comment",
]
