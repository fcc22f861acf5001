"""Requirements and constraints in pip's requirements-file syntax.

Comments, continuation lines, ``-r``/``-c`` nesting (paths relative to the
including file), extras, markers, ``${VAR}`` expansion, the options that
change where packages come from (``-i``, ``--extra-index-url``, ``--pre``),
which kinds of file they may take (``--only-binary``, ``--no-binary``,
``--prefer-binary``) and ``--require-hashes``. Every other pip option is
refused with its file, line and the reason: nothing is dropped in silence.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath as Path
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement

from wheelhouse.model.errors import RequirementFileError
from wheelhouse.model.formats import Formats
from wheelhouse.model.localproj import DynamicProject, LocalProject, local_reference

if TYPE_CHECKING:  # the lock models build on this module's requirements
    from wheelhouse.model.lockfile import LockSource

__all__ = ["InputRequirement", "Inputs", "parse_inputs"]

_COMMENT = re.compile(r"(^|\s+)#.*$")
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_HASH_OPTION = re.compile(r"\s*--hash(?:=|\s+)(\S+)")
_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")
_VALUED = {"-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url"}
_EDITABLE = {"-e", "--editable"}
_TAKES_VALUE = {"--only-binary", "--no-binary"}
_FLAGS = {"--pre", "--prefer-binary", "--require-hashes"}
_NOT_HERE = "; the build takes its indexes from -i/--extra-index-url"
#: pip's other requirements-file options: refused with the reason, never dropped in silence.
_REFUSED = {
    "--trusted-host": "TLS certificates are always verified, and a plain http:// index needs "
    "no option: remove the line (for a private CA, point SSL_CERT_FILE at its bundle)",
    "--use-feature": "it switches on a feature of pip, which does not resolve here",
    "-f": "find-links directories are not read" + _NOT_HERE,
    "--find-links": "find-links directories are not read" + _NOT_HERE,
    "--no-index": "a build resolves against an index" + _NOT_HERE,
}
#: How deep ``-r``/``-c`` files may nest: far beyond any real project, well short of
#: the interpreter's recursion limit.
MAX_NESTING = 100
#: The longest project name taken: names are short, and an index URL must hold one.
MAX_NAME = 200


@dataclass(frozen=True, kw_only=True, slots=True)
class InputRequirement:
    """A requirement and where the user wrote it.

    ``origin`` is what a lock's ``# via`` shows for it: ``-r requirements.txt``,
    ``-c constraints.txt``, or ``the command line``.
    """

    requirement: Requirement
    origin: str
    location: str
    #: Its ``--hash`` options as ``sha256:<hex>``: the files it may be satisfied by.
    hashes: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return str(self.requirement)


@dataclass(kw_only=True)
class Inputs:
    """Everything the user asked for, in the order given."""

    requirements: list[InputRequirement] = field(default_factory=list)
    constraints: list[InputRequirement] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    pre: bool = False
    files: list[str] = field(default_factory=list)
    formats: Formats = field(default_factory=Formats)  # --only-binary, --no-binary, --prefer-binary
    locked: LockSource | None = None  # --from-lock: its pins stand instead of a resolution
    #: Projects on disk, built into wheels here; and ``-r pyproject.toml`` files whose
    #: dependencies only their build backend knows.
    local_projects: list[LocalProject] = field(default_factory=list)
    dynamic_projects: list[DynamicProject] = field(default_factory=list)

    def add(self, item: InputRequirement, *, constraint: bool) -> None:
        """Take a requirement or constraint, in the order given."""
        (self.constraints if constraint else self.requirements).append(item)


#: Reads a requirements file: its identity (a real path, to find loops) and its text.
#: Raises ``OSError`` or ``UnicodeDecodeError`` when it cannot.
Reader = Callable[[Path], tuple[str, str]]


@dataclass(frozen=True, slots=True)
class _Context:
    read: Reader
    environ: Mapping[str, str]
    #: Where ``--require-hashes`` was given, and requirement lines without pin and hash.
    require_hashes: list[tuple[Path, int, str]] = field(default_factory=list)
    unhashed: list[tuple[Path, int, str]] = field(default_factory=list)


def parse_inputs(
    requirements: list[str],
    requirement_files: list[Path],
    constraint_files: list[Path],
    *,
    read: Reader,
    environ: Mapping[str, str],
) -> Inputs:
    """Parse command-line requirements and requirement/constraint files.

    ``read`` gets each file's text and ``environ`` expands ``${VAR}``: this
    module does no I/O of its own (see :mod:`wheelhouse.inputs.files`).
    """
    inputs = Inputs()
    context = _Context(read, environ)
    for number, text in enumerate(requirements, 1):
        where = f"argument {number}"
        local = _local(text, None, "the command line", where, where, 0)
        if local is not None:
            inputs.local_projects.append(local)
        else:
            inputs.add(_requirement(text, "the command line", where, where, 0), constraint=False)
    for path in requirement_files:
        _parse_file(path, inputs, constraint=False, context=context, seen=())
    for path in constraint_files:
        _parse_file(path, inputs, constraint=True, context=context, seen=())
    if context.require_hashes and context.unhashed:
        path, lineno, line = context.unhashed[0]
        where = "{}:{}".format(*context.require_hashes[0][:2])
        reason = f"--require-hashes ({where}) needs every requirement pinned == with --hash"
        raise RequirementFileError(str(path), lineno, line, reason)
    return inputs


def _requirement(
    text: str, origin: str, where: str, path: str, lineno: int, hashes: frozenset[str] = frozenset()
) -> InputRequirement:
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        raise RequirementFileError(path, lineno, text, str(exc).splitlines()[0]) from None
    if requirement.url:
        raise RequirementFileError(path, lineno, text, "direct URL references are not supported")
    if len(requirement.name) > MAX_NAME:
        reason = f"the project name is longer than {MAX_NAME} characters"
        raise RequirementFileError(path, lineno, text[:60] + "...", reason)
    return InputRequirement(requirement=requirement, origin=origin, location=where, hashes=hashes)


def _local(
    text: str, base: Path | None, origin: str, where: str, path: str, lineno: int
) -> LocalProject | None:
    """The local project a requirement (or ``-e PATH``) names, else None."""
    editable = False
    words = text.split(maxsplit=1)
    if len(words) == 2 and (words[0] in _EDITABLE or words[0].startswith("--editable=")):
        editable, text = True, words[1]
    elif text.startswith("--editable="):
        editable, text = True, text.partition("=")[2]
    try:
        return local_reference(text, base, origin=origin, location=where, editable=editable)
    except ValueError as exc:
        raise RequirementFileError(path, lineno, text, str(exc).splitlines()[0]) from None


def _split_hashes(path: Path, lineno: int, line: str) -> tuple[str, frozenset[str]]:
    """A requirement line's requirement and its ``--hash=sha256:<hex>`` options, as pip takes them.

    Only sha256 is taken: it is the digest indexes and locks give, so it can be checked.
    """
    text, found, options = line.partition(" --hash")
    if not found:
        return line.strip(), frozenset()
    values = _HASH_OPTION.findall(found + options)
    if _HASH_OPTION.sub("", found + options).strip() or not values:
        raise RequirementFileError(str(path), lineno, line, "only --hash options may follow")
    hashes = frozenset(value.lower() for value in values)
    if bad := sorted(value for value in hashes if not _SHA256.fullmatch(value)):
        reason = f"{bad[0]} is not a sha256 hash (give --hash=sha256:<64 hex digits>)"
        raise RequirementFileError(str(path), lineno, line, reason)
    return text.strip(), hashes


def _logical_lines(text: str, environ: Mapping[str, str]) -> Iterator[tuple[int, str]]:
    """Join continuation lines, drop comments, keep the first line's number."""
    pending: list[str] = []
    start = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = lineno
        line = _COMMENT.sub("", raw)
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        joined = " ".join([*pending, line]).strip()
        pending = []
        if joined:
            yield start, _ENV_VAR.sub(lambda m: environ.get(m[1], m[0]), joined)
    if pending and (joined := " ".join(pending).strip()):
        yield start, joined


def _parse_file(
    path: Path, inputs: Inputs, *, constraint: bool, context: _Context, seen: tuple[str, ...]
) -> None:
    try:
        identity, text = context.read(path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        advice = (
            "check the path (a manifest records input files relative to its wheelhouse, "
            "so a copy of it must sit at the same depth beside them)"
        )
        raise RequirementFileError(
            str(path), 0, "", f"cannot read it: {reason}", advice=advice
        ) from None
    if identity in seen:
        raise RequirementFileError(str(path), 0, "", "it includes itself")

    inputs.files.append(str(path))
    for lineno, line in _logical_lines(text, context.environ):
        _parse_line(path, lineno, line, inputs, constraint, context, (*seen, identity))
        if not constraint and not line.startswith("-") and not _pinned_with_hash(line):
            context.unhashed.append((path, lineno, line))


def _pinned_with_hash(line: str) -> bool:
    """Whether a requirement line can be installed in pip's hash-checking mode."""
    text, hashed, _ = line.partition(" --hash")
    return bool(hashed) and ("==" in text or "===" in text)


def _parse_line(
    path: Path,
    lineno: int,
    line: str,
    inputs: Inputs,
    constraint: bool,
    context: _Context,
    seen: tuple[str, ...],
) -> None:
    flag = "-c" if constraint else "-r"
    editable = line.split(maxsplit=1)[0] in _EDITABLE or line.startswith("--editable=")
    if not line.startswith("-") or editable:
        text, hashes = _split_hashes(path, lineno, line)
        where = f"{path}:{lineno}"
        # Relative to the working directory, as pip and uv read them (not to the file).
        local = _local(text, None, f"{flag} {path}", where, str(path), lineno)
        if local is not None and constraint:
            reason = "a constraint names a project on an index, not a local project"
            raise RequirementFileError(str(path), lineno, line, reason)
        if local is not None:
            inputs.local_projects.append(local)
            return
        item = _requirement(text, f"{flag} {path}", where, str(path), lineno, hashes)
        inputs.add(item, constraint=constraint)
        return
    option, value = _split_option(path, lineno, line)
    if option in ("-r", "--requirement", "-c", "--constraint"):
        nested = Path(value) if Path(value).is_absolute() else path.parent / value
        nested_constraint = constraint or option in ("-c", "--constraint")
        if len(seen) >= MAX_NESTING:
            reason = f"requirement files are nested more than {MAX_NESTING} deep"
            raise RequirementFileError(str(path), lineno, line, reason)
        _parse_file(nested, inputs, constraint=nested_constraint, context=context, seen=seen)
    elif option in ("-i", "--index-url"):
        inputs.index_url = value
    elif option == "--extra-index-url":
        inputs.extra_index_urls.append(value)
    elif option == "--pre":
        inputs.pre = True
    elif option == "--require-hashes":
        context.require_hashes.append((path, lineno, line))
    else:
        _format_option(path, lineno, line, inputs, option, value)


def _format_option(
    path: Path, lineno: int, line: str, inputs: Inputs, option: str, value: str
) -> None:
    """``--only-binary``, ``--no-binary`` and ``--prefer-binary``, with pip's meaning."""
    if option == "--prefer-binary":
        inputs.formats = dataclasses.replace(inputs.formats, prefer_binary=True)
        return
    try:
        formats = inputs.formats.updated(option, value)
    except ValueError as exc:
        raise RequirementFileError(str(path), lineno, line, str(exc)) from None
    if option == "--no-binary" and formats.no_binary:
        formats = dataclasses.replace(formats, no_binary_at=(str(path), lineno, line))
    inputs.formats = formats


def _split_option(path: Path, lineno: int, line: str) -> tuple[str, str]:
    """Split ``--opt value``, ``--opt=value`` and ``-rvalue`` forms."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise RequirementFileError(str(path), lineno, line, str(exc)) from None
    head, rest = words[0], words[1:]
    if "=" in head and head.startswith("--"):
        head, first = head.split("=", 1)
        rest = [first, *rest]
    elif len(head) > 2 and not head.startswith("--"):
        head, rest = head[:2], [head[2:], *rest]
    if head in _REFUSED:
        reason = f"option {head} is not supported: {_REFUSED[head]}"
        raise RequirementFileError(str(path), lineno, line, reason)
    needs_value = head in _VALUED or head in _TAKES_VALUE
    if not needs_value and head not in _FLAGS:
        raise RequirementFileError(str(path), lineno, line, f"option {head} is not supported")
    if needs_value and len(rest) != 1:
        raise RequirementFileError(str(path), lineno, line, f"option {head} takes one value")
    if not needs_value and rest:
        raise RequirementFileError(str(path), lineno, line, f"option {head} takes no value")
    return head, rest[0] if rest else ""
