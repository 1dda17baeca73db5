"""Sites of one run are read at once, at most `sites_at_once` of them, results in config order."""

from __future__ import annotations

import itertools
import threading

from pmo_jira.run import sites as run_sites
from pmo_jira.run.command import run_now
from pmo_jira.settings import load_settings

from cli_fixtures import MAPPING, PINNED_NOW


def _settings(tmp_path, url, names, sites_at_once):
    config = tmp_path / "pmo-jira.toml"
    config.write_text(f'mapping = "{MAPPING}"\nsites_at_once = {sites_at_once}\n' + "".join(
        f'[sites.{n}]\nurl = "{url}"\nflavour = "cloud"\nemail = "pmo-bot@example.com"\n' for n in names))
    return load_settings(config, env={"HOME": str(tmp_path)})


def test_sites_are_read_at_once_within_the_bound(cloud_site, tmp_path, monkeypatch):
    names = ["zeta", "alpha", "mid"]
    for n in names:
        monkeypatch.setenv(f"PMO_JIRA_TOKEN_{n.upper()}", cloud_site.credentials.token)
    settings = _settings(tmp_path, cloud_site.url, names, sites_at_once=2)
    together = threading.Barrier(2)  # broken (after 20 s) if the first two reads ran one after the other
    lock, active, most, calls = threading.Lock(), [0], [0], itertools.count()
    real_read = run_sites.read_site

    def read_site(client, *args, **kwargs):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
            first_two = next(calls) < 2
        if first_two:
            together.wait(timeout=20)
        try:
            return real_read(client, *args, **kwargs)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(run_sites, "read_site", read_site)
    audited = run_sites.audit_sites(settings, now=run_now({"PMO_JIRA_NOW": PINNED_NOW}))
    assert not together.broken and most[0] == 2
    assert audited.result.sites == tuple(names) and audited.result.site_errors == {}
    assert [s.site.name for s in audited.snapshots] == names  # config order, not finishing order


def test_one_site_failing_leaves_the_others(cloud_site, tmp_path, monkeypatch):
    for n in ("good", "bad"):
        monkeypatch.setenv(f"PMO_JIRA_TOKEN_{n.upper()}", cloud_site.credentials.token if n == "good" else "wrong")
    settings = _settings(tmp_path, cloud_site.url, ["good", "bad"], sites_at_once=4)
    audited = run_sites.audit_sites(settings, now=run_now({"PMO_JIRA_NOW": PINNED_NOW}))
    assert list(audited.result.site_errors) == ["bad"] and [s.site.name for s in audited.snapshots] == ["good"]


def test_each_sites_issues_are_indexed_and_its_epics_classified_as_its_pages_arrive(cloud_site, tmp_path,
                                                                                     monkeypatch):
    names = ["one", "two"]
    for n in names:
        monkeypatch.setenv(f"PMO_JIRA_TOKEN_{n.upper()}", cloud_site.credentials.token)
    settings = _settings(tmp_path, cloud_site.url, names, sites_at_once=2)
    pages: dict[str, list[list[str]]] = {n: [] for n in names}
    real_read, real_audit = run_sites.read_site, run_sites.run_audit

    def read_site(client, *args, on_issues, **kwargs):
        def heard(issues):
            pages[client.site.name].append([i.key for i in issues])
            on_issues(issues)
        return real_read(client, *args, on_issues=heard, **kwargs)

    prepared = {}

    def run_audit(snapshots, mapping, **kwargs):
        for s in snapshots:
            prep = kwargs["prepared"][s.site.name]
            prepared[s.site.name] = (prep.index.holds(s), [e.key for e in prep.epics])
        return real_audit(snapshots, mapping, **kwargs)

    monkeypatch.setattr(run_sites, "read_site", read_site)
    monkeypatch.setattr(run_sites, "run_audit", run_audit)
    audited = run_sites.audit_sites(settings, now=run_now({"PMO_JIRA_NOW": PINNED_NOW}))
    for snap in audited.snapshots:
        name = snap.site.name
        assert len(pages[name]) > 1 and sum(pages[name], []) == [i.key for i in snap.issues]
        epics = [i.key for i in audited.result.items if i.site == name and i.kind == "epic"]
        assert prepared[name] == (True, epics) and epics
