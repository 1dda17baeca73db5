"""The Jira client: the only code in pmo-jira that speaks HTTP.

Why ``requests`` directly rather than the ``jira`` or ``atlassian-python-api`` packages:
- paging: Cloud's ``/search/jql`` pages by ``nextPageToken`` and Data Center's ``/search`` by
  ``startAt`` (by key past its 10,000-result window); we need both yielded lazily, page by page,
  with inline issue ``properties`` on Cloud and a server that may cap ``maxResults``. The
  libraries either fetch one page or collect everything in memory, and default to ``fields=*all``.
- retries: exactly one layer we control (``retry.py``), honouring ``Retry-After`` as a minimum,
  with a total wait budget, never retrying a comment POST after a broken connection. The
  libraries each ship their own retry logic with different rules (see ``retry.py``).
- explicit fields: every search names the fields it needs, which keeps pages small on big sites.
- errors: every failure becomes a one-line ``JiraApiError`` without a credential in it.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import orjson
import requests

from pmo_jira import interrupt
from pmo_jira.errors import ConfigError, JiraApiError, NotifyRefused, WritesStopped
from pmo_jira.jira.lazyjson import array_elements
from pmo_jira.jira.prefetch import prefetched
from pmo_jira.jira.retry import RateGate, RetryPolicy, WaitBudgetExhausted, WriteBreaker, server_delay
from pmo_jira.jira.richtext import to_adf, to_wiki
from pmo_jira.jira.statecache import PropertyCache
from pmo_jira.model import Doc, Flavour, Site

log = logging.getLogger("pmo_jira.jira")

LONG_JQL = 1500
"""Longer JQL goes in a POST body: URLs beyond a few KB are cut by proxies."""
CHANGELOG_BATCH = 1000  # issues per bulkfetch request (the API's maximum)
CHANGELOG_PAGE = 10_000  # changelog entries per bulkfetch page (the API's maximum)
CHANGELOG_MAX_FIELDS = 10  # fieldIds per bulkfetch request (the API's maximum)
DC_RESULT_WINDOW = 10_000  # Data Center's default max_result_window (startAt + maxResults)
DC_PAGE_SIZE = 1000
"""What a Data Center search asks for per page unless told otherwise: DC's default cap
(``jira.search.views.default.max``); a site with a lower cap answers with its own ``maxResults``."""
CLOUD_PAGE_SIZE = 100  # Cloud's cap for a search that returns fields
_ORDER_BY = re.compile(r"\s*\bORDER\s+BY\b.*$", re.IGNORECASE | re.DOTALL)
_BY_KEY = re.compile(r"\s*ORDER\s+BY\s+key(\s+ASC)?\s*", re.IGNORECASE)


def _project_of(key: str) -> str:
    return key.rsplit("-", 1)[0]


def jql_quote(value: str) -> str:
    """A JQL string literal: quoted, with backslashes and quotes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


RECONCILE_MAX = 50  # issue ids a Cloud search reconciles at most
RECONCILE_SECONDS = 300.0  # how long an own write is reconciled (Cloud's index catches up in seconds)
_OWN_WRITES: dict[str, dict[int, float]] = {}  # Cloud base URL -> issue id -> when written (monotonic)
_OWN_WRITES_LOCK = threading.Lock()


def note_own_write(base_url: str, issue_id: str | int) -> None:
    """Remember that this process wrote to an issue, so Cloud searches read it back as written.

    Cloud's ``/search/jql`` is eventually consistent: an issue just written may still match (and
    look) as before. Searches of this process pass the most recent own writes as
    ``reconcileIssues`` (at most 50) for a few minutes, whichever client object makes them."""
    if not str(issue_id).isdecimal():
        return
    with _OWN_WRITES_LOCK:
        writes = _OWN_WRITES.setdefault(base_url.rstrip("/"), {})
        writes.pop(int(issue_id), None)
        writes[int(issue_id)] = time.monotonic()
        while len(writes) > RECONCILE_MAX:
            writes.pop(next(iter(writes)))


def own_writes(base_url: str) -> list[int]:
    """The issue ids to reconcile on a Cloud search of ``base_url`` (most recent last)."""
    horizon = time.monotonic() - RECONCILE_SECONDS
    with _OWN_WRITES_LOCK:
        writes = _OWN_WRITES.get(base_url.rstrip("/"), {})
        for issue_id in [i for i, when in writes.items() if when < horizon]:
            del writes[issue_id]
        return list(writes)


_KNOWN_SCHEMA_PREFIXES = ("com.atlassian.", "com.pyxis.greenhopper.")


def checked_token(value: str, where: str) -> str:
    """A token as given (env var, keyring), without the spaces and line ends around it that a
    copied or ``kubectl create secret --from-file`` token carries; empty: none given. A token is
    one word: a space or control character inside it is a ``ConfigError`` naming ``where``, never
    the token (an HTTP header would refuse it with the token in the message)."""
    token = value.strip()
    if any(char.isspace() or not char.isprintable() for char in token):
        raise ConfigError(f"the token in {where} has a space or a control character inside it",
                          hint="a token is one word: copy it again from where it was created")
    return token


@dataclass(frozen=True, repr=False)
class Credentials:
    """Cloud: ``email`` + API token (HTTP Basic). Data Center: ``token`` alone, a PAT (Bearer)."""

    email: str | None = None
    token: str | None = None

    def __repr__(self) -> str:
        return f"Credentials(email={self.email!r}, token={'***' if self.token else None})"

    __str__ = __repr__

    @classmethod
    def from_env(cls, prefix: str = "PMO_JIRA_", environ: Mapping[str, str] | None = None) -> Credentials:
        env = os.environ if environ is None else environ
        token = checked_token(env.get(f"{prefix}TOKEN") or "", f"{prefix}TOKEN") or None
        if not token:
            raise ConfigError(f"{prefix}TOKEN is not set",
                              hint=f"Cloud: set {prefix}EMAIL and {prefix}TOKEN (API token); "
                                   f"Data Center: set {prefix}TOKEN (personal access token)")
        return cls(email=env.get(f"{prefix}EMAIL") or None, token=token)


def _no_credentials(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Overrides the session's credentials for one request: sent as is, with none."""
    return request


class _BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str):
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self._token}"
        return r

    def __repr__(self) -> str:
        return "_BearerAuth(***)"


def _auth(credentials: Credentials) -> requests.auth.AuthBase | None:
    if credentials.email and credentials.token:
        return requests.auth.HTTPBasicAuth(credentials.email, credentials.token)
    if credentials.token:
        return _BearerAuth(credentials.token)
    return None


def _error_messages(body: Any) -> tuple[str, ...]:
    """Jira's ``{"errorMessages": [...], "errors": {"field": "message"}}`` as plain strings."""
    if not isinstance(body, dict):
        return ()
    out = [str(m) for m in body.get("errorMessages") or () if m]
    errors = body.get("errors")
    if isinstance(errors, dict):
        out += [f"{k}: {v}" for k, v in errors.items()]
    if not out and body.get("message"):
        out.append(str(body["message"]))
    return tuple(out)


_STATUS_MESSAGES = {
    400: "request rejected by Jira",
    401: "authentication failed: check PMO_JIRA_EMAIL/PMO_JIRA_TOKEN (Cloud: account email + API "
         "token; Data Center: a personal access token in PMO_JIRA_TOKEN, no email)",
    403: "permission denied: the account lacks the Jira permission this needs",
    404: "not found, or not visible to this account",
    405: "method not allowed (is the URL a Jira site of the configured flavour?)",
    410: "endpoint removed by Atlassian (Jira Cloud retired this API; check the flavour setting)",
    413: "request too large",
    429: "rate limited by Jira",
    503: "Jira is unavailable",
}


class JiraClient:
    """A Jira Cloud (REST v3) or Data Center (REST v2) site, read and written over ``requests``."""

    def __init__(self, url: str, credentials: Credentials, *, flavour: Flavour | None = None,
                 timeout: float = 30.0, max_wait: float = 300.0, site_name: str = "jira",
                 session: requests.Session | None = None, sleep: Callable[[float], None] = interrupt.sleep,
                 clock: Callable[[], float] = time.monotonic, page_size: int | None = None,
                 concurrency: int = 4, rng: random.Random | None = None,
                 gate: RateGate | None = None):
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:  # an unclosed IPv6 "[", a port out of range or not a number
            raise ConfigError(f"not a valid URL: {url!r} ({exc})", key="url",
                              hint="e.g. https://your-site.atlassian.net") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"not a web address: {url!r}", key="url",
                              hint="e.g. https://your-site.atlassian.net")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        netloc = host + (f":{port}" if port else "")
        self.base_url = f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"  # no user:pass@
        self.host = netloc
        self._session = session or requests.Session()
        self._session.auth = _auth(credentials)
        self._session.headers.update({"Accept": "application/json", "User-Agent": "pmo-jira"})
        self.timeout = timeout
        self._page_size = page_size
        self.page_size = page_size or CLOUD_PAGE_SIZE
        self.site_name = site_name
        self.gate = gate or RateGate(concurrency=concurrency, clock=clock, sleep=sleep)
        self.retry = RetryPolicy(max_wait=max_wait, sleep=sleep, rng=rng or random.Random(), clock=clock)
        self.breaker = WriteBreaker()
        self.requests_made = 0
        self._count_lock = threading.Lock()  # the write-back shares one client across threads
        self._flavour = Flavour(flavour) if flavour is not None else None
        self._server_info: dict | None = None
        self._fields: list[dict] | None = None
        self.property_cache: PropertyCache | None = None
        """Data Center: issue properties kept per ``updated`` (``statecache.py``); filled after this
        client's own property writes, read by the source instead of one GET per issue."""

    def __repr__(self) -> str:
        return f"JiraClient({self.base_url!r}, flavour={self._flavour})"

    # --- flavour and site ---------------------------------------------------------------------

    @property
    def flavour(self) -> Flavour:
        """Cloud when ``serverInfo.deploymentType`` says so, else Data Center (asked once)."""
        if self._flavour is None:
            info = self.server_info()
            self._flavour = Flavour.CLOUD if info.get("deploymentType") == "Cloud" else Flavour.DC
        return self._flavour

    @property
    def site(self) -> Site:
        return Site(name=self.site_name, url=self.base_url, flavour=self.flavour)

    @property
    def api(self) -> str:
        return f"/rest/api/{self.flavour.api_version}"

    # --- transport ----------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                 json: Any = None, idempotent: bool | None = None, issue_key: str | None = None,
                 missing_ok: bool = False, as_text: bool = False, anonymous: bool = False) -> Any:
        """One logical request: paced, retried per ``retry.py``, errors made readable.
        ``anonymous``: sent without the credentials.

        ``path`` is logged and reported; query parameters (JQL, tokens) never are.
        Returns the decoded JSON body (None for an empty body, or for 404 with ``missing_ok``);
        with ``as_text``, the body's text, for a caller that decodes it piece by piece.
        """
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "DELETE", "HEAD")
        url = self.base_url + path
        write = method in ("PUT", "DELETE") or (method == "POST" and not idempotent)

        def send() -> requests.Response:
            interrupt.check()  # a stop signal: no new request, in any thread
            if write and self.breaker.reason is not None:
                raise WritesStopped(f"not sent: writing to {self.site_name} stopped, {self.breaker.reason}",
                                    method=method, url=path)
            self.gate.wait_turn(issue_key)
            with self._count_lock:
                self.requests_made += 1
            started = time.monotonic()
            try:
                resp = self._session.request(method, url, params=params, json=json, timeout=self.timeout,
                                             allow_redirects=method == "GET", auth=_no_credentials if anonymous else None)
            except requests.Timeout:
                if write:
                    self.breaker.timed_out(self.timeout)
                raise
            if write:
                self.breaker.answered()
            log.debug("%s %s -> %s (%.2fs)", method, path, resp.status_code, time.monotonic() - started)
            return resp

        def on_retry(outcome: requests.Response | BaseException, delay: float) -> None:
            what = outcome.status_code if isinstance(outcome, requests.Response) else type(outcome).__name__
            log.info("%s %s -> %s; retrying in %.1fs", method, path, what, delay)
            if isinstance(outcome, requests.Response) and outcome.status_code == 429:
                self.gate.throttled(delay)

        try:
            resp = self.retry.call(send, idempotent=idempotent, on_retry=on_retry)
        except WaitBudgetExhausted as exc:
            last = exc.last
            if isinstance(last, requests.Response):
                raise JiraApiError(f"{_STATUS_MESSAGES.get(last.status_code, 'server error')}; {exc}",
                                   method=method, url=path, status=last.status_code,
                                   error_messages=_error_messages(_try_json(last)),
                                   retry_after=server_delay(last.headers, self.retry.utcnow())) from None
            raise self._transport_error(last, method, path, idempotent, suffix=f"; {exc}") from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise self._transport_error(exc, method, path, idempotent) from None
        except requests.RequestException as exc:
            raise JiraApiError(f"request failed ({type(exc).__name__})", method=method, url=path) from None
        return self._decode(resp, method, path, missing_ok=missing_ok, as_text=as_text)

    def _transport_error(self, exc: BaseException, method: str, path: str, idempotent: bool,
                         suffix: str = "") -> JiraApiError:
        # The exception text embeds the full URL with its query; we never pass it on.
        if isinstance(exc, requests.Timeout) and not isinstance(exc, requests.ConnectTimeout):
            msg = f"no answer from {self.host} within {self.timeout:g}s (timeout)"
        elif isinstance(exc, requests.ConnectTimeout):
            msg = f"cannot reach {self.host}: connection timed out after {self.timeout:g}s"
        else:
            text = repr(exc)
            if "NameResolution" in text or "getaddrinfo" in text or "Name or service not known" in text:
                reason = "host name not found (DNS)"
            elif "Refused" in text or "refused" in text:
                reason = "connection refused"
            elif "SSL" in text:
                reason = "TLS/SSL handshake failed"
            else:
                reason = "connection failed"
            msg = f"cannot reach {self.host}: {reason}"
        if not idempotent:
            msg += " (not retried: the request may have been applied; re-read before repeating it)"
        return JiraApiError(msg + suffix, method=method, url=path)

    def _decode(self, resp: requests.Response, method: str, path: str, *, missing_ok: bool,
                as_text: bool = False) -> Any:
        status = resp.status_code
        login = resp.headers.get("X-Seraph-LoginReason", "")
        if self._session.auth is not None and ("AUTHENTICATED_FAILED" in login
                                               or "AUTHENTICATION_DENIED" in login):
            # Jira serves refused credentials as an anonymous user wherever anonymous access is
            # allowed (serverInfo, public projects, searches): a 200 with fewer or no results.
            message = _STATUS_MESSAGES[401] if "FAILED" in login else (
                "authentication denied: too many failed logins, Jira now wants a CAPTCHA; log in once "
                "in a browser as this account, then check the token")
            raise JiraApiError(message, method=method, url=path, status=401,
                               error_messages=_error_messages(_try_json(resp)) if status >= 400 else ())
        ctype = resp.headers.get("Content-Type", "")
        text_start = resp.content[:200].lstrip().lower()
        is_html = "html" in ctype or text_start.startswith((b"<!doctype", b"<html"))
        if status == 404 and missing_ok and not is_html:
            return None
        if is_html and status not in (401, 403, 429, 503) and status < 500:
            raise JiraApiError(f"not a Jira REST API at {self.base_url} (got an HTML page, e.g. a login "
                               "or proxy page; check the site URL)", method=method, url=path, status=status)
        if 200 <= status < 300:
            if not resp.content.strip():
                return None
            try:
                return resp.content.decode(resp.encoding or "utf-8") if as_text else _decode(resp)
            except (ValueError, LookupError, RecursionError):  # RecursionError: nested beyond any real answer
                raise JiraApiError("malformed response body (not JSON)", method=method, url=path,
                                   status=status) from None
        body = _try_json(resp)
        if 300 <= status < 400:
            target = urlsplit(resp.headers.get("Location", "")).netloc or "another address"
            raise JiraApiError(f"redirected to {target}; set the site URL to the address Jira answers on",
                               method=method, url=path, status=status)
        message = _STATUS_MESSAGES.get(status) or ("server error" if status >= 500 else "request failed")
        raise JiraApiError(message, method=method, url=path, status=status,
                           error_messages=_error_messages(body))

    def _get(self, path: str, **params: Any) -> Any:
        return self._request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def _get_list(self, path: str, **params: Any) -> list[dict]:
        """A GET whose answer must be a JSON array of objects (``/field``, ``/status`` ...): anything
        else, an empty answer included, is a malformed body, never an empty site."""
        body = self._get(path, **params)
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise JiraApiError("malformed response body (expected a JSON array of objects)", method="GET", url=path)
        return body

    def _get_object(self, path: str, **params: Any) -> dict:
        """A GET whose answer must be a JSON object (a page, a bean)."""
        body = self._get(path, **params)
        if not isinstance(body, dict):
            raise JiraApiError("malformed response body (expected a JSON object)", method="GET", url=path)
        return body

    # --- reads ------------------------------------------------------------------------------

    def server_info(self) -> dict:
        """``/rest/api/2/serverInfo``: exists on both flavours, so it can tell them apart."""
        if self._server_info is None:
            info = self._get("/rest/api/2/serverInfo")
            if not isinstance(info, dict):
                raise JiraApiError(f"not a Jira REST API at {self.base_url} (serverInfo is not an object)",
                                   method="GET", url="/rest/api/2/serverInfo")
            self._server_info = info
        return self._server_info

    def public_server_info(self) -> dict | None:
        """``serverInfo`` asked without credentials (both flavours answer it to anyone unless an
        admin closed anonymous access): what the site is when the credentials are refused."""
        try:
            info = self._request("GET", "/rest/api/2/serverInfo", anonymous=True)
        except JiraApiError:
            return None
        return info if isinstance(info, dict) else None

    def myself(self) -> dict:
        return self._get(f"{self.api}/myself")

    def fields(self) -> list[dict]:
        """Every field the account can see (``/field``), fetched once per client."""
        if self._fields is None:
            path = f"{self.api}/field"
            fields = self._get_list(path)
            if not all(isinstance(f.get("schema"), (dict, type(None))) for f in fields):
                raise JiraApiError("malformed response body (a field whose 'schema' is not an object)",
                                   method="GET", url=path)
            self._fields = fields
        return self._fields

    def resolve_field(self, spec: str | dict | Sequence[str | dict]) -> dict | None:
        """The ``/field`` entry a mapping spec names, or None when the site has no such field.

        ``spec``: a field id (``customfield_10015``, ``assignee``), a name (case-insensitive),
        ``{"schema": "<schema.custom type>"}`` (optionally with ``"name"``), or a list of those
        tried in order. When several fields share a name, Jira's own field types win over app
        fields, then system fields over custom ones, then the oldest id.
        """
        if isinstance(spec, (list, tuple)):
            for item in spec:
                found = self.resolve_field(item)
                if found is not None:
                    return found
            return None
        fields = self.fields()
        if isinstance(spec, dict):
            schema, name = spec.get("schema"), spec.get("name")
            matches = [f for f in fields
                       if (schema is None or (f.get("schema") or {}).get("custom") == schema)
                       and (name is None or str(f.get("name", "")).casefold() == str(name).casefold())]
            return min(matches, key=_field_rank) if matches else None
        for f in fields:
            if f.get("id") == spec or f.get("key") == spec:
                return f
        wanted = spec.casefold()
        matches = [f for f in fields if str(f.get("name", "")).casefold() == wanted]
        return min(matches, key=_field_rank) if matches else None

    def projects(self, properties: Sequence[str] = ()) -> Iterator[dict]:
        """Every project the account can browse, with ``lead`` and ``description``.

        On Cloud the project ``properties`` asked for come inline (``/project/search``); Data
        Center's ``/project`` has no such parameter: read them with ``project_property``.
        """
        if self.flavour is Flavour.DC:
            yield from self._get_list(f"{self.api}/project", expand="lead,description")
            return
        start = 0
        extra = {"properties": ",".join(properties)} if properties else {}
        while True:
            page = self._get_object(f"{self.api}/project/search", startAt=start,
                                    maxResults=min(self.page_size, 100), expand="lead,description", **extra)
            values = page.get("values") or []
            yield from values
            start += len(values)
            if page.get("isLast", True) or not values:
                return

    def issue_types(self) -> list[dict]:
        """Every issue type of the site (``/issuetype``)."""
        return self._get_list(f"{self.api}/issuetype")

    def statuses(self) -> list[dict]:
        """Every workflow status of the site (``/status``)."""
        return self._get_list(f"{self.api}/status")

    def jql_errors(self, queries: Sequence[str]) -> dict[str, list[str]]:
        """What the site says is wrong with each query (an empty list: it would run).

        Cloud checks all of them in one strict ``/jql/parse``, which validates the values too;
        Data Center has no parse endpoint, so each query is run for zero results there and a 400
        answer read as its errors.
        """
        if not queries:
            return {}
        if self.flavour is Flavour.CLOUD:
            body = self._request("POST", f"{self.api}/jql/parse", params={"validation": "strict"},
                                 json={"queries": list(queries)}, idempotent=True)
            parsed = (body or {}).get("queries") or []
            return {q: [str(e) for e in (p or {}).get("errors") or ()] for q, p in zip(queries, parsed)}
        out: dict[str, list[str]] = {}
        for query in queries:
            try:
                self._request("GET", f"{self.api}/search", params={"jql": query, "maxResults": 0,
                                                                    "validateQuery": "strict", "fields": "id"})
                out[query] = []
            except JiraApiError as exc:
                if exc.status != 400:
                    raise
                out[query] = list(exc.error_messages) or [exc.message]
        return out

    def project_property(self, project_key: str, prop: str) -> Any | None:
        body = self._request("GET", f"{self.api}/project/{_seg(project_key)}/properties/{_seg(prop)}",
                             missing_ok=True)
        return None if body is None else body.get("value")

    def search_pages(self, jql: str, fields: Sequence[str], *, properties: Sequence[str] = (),
                     expand: str | None = None) -> Iterator[list[dict]]:
        """Issues matching ``jql``, one page (list of raw issues) at a time, fetched lazily.

        Cloud: ``/rest/api/3/search/jql`` with ``nextPageToken``/``isLast``, 100 a page. Data
        Center: ``/rest/api/2/search`` with ``startAt``/``total``, 1,000 a page unless the client
        was given a ``page_size``, advancing by what the server actually returned (it may cap
        ``maxResults``); a result larger than ``DC_RESULT_WINDOW`` is read in key windows
        (``_dc_key_windows``). JQL longer than ``LONG_JQL`` is sent by POST, which is still a
        read and so is retried like a GET. The next page is fetched in a background thread while
        the caller works on this one (``prefetch.py``).

        ``properties`` (issue property keys, at most 5) come inline on Cloud only: Data Center's
        search has no such parameter (JRASERVER-62898) and silently returns none, so asking for
        them there is a ``ValueError``; read them with ``get_property`` instead.

        ``expand`` (e.g. ``changelog``) is passed on as is; on Cloud an expanded changelog is cut
        to its latest entries, so read Cloud history with ``bulk_changelogs``.
        """
        field_list = _explicit_fields(fields)
        props = list(properties)
        extra = {"expand": expand} if expand else {}
        if self.flavour is Flavour.CLOUD:
            pages = self._cloud_pages(jql, field_list, props, self.page_size, extra)
        else:
            if props:
                raise ValueError("Jira Data Center's search does not return issue properties; "
                                 "read them per issue with get_property")
            pages = self._dc_pages(jql, field_list, self._page_size or DC_PAGE_SIZE, extra)
        yield from prefetched(pages)

    def _search_call(self, path: str, jql: str, extra: dict[str, Any], fields: list[str],
                     props: list[str]) -> dict:
        method = "POST" if len(jql) > LONG_JQL else "GET"
        if method == "POST":
            body: dict[str, Any] = {"jql": jql, "fields": fields, **extra}
            if props:
                body["properties"] = props
            result = self._request("POST", path, json=body, idempotent=True)
        else:
            params: dict[str, Any] = {"jql": jql, "fields": ",".join(fields), **extra}
            if props:
                params["properties"] = ",".join(props)
            result = self._request("GET", path, params=params)
        if not isinstance(result, dict) or not isinstance(result.get("issues"), list):
            raise JiraApiError("malformed response body (no 'issues' list)", method=method, url=path)
        return result

    def _cloud_pages(self, jql: str, fields: list[str], props: list[str], size: int,
                     more: Mapping[str, Any]) -> Iterator[list[dict]]:
        path = f"{self.api}/search/jql"
        token: str | None = None
        seen: set[str] = set()
        reconcile = own_writes(self.base_url)  # the same list on every page, as the API asks
        while True:
            extra: dict[str, Any] = {"maxResults": size, **more}
            if reconcile:
                extra["reconcileIssues"] = reconcile
            if token:
                extra["nextPageToken"] = token
            page = self._search_call(path, jql, extra, fields, props)
            issues = page["issues"]
            if issues:
                yield issues
            token = page.get("nextPageToken")
            if page.get("isLast") or not token or not issues:
                return
            if token in seen:
                raise JiraApiError("Jira repeated a page token; stopping to avoid an endless read",
                                   method="GET", url=path)
            seen.add(token)

    def _dc_pages(self, jql: str, fields: list[str], size: int, more: Mapping[str, Any]) -> Iterator[list[dict]]:
        path = f"{self.api}/search"
        page = self._search_call(path, jql, {"startAt": 0, "maxResults": size, **more}, fields, [])
        total = page.get("total")
        if isinstance(total, int) and total > DC_RESULT_WINDOW:
            cap = page.get("maxResults")  # the site's own cap, for fitting pages into the window
            step = min(size, cap) if isinstance(cap, int) and cap > 0 else size
            order = _ORDER_BY.search(jql)
            by_key = order is not None and _BY_KEY.fullmatch(order.group()) is not None
            # in key order already, this page is the first window's first page: not read twice
            yield from self._dc_key_windows(path, jql, fields, step, more, first=page if by_key else None)
            return
        start = 0
        while True:
            issues = page["issues"]
            if not issues:
                return
            yield issues
            start += len(issues)
            total = page.get("total")
            if isinstance(total, int) and start >= total:
                return
            page = self._search_call(path, jql, {"startAt": start, "maxResults": size, **more}, fields, [])

    def _dc_key_windows(self, path: str, jql: str, fields: list[str], size: int, more: Mapping[str, Any],
                        first: dict | None = None) -> Iterator[list[dict]]:
        """Data Center refuses pages past its result window (``max_result_window``, 10,000 by
        default), so a larger result is read in windows by key: ``key > LAST`` continues within
        the project of the last key (JQL compares keys only within a project); when that project
        is exhausted it joins a ``project not in (...)`` list. The caller's ORDER BY gives way to
        key order. ``size`` is the page size the site actually serves (its cap, from the first answer);
        ``first``: the answer to the first window's first page, when the caller already has it."""
        where = _ORDER_BY.sub("", jql).strip()
        done: list[str] = []
        current: str | None = None  # the project of the last issue read
        last_key: str | None = None
        while True:
            clauses = [f"({where})"] if where else []
            if done:
                clauses.append(f"project not in ({', '.join(jql_quote(p) for p in done)})")
            keyed = last_key is not None
            if keyed:
                clauses.append(f"key > {jql_quote(last_key)}")
            window = " AND ".join(clauses) + " ORDER BY key ASC"
            start, exhausted = 0, False
            while not exhausted and start + size <= DC_RESULT_WINDOW:
                if first is not None:
                    page, first = first, None
                else:
                    page = self._search_call(path, window, {"startAt": start, "maxResults": size, **more},
                                             fields, [])
                issues = page["issues"]
                if issues:
                    yield issues
                    start += len(issues)
                    for issue in issues:  # key order is project order: a project ends where the next starts
                        project = _project_of(issue["key"])
                        if project != current:
                            if current is not None and current not in done:
                                done.append(current)
                            current = project
                total = page.get("total")
                exhausted = not issues or (isinstance(total, int) and start >= total)
                if issues:
                    last_key = issues[-1]["key"]
            if not exhausted:
                continue  # the window is full: go on after the last key
            if not keyed:
                return  # a window over all remaining projects ran dry: everything is read
            if current is not None and current not in done:
                done.append(current)  # the last key's project is exhausted
            last_key = None

    def bulk_changelogs(self, issues: Sequence[str], field_ids: Sequence[str] = ()) -> Iterator[tuple[str, list]]:
        """Cloud only: ``(issue id, change histories)`` for many issues, ``CHANGELOG_BATCH`` issues per
        ``POST /rest/api/3/changelog/bulkfetch`` call and paged by ``nextPageToken``; an issue's
        histories may span pages (they come oldest first across all issues), so callers merge by id.
        ``field_ids`` (at most ``CHANGELOG_MAX_FIELDS``) keeps only changes to those fields.
        """
        if self.flavour is not Flavour.CLOUD:
            raise ValueError("changelog bulkfetch is a Jira Cloud API; on Data Center search with expand=changelog")
        if len(field_ids) > CHANGELOG_MAX_FIELDS:
            raise ValueError(f"bulkfetch filters on at most {CHANGELOG_MAX_FIELDS} fields")
        path = f"{self.api}/changelog/bulkfetch"
        for start in range(0, len(issues), CHANGELOG_BATCH):
            body: dict[str, Any] = {"issueIdsOrKeys": list(issues[start:start + CHANGELOG_BATCH]),
                                    "maxResults": CHANGELOG_PAGE}
            if field_ids:
                body["fieldIds"] = list(field_ids)
            seen: set[str] = set()
            while True:
                # a read, safe to retry; its answer (megabytes) decoded one issue's changelog at a time
                text = self._request("POST", path, json=body, idempotent=True, as_text=True)
                page: dict[str, Any] = {}
                logs = 0
                try:
                    for entry in array_elements(text or "{}", "issueChangeLogs", page):
                        if not isinstance(entry, dict) or not entry.get("issueId"):
                            raise JiraApiError("malformed response body (a changelog without 'issueId')",
                                               method="POST", url=path)
                        logs += 1
                        yield str(entry["issueId"]), list(entry.get("changeHistories") or [])
                except (ValueError, RecursionError):
                    raise JiraApiError("malformed response body (not JSON)", method="POST", url=path) from None
                if not isinstance(page.get("issueChangeLogs"), list):
                    raise JiraApiError("malformed response body (no 'issueChangeLogs' list)", method="POST",
                                       url=path)
                token = page.get("nextPageToken")
                if not token or not logs:
                    break
                if token in seen:
                    raise JiraApiError("Jira repeated a page token; stopping to avoid an endless read",
                                       method="POST", url=path)
                seen.add(token)
                body["nextPageToken"] = token

    def count(self, jql: str) -> int | None:
        """How many issues ``jql`` matches, for a progress display: Cloud's approximate count
        (``POST /rest/api/3/search/approximate-count``), Data Center's ``total`` of an empty page.
        None when the site cannot say (an older Cloud API, an error): progress without a total."""
        try:
            if self.flavour is Flavour.CLOUD:
                answer = self._request("POST", f"{self.api}/search/approximate-count", json={"jql": jql},
                                       idempotent=True)
                found = answer.get("count") if isinstance(answer, dict) else None
            else:
                answer = self._request("GET", f"{self.api}/search", params={"jql": jql, "maxResults": 0, "fields": "key"})
                found = answer.get("total") if isinstance(answer, dict) else None
        except JiraApiError as exc:
            log.debug("no issue count for the progress display: %s", exc.one_line())
            return None
        return found if isinstance(found, int) and found >= 0 else None

    def search(self, jql: str, fields: Sequence[str], *, properties: Sequence[str] = ()) -> Iterator[dict]:
        for page in self.search_pages(jql, fields, properties=properties):
            yield from page

    def issue(self, key: str, fields: Sequence[str], properties: Sequence[str] = ()) -> dict:
        params: dict[str, Any] = {"fields": ",".join(_explicit_fields(fields))}
        if properties:
            params["properties"] = ",".join(properties)
        return self._request("GET", f"{self.api}/issue/{_seg(key)}", params=params)

    def comments(self, key: str) -> list[dict]:
        """All comments of an issue, every page, oldest first.

        Sorted by the numeric comment id, which Jira assigns in creation order, so the result does
        not depend on a site's default sort or on timestamps in mixed offsets.
        """
        out: list[dict] = []
        start = 0
        while True:
            page = self._get_object(f"{self.api}/issue/{_seg(key)}/comment", startAt=start,
                             maxResults=self.page_size)
            batch = page.get("comments") or []
            out += batch
            start += len(batch)
            total = page.get("total")
            if not batch or not isinstance(total, int) or start >= total:
                return sorted(out, key=lambda c: int(c["id"]) if str(c.get("id", "")).isdecimal() else 0)

    def get_property(self, key: str, prop: str) -> Any | None:
        """An issue property's value; None when the issue has no such property (404)."""
        body = self._request("GET", f"{self.api}/issue/{_seg(key)}/properties/{_seg(prop)}",
                             missing_ok=True)
        return None if body is None else body.get("value")

    def my_permissions(self, project_key: str | None, permissions: Sequence[str]) -> dict[str, bool]:
        body = self._get(f"{self.api}/mypermissions", projectKey=project_key,
                         permissions=",".join(permissions))
        granted = (body or {}).get("permissions") or {}
        return {p: bool((granted.get(p) or {}).get("havePermission")) for p in permissions}

    # --- writes -----------------------------------------------------------------------------

    def edit_labels(self, key: str, add: Sequence[str], remove: Sequence[str], *, notify: bool,
                    properties: Mapping[str, Any] | None = None) -> None:
        """Add/remove labels with ``update`` operations, never replacing labels people set.

        ``properties`` (issue property key -> value) are written too: on Cloud in the same
        request (the edit body takes ``properties``), so labels and state change together; on Data
        Center, where that is not documented, one property request each after the labels.
        ``notify=False`` sends ``notifyUsers=false``, which Jira refuses with 403 unless the
        account administers the project.
        """
        ops = [{"add": label} for label in add] + [{"remove": label} for label in remove]
        props = dict(properties or {})
        inline = self.flavour is Flavour.CLOUD and bool(ops)
        if ops:
            body: dict[str, Any] = {"update": {"labels": ops}}
            if inline and props:
                body["properties"] = [{"key": k, "value": v} for k, v in props.items()]
            self._notifying_write(f"{self.api}/issue/{_seg(key)}", key, notify, ("EDIT_ISSUES",), json=body)
        if not inline:
            for prop, value in props.items():
                self._put_property(key, prop, value)
            self._keep_after_write(key, list(props))

    def _comment_body(self, body: Doc) -> Any:
        return to_adf(body) if self.flavour is Flavour.CLOUD else to_wiki(body)

    def add_comment(self, key: str, body: Doc) -> dict:
        """Create a comment (ADF on Cloud v3, wiki on Data Center v2); returns Jira's comment.

        Not retried after a broken connection (the comment may exist already): on that
        ``JiraApiError`` the caller re-reads ``comments(key)`` before posting again.
        """
        return self._request("POST", f"{self.api}/issue/{_seg(key)}/comment",
                             json={"body": self._comment_body(body)}, idempotent=False, issue_key=key)

    def edit_comment(self, key: str, comment_id: str, body: Doc, *, notify: bool) -> dict:
        return self._notifying_write(f"{self.api}/issue/{_seg(key)}/comment/{_seg(comment_id)}", key, notify,
                                     ("EDIT_OWN_COMMENTS", "EDIT_ALL_COMMENTS"),
                                     json={"body": self._comment_body(body)})

    def _notifying_write(self, path: str, key: str, notify: bool, permissions: Sequence[str], **kw: Any) -> Any:
        """A PUT that may send ``notifyUsers=false``; Jira refusing just that raises ``NotifyRefused``."""
        try:
            return self._request("PUT", path, params=_notify(notify), issue_key=key, **kw)
        except JiraApiError as exc:
            if notify or not self._refused_notify(exc, key, permissions):
                raise
            raise NotifyRefused(exc.message, method=exc.method, url=exc.url, status=exc.status,
                                error_messages=exc.error_messages) from None

    def _refused_notify(self, exc: JiraApiError, key: str, permissions: Sequence[str]) -> bool:
        """Whether a refused ``notifyUsers=false`` write was refused for that parameter alone: a 400
        naming it, or a 403 while the account may make this write but administers neither the
        project nor Jira (what skipping notifications needs). Jira words the message in the
        site's language, so it is not read."""
        if exc.status == 400:
            return any(m.split(":", 1)[0].strip() == "notifyUsers" for m in exc.error_messages)
        if exc.status != 403:
            return False
        try:
            granted = self.my_permissions(_project_of(key), [*permissions, "ADMINISTER_PROJECTS", "ADMINISTER"])
        except JiraApiError:
            return True  # cannot tell: a retry with notifications answers the same 403 if it was not this
        admin = granted["ADMINISTER_PROJECTS"] or granted["ADMINISTER"]
        return any(granted[p] for p in permissions) and not admin

    def delete_comment(self, key: str, comment_id: str) -> None:
        """Delete a comment; a 404 (already gone) counts as done."""
        self._request("DELETE", f"{self.api}/issue/{_seg(key)}/comment/{_seg(comment_id)}",
                      issue_key=key, missing_ok=True)

    def set_property(self, key: str, prop: str, value: Any) -> None:
        self._put_property(key, prop, value)
        self._keep_after_write(key, [prop])

    def _put_property(self, key: str, prop: str, value: Any) -> None:
        self._request("PUT", f"{self.api}/issue/{_seg(key)}/properties/{_seg(prop)}", json=value,
                      issue_key=key)

    def _keep_after_write(self, key: str, props: Sequence[str]) -> None:
        """Data Center with a property cache: read ``updated`` and the properties just written back in
        one request and keep them, so the next run knows them without asking while the issue is
        unchanged. A failed read-back leaves the cache without them (the write itself stands)."""
        if self.property_cache is None or not props or self.flavour is Flavour.CLOUD:
            return
        try:
            raw = self.issue(key, ["updated"], properties=props)
        except JiraApiError as exc:
            log.debug("reading back %s after writing it failed: %s", key, exc)
            return
        updated = ((raw or {}).get("fields") or {}).get("updated")
        if not isinstance(updated, str):
            return
        found = (raw or {}).get("properties") or {}
        for prop in props:
            self.property_cache.store(self.base_url, prop, key, updated, prop in found, found.get(prop))


def _notify(notify: bool) -> dict[str, str]:
    return {} if notify else {"notifyUsers": "false"}


def _seg(value: str) -> str:
    return quote(str(value), safe="")


def _decode(resp: requests.Response) -> Any:
    """The body's JSON: orjson reads UTF-8 bytes (what Jira sends) directly, in half the time of
    ``resp.json()``, which a large read pays once per page. What orjson refuses and the standard
    decoder accepts (NaN, integers beyond 64 bits, a declared non-UTF-8 charset) goes to ``resp.json()``."""
    if (resp.encoding or "utf-8").lower().replace("_", "-") in ("utf-8", "utf8"):
        try:
            return orjson.loads(resp.content)
        except orjson.JSONDecodeError:
            pass
    return resp.json()


def _try_json(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except (ValueError, RecursionError):
        return None


def _explicit_fields(fields: Sequence[str]) -> list[str]:
    """Searches always name their fields: ``*all`` on a big site means megabytes per page."""
    if isinstance(fields, str):
        fields = [f.strip() for f in fields.split(",")]
    out = [f for f in dict.fromkeys(fields) if f]
    if not out or any(f.startswith("*") for f in out):
        raise ValueError("name the fields to fetch explicitly (not empty, not *all/*navigable)")
    return out


def _field_rank(field: Mapping[str, Any]) -> tuple[int, int, int]:
    custom_type = str((field.get("schema") or {}).get("custom", ""))
    known = not field.get("custom") or custom_type.startswith(_KNOWN_SCHEMA_PREFIXES)
    digits = re.sub(r"\D", "", str(field.get("id", "")))
    return (0 if known else 1, 1 if field.get("custom") else 0, int(digits) if digits else 0)


def connect_from_env(prefix: str = "PMO_JIRA_", environ: Mapping[str, str] | None = None,
                     **kwargs: Any) -> JiraClient:
    """A client from ``PMO_JIRA_URL``, ``PMO_JIRA_FLAVOUR`` (cloud|dc|auto) and the credentials."""
    env = os.environ if environ is None else environ
    url = env.get(f"{prefix}URL")
    if not url:
        raise ConfigError(f"{prefix}URL is not set", hint="e.g. https://your-site.atlassian.net")
    flavour_text = (env.get(f"{prefix}FLAVOUR") or "auto").strip().lower()
    if flavour_text not in ("auto", "cloud", "dc"):
        raise ConfigError(f"{prefix}FLAVOUR must be cloud, dc or auto, not {flavour_text!r}")
    flavour = None if flavour_text == "auto" else Flavour(flavour_text)
    return JiraClient(url, Credentials.from_env(prefix, env), flavour=flavour, **kwargs)
