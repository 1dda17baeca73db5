"""Run settings: defaults < config file < ``PMO_JIRA_*`` environment < command-line flags.

Unattended runs (cron, CI, Kubernetes) need one file that names every Jira site of the
portfolio, so the file is strict: an unknown key or a secret in it stops the run with one line
that names ``file:line`` and the fix. Secrets never come from here (see ``pmo_jira.credentials``):
config files end up in repositories, backups and ConfigMaps.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from pmo_jira.errors import ConfigError
from pmo_jira.suggest import did_you_mean
from pmo_jira.textfile import read_small_text

CONFIG_NAME = "pmo-jira.toml"
ENV_PREFIX = "PMO_JIRA_"
SECRET_KEYS = frozenset({"token", "api_token", "apitoken", "password", "secret", "pat",
                         "personal_access_token"})

_SITE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def token_env_name(site_name: str) -> str:
    """The default env var holding a site's token: ``PMO_JIRA_TOKEN_<NAME>`` (``-`` -> ``_``)."""
    return f"{ENV_PREFIX}TOKEN_" + re.sub(r"[^A-Za-z0-9]", "_", site_name).upper()


_URL_EXAMPLE = "e.g. https://your-site.atlassian.net or https://jira.example.com/jira"


def check_site_url(text: str) -> str:
    """A Jira site's base URL, checked the way the HTTP client will read it; ``ValueError`` says
    what is wrong in words (a bad port or an unclosed ``[`` would otherwise only fail on the first
    request, as a puzzle)."""
    v = text.strip()
    if not v or any(c.isspace() or ord(c) < 32 for c in v):
        raise ValueError(f"not a web address: {text!r} (it is empty or holds spaces or control "
                         f"characters; {_URL_EXAMPLE})")
    if re.match(r"^[^:/]*://[^/?#]*@", v):  # before anything that would echo the URL
        raise ValueError("a user name or password in the URL is refused (remove 'user:...@'; the "
                         "account's email goes in `email`, its token in the environment or keyring)")
    if "://" not in v:
        raise ValueError(f"not an http(s) URL: {text!r} (the scheme is missing: https://{v.lstrip('/')})")
    try:
        parts = urlsplit(v)
        port = parts.port
    except ValueError as exc:
        reason = str(exc)
        if "IPv6" in reason:
            reason = "an IPv6 address must be closed by ']', e.g. http://[::1]:8080"
        elif "Port" in reason:
            reason = "the port must be a number from 1 to 65535"
        raise ValueError(f"not a valid URL: {text!r} ({reason})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {text!r} ({_URL_EXAMPLE})")
    if not parts.hostname:
        raise ValueError(f"not an http(s) URL: {text!r} (it names no host; {_URL_EXAMPLE})")
    if port == 0:
        raise ValueError(f"not a valid URL: {text!r} (the port must be a number from 1 to 65535)")
    if parts.query or parts.fragment:
        raise ValueError(f"not a Jira base URL: {text!r} (remove the '?...' or '#...' part; {_URL_EXAMPLE})")
    return v.rstrip("/")


class _Strict(BaseModel):
    # defer_build: a model's validator is built when first used; nested ones never are (their
    # parent's validator covers them), which saves every run that time at start-up
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def _not_a_bool(value: Any) -> Any:
    """TOML ``true`` is not 1: a number setting refuses it (env text such as "500" still converts)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    return value


Count = Annotated[int, BeforeValidator(_not_a_bool)]
Share = Annotated[float, BeforeValidator(_not_a_bool)]


class SiteSettings(_Strict):
    """One Jira site. ``name`` labels every finding, report row and log line of that site."""

    name: str
    url: str
    flavour: Literal["cloud", "dc", "auto"] = "auto"
    email: str | None = None  # Cloud account email (Basic auth user); not a secret
    token_env: str | None = None  # env var holding the token; default PMO_JIRA_TOKEN_<NAME>
    mapping: Path | None = None  # overrides the top-level mapping for this site
    projects: tuple[str, ...] | None = None  # overrides the mapping's project scope

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _SITE_NAME.match(v):
            raise ValueError("site names use letters, digits, '-' and '_' (they label findings "
                             "and name the token env var)")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_site_url(v)

    @field_validator("token_env")
    @classmethod
    def _token_env(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", v):
            raise ValueError("token_env names an environment variable (e.g. PMO_JIRA_TOKEN_PROD), "
                             "not the token itself")
        return v

    @property
    def token_var(self) -> str:
        return self.token_env or token_env_name(self.name)


class WritebackSettings(_Strict):
    """Overrides of the mapping's write-back block; None keeps the mapping's value."""

    max_writes: Count | None = Field(default=None, gt=0)
    max_resolved_share: Share | None = Field(default=None, gt=0, le=1)
    notify: bool | None = None
    concurrency: Count | None = Field(default=None, ge=1, le=32)
    max_write_timeouts: Count = Field(default=3, ge=1, le=1000)  # writes in a row without an answer that stop a site


def _data_home(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local" / "share")
    return Path(base) / "pmo-jira"


class Settings(_Strict):
    """Everything a run needs besides secrets and the mapping's own content."""

    sites: tuple[SiteSettings, ...] = ()
    mapping: Path | None = None
    history: str | None = None  # SQLite file or postgresql:// URL; default <XDG_DATA_HOME>/pmo-jira/history.sqlite
    lock: Path | None = None  # run lock file; load_settings defaults it to pmo-jira.lock next to the history
    state_cache: Path | None = None  # Data Center sync state cache; defaults to pmo-jira-state.sqlite next to the history
    writeback: WritebackSettings = WritebackSettings()
    sites_at_once: Count = Field(default=4, ge=1, le=32)  # sites read concurrently in one run
    log_format: Literal["text", "json"] = "text"
    summary_json: Path | None = None
    _config_file: Path | None = PrivateAttr(default=None)

    @property
    def config_file(self) -> Path | None:
        """The config file these settings came from (None: environment only)."""
        return self._config_file

    @field_validator("history")
    @classmethod
    def _history(cls, v: str | None) -> str | None:
        if v and "://" in v and not v.startswith("sqlite") and urlsplit(v).password is not None:
            raise ValueError("a password in the history URL is refused (remove it; set "
                             "PMO_JIRA_HISTORY_PASSWORD or PGPASSWORD, or run `pmo-jira login --history`)")
        return v

    @field_validator("sites")
    @classmethod
    def _unique(cls, sites: tuple[SiteSettings, ...]) -> tuple[SiteSettings, ...]:
        names = [s.name for s in sites]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"site names must be unique: {', '.join(twice)} appears more than once")
        by_var: dict[str, str] = {}
        for site in sites:  # 'dc-prod' and 'DC_prod' would read one token: the wrong one for a site
            if site.token_env is None and site.token_var in by_var:
                raise ValueError(f"sites {by_var[site.token_var]!r} and {site.name!r} would both read their token "
                                 f"from {site.token_var} (rename one, or give one its own token_env)")
            by_var.setdefault(site.token_var, site.name)
        return sites

    def site(self, name: str) -> SiteSettings:
        for s in self.sites:
            if s.name == name:
                return s
        raise ConfigError(f"no site named {name!r}", file=self._where(),
                          hint=did_you_mean(name, [s.name for s in self.sites])
                          or "sites: " + (", ".join(s.name for s in self.sites) or "none"))

    def select_sites(self, names: Sequence[str] = ()) -> list[SiteSettings]:
        """The sites a run covers: the named ones, or all. At least one, or a ConfigError."""
        if not self.sites:
            raise ConfigError(
                "no Jira site configured",
                hint=f"create {CONFIG_NAME} with a [sites.<name>] table (docs/config.md) "
                     "or set PMO_JIRA_URL")
        return [self.site(n) for n in names] if names else list(self.sites)

    def mapping_for(self, site: SiteSettings) -> Path:
        path = site.mapping or self.mapping
        if path is None:
            raise ConfigError(f"no mapping for site {site.name!r}", file=self._where(),
                              hint="set `mapping = \"path/to/mapping.yaml\"` in the config file "
                                   "or PMO_JIRA_MAPPING")
        return path

    def _where(self) -> str | None:
        return _display(self.config_file) if self.config_file else None


# --- finding the file -----------------------------------------------------------------------------


def find_config(config_path: str | os.PathLike[str] | None, env: Mapping[str, str],
                cwd: Path | None = None) -> Path | None:
    """``--config`` > ``$PMO_JIRA_CONFIG`` > ``./pmo-jira.toml`` > user config folder > none."""
    explicit = config_path or env.get(f"{ENV_PREFIX}CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError("config file not found", file=str(path),
                              hint="check --config / PMO_JIRA_CONFIG")
        return path
    local = (cwd or Path.cwd()) / CONFIG_NAME
    if local.is_file():
        return local
    xdg = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    user = Path(xdg) / "pmo-jira" / "config.toml"
    return user if user.is_file() else None


# --- loading --------------------------------------------------------------------------------------

_ENV_KEYS: dict[str, tuple[str, ...]] = {
    "MAPPING": ("mapping",),
    "HISTORY": ("history",),
    "LOCK": ("lock",),
    "STATE_CACHE": ("state_cache",),
    "LOG_FORMAT": ("log_format",),
    "SITES_AT_ONCE": ("sites_at_once",),
    "SUMMARY_JSON": ("summary_json",),
    "MAX_WRITES": ("writeback", "max_writes"),
    "MAX_RESOLVED_SHARE": ("writeback", "max_resolved_share"),
    "NOTIFY": ("writeback", "notify"),
    "CONCURRENCY": ("writeback", "concurrency"),
    "MAX_WRITE_TIMEOUTS": ("writeback", "max_write_timeouts"),
}
OVERRIDE_KEYS: frozenset[str] = frozenset(path[-1] for path in _ENV_KEYS.values())


MAX_CONFIG_BYTES = 1024 * 1024
"""Largest config file read: one with hundreds of sites is a few dozen kilobytes."""


def load_settings(config_path: str | os.PathLike[str] | None = None,
                  env: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Any] | None = None, *, cwd: Path | None = None) -> Settings:
    """Read the config file (if any), then apply ``PMO_JIRA_*`` env vars, then ``overrides``.

    ``overrides`` are flag values keyed by setting name (``mapping``, ``history``, ``lock``,
    ``log_format``, ``summary_json``, ``max_writes``, ``notify``, ``concurrency``); None means
    "flag not given". Without a config file a single site comes from ``PMO_JIRA_URL``,
    ``PMO_JIRA_EMAIL``, ``PMO_JIRA_FLAVOUR`` (and optionally ``PMO_JIRA_SITE`` for its name).
    """
    env = os.environ if env is None else env
    path = find_config(config_path, env, cwd)
    if path is not None:
        _, text = read_small_text(path, _display(path), what="config", max_bytes=MAX_CONFIG_BYTES, hints={
            "missing": "check --config / PMO_JIRA_CONFIG", "folder": "name the .toml file",
            "too_big": "is this the right file? a config is a few dozen lines of TOML"})
        data, locate = _parse_toml(text, _display(path))
        base = path.parent
    else:
        data, locate, base = _env_site(env), (lambda loc: None), Path.cwd()

    from_env: dict[Loc, str] = {}  # settings the environment gave: an error names the variable
    for name, keypath in _ENV_KEYS.items():
        value = env.get(ENV_PREFIX + name)
        if value not in (None, ""):
            _put(data, keypath, value)
            from_env[keypath] = ENV_PREFIX + name
    outside = {keypath[0] for keypath in from_env}  # what the environment or a flag gave, not the file
    for key, value in (overrides or {}).items():
        if key not in OVERRIDE_KEYS:
            raise ValueError(f"unknown settings override {key!r}")
        if value is not None:
            keypath = next(p for p in _ENV_KEYS.values() if p[-1] == key)
            _put(data, keypath, value)
            from_env.pop(keypath, None)
            outside.add(keypath[0])

    where = _display(path) if path else None
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, where, locate, from_env) from None
    return _resolve_paths(settings, base, path, env, outside=outside, cwd=cwd or Path.cwd())


def _display(path: Path) -> str:
    """The path as the user would type it: relative when it is under the working folder."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _env_site(env: Mapping[str, str]) -> dict[str, Any]:
    url = env.get(f"{ENV_PREFIX}URL")
    if not url:
        return {}
    site: dict[str, Any] = {"name": env.get(f"{ENV_PREFIX}SITE") or "jira", "url": url,
                            "token_env": f"{ENV_PREFIX}TOKEN"}
    if env.get(f"{ENV_PREFIX}EMAIL"):
        site["email"] = env[f"{ENV_PREFIX}EMAIL"]
    if env.get(f"{ENV_PREFIX}FLAVOUR"):
        site["flavour"] = env[f"{ENV_PREFIX}FLAVOUR"]
    return {"sites": [site]}


def _put(data: dict[str, Any], keypath: tuple[str, ...], value: Any) -> None:
    for key in keypath[:-1]:
        data = data.setdefault(key, {})
    data[keypath[-1]] = value


def _resolve_paths(settings: Settings, base: Path, path: Path | None, env: Mapping[str, str], *,
                   outside: set[str], cwd: Path) -> Settings:
    """Relative paths in a config file mean "next to the file", so cron's cwd does not matter;
    those of ``outside`` keys (an environment variable or a flag gave them) mean the working
    folder's, as on any command line."""

    def fix(p: Path | None, key: str) -> Path | None:
        if p is None:
            return None
        p = p.expanduser()
        return p if p.is_absolute() else (cwd if key in outside else base) / p

    history = settings.history or str(_data_home(env) / "history.sqlite")
    if "://" not in history:
        history = str(fix(Path(history), "history"))
    beside_history = Path(history).parent if "://" not in history else _data_home(env)
    lock = fix(settings.lock, "lock") or beside_history / "pmo-jira.lock"
    state_cache = fix(settings.state_cache, "state_cache") or beside_history / "pmo-jira-state.sqlite"
    sites = tuple(s.model_copy(update={"mapping": fix(s.mapping, "sites")}) for s in settings.sites)
    out = settings.model_copy(update={
        "sites": sites, "mapping": fix(settings.mapping, "mapping"), "history": history, "lock": lock,
        "state_cache": state_cache,
        "summary_json": fix(settings.summary_json, "summary_json")})
    out._config_file = path
    return out


# --- TOML with line numbers -----------------------------------------------------------------------

Loc = tuple[Any, ...]


def _parse_toml(text: str, path: str) -> tuple[dict[str, Any], Any]:
    """Parse TOML; return data ready for validation and a ``loc -> line`` function.

    ``[sites.<name>]`` tables become a list of sites named by their key; ``[[sites]]`` arrays are
    taken as they are. Secrets are refused here, before validation, so the message is specific.
    """
    if sys.version_info >= (3, 11):  # loaded here: a run configured by the environment alone reads no TOML
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        msg = re.sub(r"\s*\(at line.*\)$", "", str(exc))
        raise ConfigError(f"invalid TOML: {msg}", file=path,
                          line=int(m.group(1)) if m else None) from None
    lines = _key_lines(text)
    site_keys: list[str] = []
    sites = data.get("sites")
    if isinstance(sites, dict):
        site_keys = list(sites)
        listed = []
        for name, table in sites.items():
            if isinstance(table, dict):
                table = {"name": name, **table}
            listed.append(table)
        data["sites"] = listed

    def toml_loc(loc: Loc) -> Loc:
        if site_keys and len(loc) >= 2 and loc[0] == "sites" and isinstance(loc[1], int):
            return ("sites", site_keys[loc[1]], *loc[2:])
        return loc

    def locate(loc: Loc) -> int | None:
        loc = toml_loc(loc)
        for n in range(len(loc), 0, -1):
            if loc[:n] in lines:
                return lines[loc[:n]]
        return None

    locate.toml_loc = toml_loc  # type: ignore[attr-defined]
    _refuse_secrets(data, (), path, locate)
    return data, locate


def _key_lines(text: str) -> dict[Loc, int]:
    """Map key paths to the line defining them, by scanning tables and ``key =`` lines.

    Enough for error messages: tables (``[a.b]``), arrays of tables (``[[a]]``, indexed in order)
    and dotted or plain keys. Keys inside inline tables fall back to the enclosing line.
    """
    out: dict[Loc, int] = {}
    counts: dict[Loc, int] = {}
    prefix: Loc = ()
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", line)
        if m:
            name = _split_key(m.group(1))
            index = counts.get(name, 0)
            counts[name] = index + 1
            prefix = (*name, index)
            out.setdefault(name, lineno)
            out[prefix] = lineno
            continue
        m = re.match(r"^\[\s*([^\]]+?)\s*\]", line)
        if m:
            prefix = _split_key(m.group(1))
            out.setdefault(prefix, lineno)
            continue
        m = re.match(r'^((?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|\'[^\']*\'))*)\s*=',
                     line)
        if m:
            key = (*prefix, *_split_key(m.group(1)))
            for n in range(len(prefix) + 1, len(key) + 1):
                out.setdefault(key[:n], lineno)
    return out


def _split_key(dotted: str) -> Loc:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)', dotted)
    return tuple(a or b or c for a, b, c in parts)


def _refuse_secrets(node: Any, loc: Loc, file: str, locate: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key.lower() in SECRET_KEYS and value not in (None, ""):
                site_loc = loc[:2] if loc[:1] == ("sites",) and len(loc) >= 2 else None
                raise ConfigError(
                    "secrets are not read from the config file", file=file,
                    line=locate((*loc, key)), key=_dotted(locate.toml_loc((*loc, key))),
                    hint=_secret_hint(node, site_loc))
            _refuse_secrets(value, (*loc, key), file, locate)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _refuse_secrets(item, (*loc, i), file, locate)


def _secret_hint(table: dict[str, Any], site_loc: Loc | None) -> str:
    if site_loc is None or not isinstance(table.get("name"), str):
        return "set it in the environment or run `pmo-jira login <site>`, and remove it from the file"
    name = table["name"]
    var = table.get("token_env") or token_env_name(name)
    return f"remove it, then set {var} or run `pmo-jira login {name}`"


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _allowed_keys(loc: Loc) -> list[str]:
    """Field names valid at the parent of ``loc`` (for did-you-mean)."""
    model: Any = Settings
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        ann = field.annotation
        inner = [a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)]
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
        elif inner:
            model = inner[0]
        else:
            return []
    return list(model.model_fields)


_ENV_SITE_KEYS = {"url": "URL", "email": "EMAIL", "flavour": "FLAVOUR", "name": "SITE"}


def _env_name(loc: Loc) -> str:
    """How an error names a setting that came from the environment (the site's own variables by name)."""
    if len(loc) == 3 and loc[0] == "sites" and loc[2] in _ENV_SITE_KEYS:
        return ENV_PREFIX + _ENV_SITE_KEYS[loc[2]]
    return "env " + _dotted(loc)


def _config_error(exc: ValidationError, file: str | None, locate: Any, from_env: Mapping[Loc, str]) -> ConfigError:
    err = exc.errors(include_url=False)[0]
    loc: Loc = tuple(err["loc"])
    more = len(exc.errors()) - 1
    variable = next((var for keypath, var in from_env.items() if loc[:len(keypath)] == keypath), None)
    toml_loc = getattr(locate, "toml_loc", lambda x: x)(loc)
    key = f"{variable} ({_dotted(loc)})" if variable else _dotted(toml_loc) if file else _env_name(loc)
    line = None if variable else locate(loc)
    hint = None
    if err["type"] == "extra_forbidden":
        message = "unknown key"
        hint = did_you_mean(str(loc[-1]), _allowed_keys(loc))
    elif err["type"] == "literal_error":
        message = f"{err['input']!r} is not one of {err['ctx']['expected']}"
    elif err["type"] == "missing":
        message = "required key is missing"
    else:
        from pmo_jira.mapping.schema import plain_error  # the mapping's words for the same mistakes

        plain = plain_error(err["type"], err.get("input"), err.get("ctx") or {})
        message, hint = plain if plain else (err["msg"].removeprefix("Value error, "), None)
        if hint and ("quote" in hint or hint.startswith("write [")):  # how to write it in the file
            hint = None if variable else hint.replace(f"[{err.get('input')}]", f'["{err.get("input")}"]')
    if more:
        hint = (hint + "; " if hint else "") + f"{more} more problem{'s' if more > 1 else ''} after this one"
    return ConfigError(message, file=None if variable else file, line=line, key=key, hint=hint)
