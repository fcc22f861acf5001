"""Lock renderings: pip-compile style requirements, hash-free constraints, PEP 751."""

from __future__ import annotations

from packaging.markers import Marker
from packaging.pylock import Pylock
from packaging.utils import canonicalize_name
from packaging.version import Version

from wheelhouse.model.distributions import DistFile
from wheelhouse.model.locks import (
    Lock,
    Pin,
    parse_requirements_lock,
    pylock_dict,
    render_constraints,
    render_requirements,
)
from wheelhouse.model.targets import Target

TARGET = Target(python_version=(3, 12), platform="manylinux_2_28_x86_64")


def _file(filename: str, digest: str) -> DistFile:
    name = filename.split("-")[0]
    return DistFile.create(
        filename=filename,
        url=f"http://x.invalid/{filename}",
        project=name,
        sha256=digest,
        size=10,
        upload_time="2024-01-02T03:04:05Z",
    )


def _lock() -> Lock:
    return Lock(
        target=TARGET,
        pins=(
            Pin(
                name=canonicalize_name("beta"),
                version=Version("2.0"),
                files=(_file("beta-2.0-py3-none-any.whl", "b" * 64),),
                via=("alpha", "gamma"),
            ),
            Pin(
                name=canonicalize_name("alpha"),
                version=Version("1.1"),
                files=(_file("alpha-1.1-py3-none-any.whl", "a" * 64),),
                via=("-r requirements.txt",),
                dependencies=(canonicalize_name("beta"),),
            ),
            Pin(
                name=canonicalize_name("fullver"),
                version=Version("1.0"),
                files=(_file("fullver-1.0.tar.gz", "f" * 64),),
                via=("markerpkg",),
                marker=Marker('python_full_version < "3.12.3"'),
            ),
        ),
    )


def test_requirements_lock_is_sorted_hashed_and_annotated() -> None:
    text = "\n".join(render_requirements(_lock()))
    assert text.splitlines()[3:] == [
        "alpha==1.1 \\",
        f"    --hash=sha256:{'a' * 64}",
        "    # via -r requirements.txt",
        "beta==2.0 \\",
        f"    --hash=sha256:{'b' * 64}",
        "    # via",
        "    #   alpha",
        "    #   gamma",
        'fullver==1.0 ; python_full_version < "3.12.3" \\',
        f"    --hash=sha256:{'f' * 64}",
        "    # via markerpkg",
    ]
    assert "cp312-manylinux_2_28_x86_64" in text


def test_requirements_lock_reads_back() -> None:
    entries = parse_requirements_lock("\n".join(render_requirements(_lock())) + "\n")
    assert [(e.name, e.version, e.via) for e in entries] == [
        ("alpha", "1.1", ("-r requirements.txt",)),
        ("beta", "2.0", ("alpha", "gamma")),
        ("fullver", "1.0", ("markerpkg",)),
    ]
    assert entries[2].marker == 'python_full_version < "3.12.3"'
    assert entries[0].line == f"alpha==1.1 --hash=sha256:{'a' * 64}"


def test_constraints_have_no_hashes() -> None:
    lines = list(render_constraints(_lock()))
    assert "alpha==1.1" in lines
    assert not any("--hash" in line for line in lines)


def test_pylock_is_valid_and_uses_relative_paths_only() -> None:
    document = pylock_dict(_lock())
    lock = Pylock.from_dict(document)
    assert str(lock.lock_version) == "1.0"
    alpha = next(package for package in lock.packages if package.name == "alpha")
    assert alpha.wheels is not None
    assert alpha.wheels[0].path == "../alpha-1.1-py3-none-any.whl"
    assert alpha.wheels[0].url is None
    fullver = next(package for package in lock.packages if package.name == "fullver")
    assert fullver.sdist is not None and fullver.sdist.path == "../fullver-1.0.tar.gz"
    assert str(fullver.marker) == 'python_full_version < "3.12.3"'
    assert lock.environments is not None
    assert 'python_version == "3.12"' in str(lock.environments[0])
