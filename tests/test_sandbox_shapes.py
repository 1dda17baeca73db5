"""The sandbox's Cloud responses have the shapes of Atlassian's official OpenAPI schemas."""

from __future__ import annotations

import pytest

from openapi_fixtures import validate
from sandbox_fixtures import api, session_for


@pytest.fixture(scope="module")
def http(cloud_site):
    return session_for(cloud_site)


def _get(http, site, path, **params):
    response = http.get(api(site, path), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_search_results_match_search_and_reconcile_results(http, cloud_site):
    page = _get(http, cloud_site, "search/jql", jql="project = DIG", fields="*all", maxResults=20,
                properties="pmo-jira.state")
    validate(page, "SearchAndReconcileResults")
    assert "total" not in page and page["isLast"] is False and page["nextPageToken"]
    for issue in page["issues"]:
        validate(issue, "IssueBean")


def test_issue_field_values_match_their_schemas(http, cloud_site):
    issues = _get(http, cloud_site, "search/jql", jql="project in (DIG, WEB, MOB)", fields="*all",
                  maxResults=100)["issues"]
    seen = set()
    for issue in issues:
        f = issue["fields"]
        validate(f["status"], "StatusDetails")
        validate(f["issuetype"], "IssueTypeDetails")
        validate(f["priority"], "Priority")
        validate(f["project"], "ProjectDetails")
        validate(f["comment"], "PageOfComments")
        for user in (f["assignee"], f["reporter"]):
            if user is not None:
                validate(user, "UserDetails")
        if f["resolution"]:
            validate(f["resolution"], "Resolution")
            seen.add("resolution")
        for link in f["issuelinks"]:
            # IssueLink is also the create-link request bean, hence it requires both ends; an issue's
            # own link list carries exactly one (the other end is the issue itself).
            assert ("inwardIssue" in link) != ("outwardIssue" in link)
            other = "inwardIssue" if "inwardIssue" in link else "outwardIssue"
            validate({**link, "inwardIssue": link[other], "outwardIssue": link[other]}, "IssueLink")
            seen.add("link")
        if "parent" in f:
            validate(f["parent"], "LinkedIssue")
            seen.add("parent")
    assert seen == {"resolution", "link", "parent"}


def test_issue_bean_with_names_and_properties(http, cloud_site):
    issue = _get(http, cloud_site, "issue/DIG-2", expand="names", properties="*all")
    validate(issue, "IssueBean")
    assert issue["names"]["summary"] == "Summary"
    assert issue["fields"]["parent"]["key"] == "DIG-1"
    assert issue["fields"]["description"] is None or issue["fields"]["description"]["type"] == "doc"


def test_metadata_endpoints_match_their_schemas(http, cloud_site):
    validate(_get(http, cloud_site, "serverInfo"), "ServerInformation")
    validate(_get(http, cloud_site, "myself"), "User")
    for field in _get(http, cloud_site, "field"):
        validate(field, "FieldDetails")
    for cat in _get(http, cloud_site, "projectCategory"):
        validate(cat, "ProjectCategory")
    for cat in _get(http, cloud_site, "statuscategory"):
        validate(cat, "StatusCategory")
    for status in _get(http, cloud_site, "status"):
        validate(status, "StatusDetails")
    validate(_get(http, cloud_site, "mypermissions", projectKey="DIG", permissions="EDIT_ISSUES,ADD_COMMENTS"),
             "Permissions")


def test_project_search_pages_match_page_bean_project(http, cloud_site):
    page = _get(http, cloud_site, "project/search", maxResults=3, expand="lead,description")
    validate(page, "PageBeanProject")
    assert page["isLast"] is False and "nextPage" in page
    assert page["values"][0]["lead"]["accountId"]


def test_comments_and_properties_match_their_schemas(sandbox):
    site = sandbox("cloud", issues=60)
    http = session_for(site)
    adf = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hi"}]}]}
    created = http.post(api(site, "issue/DIG-1/comment"), json={"body": adf})
    assert created.status_code == 201
    validate(created.json(), "Comment")
    validate(_get(http, site, "issue/DIG-1/comment"), "PageOfComments")
    assert http.put(api(site, "issue/DIG-1/properties/pmo-jira.state"), json={"fp": "x"}).status_code == 201
    validate(_get(http, site, "issue/DIG-1/properties/pmo-jira.state"), "EntityProperty")
    validate(_get(http, site, "issue/DIG-1/properties"), "PropertyKeys")


def test_errors_match_error_collection(http, cloud_site):
    response = http.get(api(cloud_site, "search/jql"), params={"jql": "project = DIG AND nosuchfield = 1"})
    assert response.status_code == 400
    validate(response.json(), "ErrorCollection")


def test_data_center_keeps_its_own_differences(dc_site):
    http = session_for(dc_site)
    issue = _get(http, dc_site, "issue/DIG-2")
    fields = issue["fields"]
    assert "hierarchyLevel" not in fields["issuetype"]
    assert "parent" not in fields and fields["customfield_10100"] == "DIG-1"  # Epic Link
    assert fields["reporter"]["name"] and fields["reporter"]["key"].startswith("JIRAUSER")
    assert "accountId" not in fields["reporter"]
    assert fields["description"] is None or isinstance(fields["description"], str)
    assert fields["created"][-5:] == "+0000" and fields["created"][19] == "."
