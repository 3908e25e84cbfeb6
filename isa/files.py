"""Files, written once for the whole toolchain: reading text and JSON with one clear error,
writing atomically (readers see the old file or the new, never a torn one), appending a
durable log line, making an output directory, and the mode new files get (the umask)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from isa.base import SynthError


def read_text(path: str | Path, what: str = "file") -> str:
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise SynthError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise SynthError(f"{path}: is a directory, not a {what}") from None
    except OSError as e:
        raise SynthError(f"{path}: cannot read: {e.strerror}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SynthError(f"{path}: not UTF-8 text (bad byte at offset {e.start})") from None


def read_lines(path: str | Path, what: str = "file") -> list[str]:
    """The non-empty lines of a text file, stripped; a file with none is an error."""
    lines = [line.strip() for line in read_text(path, what).splitlines() if line.strip()]
    if not lines:
        raise SynthError(f"{path}: holds no texts (one a line)")
    return lines


def parse_json(text: str, path: str | Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise SynthError(f"{path}:{e.lineno}:{e.colno}: malformed JSON: {e.msg}") from None
    except RecursionError:
        raise SynthError(f"{path}: malformed JSON: nested too deeply") from None


def read_json(path: str | Path, what: str = "file") -> Any:
    """A JSON file: a missing, unreadable or malformed one is one SynthError naming it."""
    return parse_json(read_text(path, what), path)


def make_directory(path: str | Path) -> Path:
    """An output directory (and its parents), or one clear error."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise SynthError(f"{path}: is a file, not a directory") from None
    except OSError as e:
        raise SynthError(f"{path}: cannot create the directory: {e.strerror}") from None
    return path


def append_line(path: str | Path, line: str) -> None:
    """Append one line to a log file and make it durable (an interruption can cut only the
    line being written, which readers of such logs skip)."""
    path = Path(path)
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise SynthError(f"{path}: cannot append: {e.strerror}") from None


def write_atomic(path: str | Path, text: str | bytes) -> None:
    """Write a file so that readers see the old content or the new, never a torn one."""
    path = Path(path)
    data = text.encode("utf-8") if isinstance(text, str) else text
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise SynthError(f"{path}: cannot write: {e.strerror}") from None
    try:
        os.fchmod(fd, default_mode())  # mkstemp makes it 0600; a written file gets the user's umask like any other
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise SynthError(f"{path}: cannot write: {e.strerror}") from None


def default_mode(directory: bool = False) -> int:
    """The mode a new file (or directory) gets under the process's umask."""
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask
