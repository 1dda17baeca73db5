"""The unmodified `jira` and `atlassian-python-api` libraries read a served sandbox with ordinary calls."""

from __future__ import annotations

import pytest
from atlassian import Jira
from jira import JIRA

from pmo_jira.sandbox.server import SANDBOX_EMAIL, SANDBOX_TOKEN


def _visible(site) -> int:
    return sum(1 for i in site.store.issues if site.store.projects[i.project].browsable)


def _commented(site):
    """A visible issue that has generated comments, and how many."""
    rec = next(i for i in site.store.issues if i.comments and site.store.projects[i.project].browsable)
    return rec.key, len(rec.comments)


def _dig_count(site) -> int:
    return sum(1 for i in site.store.issues if i.project == "DIG")


def test_jira_library_reads_cloud(cloud_site):
    client = JIRA(cloud_site.url, basic_auth=(SANDBOX_EMAIL, SANDBOX_TOKEN), max_retries=0)
    assert client._is_cloud
    first = client.search_issues("project = DIG ORDER BY key ASC", maxResults=10)
    assert [i.key for i in first][:2] == ["DIG-1", "DIG-2"] and first[0].fields.summary
    everything = client.enhanced_search_issues("project is not EMPTY", maxResults=0, fields="summary")
    assert len(everything) == _visible(cloud_site)
    page = client.enhanced_search_issues("project = DIG", maxResults=5)
    assert len(page) == 5 and page.nextPageToken
    issue = client.issue("DIG-2")
    assert issue.fields.parent.key == "DIG-1" and issue.fields.issuetype.name
    key, count = _commented(cloud_site)
    comments = client.comments(key)
    assert len(comments) == count and comments[0].author.accountId
    names = {f["name"] for f in client.fields()}
    assert {"Start date", "Target end", "Story point estimate", "PMO Phase"} <= names


def test_jira_library_reads_data_center(dc_site):
    client = JIRA(dc_site.url, token_auth=SANDBOX_TOKEN, max_retries=0)
    assert not client._is_cloud
    everything = client.search_issues("project = DIG ORDER BY key ASC", maxResults=False, fields="summary")
    assert len(everything) == _dig_count(dc_site) and everything[0].key == "DIG-1"
    issue = client.issue("DIG-2")
    assert issue.fields.customfield_10100 == "DIG-1"  # Epic Link
    key, count = _commented(dc_site)
    comments = client.comments(key)
    assert len(comments) == count and comments[0].author.name and isinstance(comments[0].body, str)
    assert "Epic Link" in {f["name"] for f in client.fields()}


def test_atlassian_python_api_reads_cloud(cloud_site):
    jira = Jira(url=cloud_site.url, username=SANDBOX_EMAIL, password=SANDBOX_TOKEN, cloud=True)
    page = jira.jql("project = DIG ORDER BY key ASC", limit=10)
    assert [i["key"] for i in page["issues"]][:1] == ["DIG-1"] and "nextPageToken" in page
    token_page = jira.enhanced_jql("project = DIG ORDER BY key ASC", limit=10, nextPageToken=page["nextPageToken"])
    assert token_page["issues"][0]["key"] == "DIG-11"
    assert jira.issue("DIG-2")["fields"]["parent"]["key"] == "DIG-1"
    key, count = _commented(cloud_site)
    assert len(jira.issue_get_comments(key)["comments"]) == count
    assert {"Start date", "PMO Phase"} <= {f["name"] for f in jira.get_all_fields()}


def test_atlassian_python_api_reads_data_center(dc_site):
    jira = Jira(url=dc_site.url, token=SANDBOX_TOKEN)
    page = jira.jql("project = DIG ORDER BY key ASC", limit=10, start=10)
    assert page["total"] == _dig_count(dc_site) and page["issues"][0]["key"] == "DIG-11"
    assert jira.issue("DIG-2")["fields"]["customfield_10100"] == "DIG-1"
    key, count = _commented(dc_site)
    assert len(jira.issue_get_comments(key)["comments"]) == count
    assert "Epic Link" in {f["name"] for f in jira.get_all_fields()}


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_libraries_see_401_without_credentials(cloud_site, dc_site, flavour):
    site = cloud_site if flavour == "cloud" else dc_site
    from jira.exceptions import JIRAError

    with pytest.raises(JIRAError) as err:
        JIRA(site.url, basic_auth=(SANDBOX_EMAIL, "wrong"), max_retries=0, get_server_info=True).myself()
    assert err.value.status_code == 401
