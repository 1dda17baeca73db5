"""Reading a small text file a person wrote (a mapping, the config): every way it can be the
wrong file is one ``ConfigError`` naming it, never a decoding or operating-system traceback."""

from __future__ import annotations

from pathlib import Path

from pmo_jira.errors import ConfigError


def read_small_text(path: Path, shown: str, *, what: str, max_bytes: int, hints: dict[str, str]) -> tuple[bytes, str]:
    """The file's bytes and its text (UTF-8; a leading byte order mark, which editors on Windows
    write, is dropped). ``shown``: how errors name the file; ``what``: the kind of file
    ("mapping"); ``hints``: the fix for ``missing``, ``folder`` and ``too_big``. A file larger than
    ``max_bytes`` is refused before it is read, so a wrong path answers at once."""
    limit = f"a {what}'s limit of {max_bytes // 1024 // 1024} MiB"
    try:
        size = path.stat().st_size
        if size > max_bytes and path.is_file():
            raise ConfigError(f"the file is {size / 1024 / 1024:.1f} MiB, more than {limit}", file=shown, line=1,
                              hint=hints["too_big"])
        with open(path, "rb") as fh:  # at most one byte past the limit: /dev/zero or a pipe never ends
            raw = fh.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise ConfigError(f"the file holds more than {limit}", file=shown, line=1, hint=hints["too_big"])
    except FileNotFoundError:
        raise ConfigError(f"{what} file not found", file=shown, hint=hints["missing"]) from None
    except IsADirectoryError:
        raise ConfigError(f"is a directory, not a {what} file", file=shown, hint=hints["folder"]) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", file=shown) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError("the file is UTF-16 text", file=shown, line=1, hint="save it as UTF-8")
    try:
        return raw, raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError("the file is not UTF-8 text", file=shown, line=line, hint="save it as UTF-8") from None
