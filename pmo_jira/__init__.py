"""pmo-jira: PMO governance applied to the work teams keep in Jira."""

__version__ = "0.1.0"
