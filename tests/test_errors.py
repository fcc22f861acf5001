"""Every error the tool explains: a dataclass with a message and a hint.

The classes are found by walking the ``errors`` module of every subpackage, so
an error added without a sample here fails rather than going unchecked.
"""

from __future__ import annotations

import dataclasses
import errno
import importlib
import importlib.util
import inspect
import pkgutil
import traceback
from collections.abc import Callable
from types import ModuleType

import pytest

import wheelhouse
from wheelhouse.commands.errors import (
    CannotFetch,
    ConflictingFiles,
    ConflictingInputs,
    ConflictingPins,
    FileNotHashed,
    NoLockedFile,
    NothingRecorded,
    NotPublishable,
    UnpinnedHashedRequirement,
    VerifyFailed,
)
from wheelhouse.errors import FileSystemError, WheelhouseError
from wheelhouse.house.errors import (
    BadDirectory,
    CannotServe,
    NotALockSource,
    NotAWheelhouse,
    UnreadableFile,
    WheelhouseBusy,
)
from wheelhouse.index.errors import (
    AccessDenied,
    DownloadError,
    HashMismatch,
    IndexUnreachable,
    LimitExceeded,
    Untrusted,
)
from wheelhouse.install.errors import (
    BackendUnavailable,
    CannotCompile,
    CannotUninstall,
    EngineFailed,
    ExtraNotInLock,
    FilesDiffer,
    HashNotListed,
    InstallFailed,
    InterpreterNotFound,
    LockUnusable,
    NotInLock,
    PinMismatch,
    PipNotPinned,
)
from wheelhouse.model.errors import (
    DynamicMetadata,
    InputFileError,
    InvalidFilename,
    InvalidLimit,
    NoMatchingTarget,
    RequirementFileError,
)
from wheelhouse.resolve.errors import (
    ConflictCause,
    NoFileForTarget,
    NoUploadTimes,
    NoVersionFound,
    ResolutionConflict,
    ResolutionFailures,
    ResolutionTooComplex,
    TooManyProjects,
)
from wheelhouse.s3 import errors as s3_errors
from wheelhouse.sdist.errors import (
    BadSdist,
    BuildFailed,
    CannotBuildHere,
    LocalBuildFailed,
    NotAProject,
    SdistBuildFailed,
    SourceNotGiven,
)

TARGET = "cp312-manylinux_2_28_x86_64"
URL = "https://index.example/simple/alpha/"
LOCK = f"wh/locks/{TARGET}.txt"

#: One error of each class, built as the code that raises it does.
SAMPLES: dict[type[WheelhouseError], Callable[[], WheelhouseError]] = {
    NothingRecorded: lambda: NothingRecorded("wh/wheelhouse.toml", "no inputs"),
    CannotFetch: lambda: CannotFetch("wh/wheelhouse.toml", ["a-1.0-py3-none-any.whl: built"]),
    NoLockedFile: lambda: NoLockedFile("native", "2.0", TARGET, ["native-2.0.tar.gz: sdist"]),
    InputFileError: lambda: InputFileError("uv.lock", "it declares no extra x", advice="pick"),
    DynamicMetadata: lambda: DynamicMetadata("pyproject.toml", "[project] dependencies"),
    NotPublishable: lambda: NotPublishable("wh", ["stray file x.whl"]),
    UnpinnedHashedRequirement: lambda: UnpinnedHashedRequirement("r.txt:2", "alpha>=1"),
    FileNotHashed: lambda: FileNotHashed(
        "r.txt:2", "alpha", "1.0", TARGET, [("alpha-1.0-py3-none-any.whl", "aa" * 32)], ["sha256:0"]
    ),
    s3_errors.MissingS3Extra: lambda: s3_errors.MissingS3Extra("boto3", "pip install '.[s3]'"),
    s3_errors.BucketNotFound: lambda: s3_errors.BucketNotFound("b", "http://u:p@h/"),
    s3_errors.AccessDenied: lambda: s3_errors.AccessDenied("s3://b/k", "PUT", "AccessDenied"),
    s3_errors.NoCredentials: lambda: s3_errors.NoCredentials("b"),
    s3_errors.SdkSettings: lambda: s3_errors.SdkSettings("bad profile"),
    s3_errors.StoreUnreachable: lambda: s3_errors.StoreUnreachable("http://h/", "refused"),
    s3_errors.StoreFailed: lambda: s3_errors.StoreFailed("s3://b/k", "PUT", "500"),
    FileSystemError: lambda: FileSystemError("wh/x.whl", "No space left", errno.ENOSPC),
    ConflictingInputs: lambda: ConflictingInputs(
        "inputs", "a/", "b/", {"requirements": (["alpha>=1"], ["alpha>=2"]), "pre": (False, True)}
    ),
    ConflictingPins: lambda: ConflictingPins(TARGET, "a/", "b/", ("alpha",)),
    ConflictingFiles: lambda: ConflictingFiles("alpha-1.0-py3-none-any.whl", "a/", "b/"),
    VerifyFailed: lambda: VerifyFailed("wh", ["stray file", "hash mismatch"]),
    NotAWheelhouse: lambda: NotAWheelhouse("src"),
    WheelhouseBusy: lambda: WheelhouseBusy("wh"),
    BadDirectory: lambda: BadDirectory("dist", "no such directory"),
    CannotServe: lambda: CannotServe("127.0.0.1", 8000, "Address already in use"),
    NotALockSource: lambda: NotALockSource("old.txt", "no such file"),
    UnreadableFile: lambda: UnreadableFile("wh/wheelhouse.toml", "invalid TOML"),
    IndexUnreachable: lambda: IndexUnreachable(URL, "503 Service Unavailable"),
    DownloadError: lambda: DownloadError(f"{URL}alpha-1.0.tar.gz", "connection reset"),
    AccessDenied: lambda: AccessDenied(f"{URL}alpha/", "HTTP 401; no credentials were found"),
    HashMismatch: lambda: HashMismatch(f"{URL}alpha-1.0.tar.gz", "aa" * 32, "bb" * 32),
    LimitExceeded: lambda: LimitExceeded(URL, "the answer is larger than 64 MiB (VARIABLE)"),
    Untrusted: lambda: Untrusted(f"{URL}alpha-1.0.tar.gz", "not a wheel: not a zip file"),
    InvalidLimit: lambda: InvalidLimit("WHEELHOUSE_MAX_PROJECTS", "many", "a whole number"),
    TooManyProjects: lambda: TooManyProjects(10_000, "WHEELHOUSE_MAX_PROJECTS", "alpha"),
    NotInLock: lambda: NotInLock(("beta",), LOCK),
    ExtraNotInLock: lambda: ExtraNotInLock("alpha", "fast", TARGET, ["speedy"]),
    InterpreterNotFound: lambda: InterpreterNotFound("/usr/bin/python9", "no such file"),
    PinMismatch: lambda: PinMismatch([("alpha>=2", "alpha==1.0")], LOCK),
    LockUnusable: lambda: LockUnusable(LOCK, "no such file"),
    PipNotPinned: lambda: PipNotPinned(
        "/venv/bin/python", ["find-links comes from PIP_FIND_LINKS"]
    ),
    BackendUnavailable: lambda: BackendUnavailable("uv", "it is not installed"),
    CannotCompile: lambda: CannotCompile("/usr/bin/python3.8", "installer needs Python >=3.9"),
    InstallFailed: lambda: InstallFailed("pip", 1),
    FilesDiffer: lambda: FilesDiffer(["alpha-1.0-py3-none-any.whl"], LOCK),
    HashNotListed: lambda: HashNotListed(
        "r.txt:1", "alpha", "1.0", "alpha-1.0-py3-none-any.whl", "aa" * 32, ["sha256:0"]
    ),
    CannotUninstall: lambda: CannotUninstall("alpha", "site/alpha-1.0.dist-info", "no RECORD"),
    EngineFailed: lambda: EngineFailed("OSError: disk full", "wh/alpha-1.0-py3-none-any.whl"),
    RequirementFileError: lambda: RequirementFileError("r.txt", 3, "alpha ==", "no version"),
    InvalidFilename: lambda: InvalidFilename("../x.whl", "alpha", "a path", suspicious=False),
    NoMatchingTarget: lambda: NoMatchingTarget("/usr/bin/python3", "cp313-linux", [TARGET]),
    NoVersionFound: lambda: NoVersionFound("alpha>=3", TARGET, ["the command line"], 2, "2.0"),
    ResolutionConflict: lambda: ResolutionConflict(
        TARGET,
        [
            ConflictCause(requirement="base==1.0", parent="clash-a==1.0"),
            ConflictCause(requirement="base==2.0", parent=None),
        ],
    ),
    NoFileForTarget: lambda: NoFileForTarget("sdistonly", "1.0", TARGET, ["only an sdist"]),
    ResolutionFailures: lambda: ResolutionFailures(
        [
            NoFileForTarget("sdistonly", "1.0", TARGET, ["only an sdist"], also=["cp313-win"]),
            NoVersionFound("alpha>=3", TARGET, ["the command line"], 2, "2.0"),
        ]
    ),
    NoUploadTimes: lambda: NoUploadTimes("alpha"),
    ResolutionTooComplex: lambda: ResolutionTooComplex(TARGET, 2000, {"alpha": 12, "beta": 1}),
    BuildFailed: lambda: BuildFailed(
        errors=[
            SdistBuildFailed("alpha-1.0.tar.gz", "Python 3.12.1", "exit status 1"),
            BadSdist("beta-2.0.tar.gz", "not a tar archive"),
        ]
    ),
    CannotBuildHere: lambda: CannotBuildHere(TARGET, "3.12", ["alpha"], "win_amd64"),
    SdistBuildFailed: lambda: SdistBuildFailed("alpha-1.0.tar.gz", "Python 3.12.1", "exit 1"),
    NotAProject: lambda: NotAProject("./pkgs/liba", "it has no pyproject.toml or setup.py"),
    LocalBuildFailed: lambda: LocalBuildFailed("./pkgs/liba", "wh_backend", "RuntimeError: no"),
    SourceNotGiven: lambda: SourceNotGiven(".", "liba", "pkgs/liba"),
    BadSdist: lambda: BadSdist("alpha-1.0.tar.gz", "not a tar archive"),
}

#: Errors whose message lists its causes, one line each after the first, as
#: pip explains a conflict; every other message is one line.
LISTS_CAUSES = {ResolutionConflict, BuildFailed, ResolutionFailures}


def _errors_modules() -> list[ModuleType]:
    """``wheelhouse.errors`` and the ``errors`` module of every subpackage."""
    names = ["wheelhouse.errors"]
    for package in pkgutil.iter_modules(wheelhouse.__path__, "wheelhouse."):
        if package.ispkg and importlib.util.find_spec(f"{package.name}.errors"):
            names.append(f"{package.name}.errors")
    return [importlib.import_module(name) for name in names]


def _error_classes() -> list[type[WheelhouseError]]:
    """Every error class defined in those modules, but the base class itself."""
    found = []
    for module in _errors_modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            defined_here = cls.__module__ == module.__name__
            if defined_here and issubclass(cls, WheelhouseError) and cls is not WheelhouseError:
                found.append(cls)
    return found


CLASSES = _error_classes()


def _sample(cls: type[WheelhouseError]) -> WheelhouseError:
    if cls not in SAMPLES:
        pytest.fail(f"{cls.__module__}.{cls.__name__} has no sample in SAMPLES")
    error = SAMPLES[cls]()
    assert type(error) is cls
    return error


def test_every_subpackage_errors_module_is_walked() -> None:
    walked = {module.__name__ for module in _errors_modules()}
    assert {"wheelhouse.errors", "wheelhouse.resolve.errors", "wheelhouse.sdist.errors"} <= walked
    assert set(SAMPLES) == set(CLASSES), "a sample for a class that is gone"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_an_error_is_a_dataclass(cls: type[WheelhouseError]) -> None:
    assert "__dataclass_params__" in vars(cls), "decorated itself, not only by inheritance"
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    assert not params.frozen and not params.eq
    error = _sample(cls)
    assert {error} == {error}, "hashed by identity, as exceptions are"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_an_error_has_a_message_and_a_hint(cls: type[WheelhouseError]) -> None:
    error = _sample(cls)
    lines = str(error).splitlines()
    assert lines and all(line.strip() for line in lines), repr(str(error))
    assert len(lines) == 1 or cls in LISTS_CAUSES, repr(str(error))
    assert isinstance(error.hint, str) and error.hint.strip()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_args_hold_the_positional_fields(cls: type[WheelhouseError]) -> None:
    error = _sample(cls)
    keywords = {
        field.name: getattr(error, field.name)
        for field in dataclasses.fields(error)
        if field.kw_only
    }
    assert repr(cls(*error.args, **keywords)) == repr(error)
    assert repr(error).startswith(f"{cls.__name__}(")


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_an_error_raised_from_none_has_a_traceback(cls: type[WheelhouseError]) -> None:
    error = _sample(cls)
    with pytest.raises(cls) as caught:
        try:
            raise KeyError("hidden")
        except KeyError:
            raise error from None
    text = "".join(traceback.format_exception(caught.value))
    assert f"{cls.__name__}: {str(error).splitlines()[0]}" in text
    assert "hidden" not in text


SECRET_URL = "https://user:s3cr3t@index.example/simple/alpha/"


@pytest.mark.parametrize(
    "error",
    [
        IndexUnreachable(SECRET_URL, f"401 at {SECRET_URL}"),
        DownloadError(SECRET_URL, f"401 at {SECRET_URL}"),
        AccessDenied(SECRET_URL, f"401 at {SECRET_URL}"),
        HashMismatch(SECRET_URL, "aa" * 32, "bb" * 32),
    ],
    ids=type,
)
def test_index_credentials_are_redacted(error: WheelhouseError) -> None:
    for shown in (str(error), repr(error), repr(error.args)):
        assert "s3cr3t" not in shown
    assert "index.example/simple/alpha/" in str(error)
