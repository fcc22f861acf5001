"""Lock files read as input, without the network: what each format gives a target."""

from __future__ import annotations

from typing import Any

import pytest
from packaging.version import Version

from wheelhouse.model.errors import InputFileError
from wheelhouse.model.lockfile import pylock_lock, requirements_lock
from wheelhouse.model.pyproject import Choice
from wheelhouse.model.targets import Target
from wheelhouse.model.uvlock import uv_lock

LINUX311 = Target(python_version=(3, 11), platform="manylinux_2_28_x86_64")
WIN312 = Target(python_version=(3, 12), platform="win_amd64")
A, B = "a" * 64, "b" * 64


def test_a_pip_compile_lock_with_every_spelling_of_hashes() -> None:
    lock = requirements_lock(
        "--index-url https://index.test/simple\n"
        "--extra-index-url=https://extra.test/simple\n"
        f"alpha[fast]==1.1 --hash=sha256:{A} --hash sha256:{B}\n"
        "winonly==1.0 ; sys_platform == 'win32' \\\n"
        f"    --hash=sha256:{A}  # via markerpkg\n"
        "fullver==1.0 ; python_full_version < '3.11.3' \\\n"
        f"    --hash=sha256:{B}\n",
        "requirements.txt",
    )
    assert lock.index_urls == ("https://index.test/simple", "https://extra.test/simple")
    pins = {pin.name: pin for pin in lock.select(LINUX311, Choice())}
    assert set(pins) == {"alpha", "fullver"}
    assert pins["alpha"].version == Version("1.1")
    assert [file.sha256 for file in pins["alpha"].files] == [A, B]
    assert str(pins["fullver"].marker) == 'python_full_version < "3.11.3"'
    assert pins["alpha"].via == ("--from-lock requirements.txt",)
    assert {pin.name for pin in lock.select(WIN312, Choice())} == {"alpha", "winonly"}


def test_a_requirements_lock_has_no_extras_to_choose() -> None:
    lock = requirements_lock(f"alpha==1.1 --hash=sha256:{A}\n", "requirements.txt")
    with pytest.raises(InputFileError, match="has no extras or groups"):
        lock.select(LINUX311, Choice(extras=("fast",)))


def test_two_versions_of_one_project_for_one_target_are_refused() -> None:
    lock = requirements_lock(
        f"modern==1.0 --hash=sha256:{A}\n"
        f"modern==2.0 ; python_version >= '3.11' --hash=sha256:{B}\n",
        "requirements.txt",
    )
    with pytest.raises(InputFileError, match="two versions of modern"):
        lock.select(LINUX311, Choice())


def _uv(*packages: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "requires-python": ">=3.11", "package": list(packages)}


def _registry(name: str, version: str = "1.0", **extra: Any) -> dict[str, Any]:
    wheel = {"url": f"https://f.test/{name}-{version}-py3-none-any.whl", "hash": f"sha256:{A}"}
    return {
        "name": name,
        "version": version,
        "source": {"registry": "https://index.test/simple"},
        "wheels": [wheel],
        **extra,
    }


def test_a_uv_lock_walk_follows_markers_extras_and_groups() -> None:
    document = _uv(
        {
            "name": "proj",
            "version": "0.1.0",
            "source": {"editable": "."},
            "dependencies": [{"name": "alpha", "extra": ["fast"]}, {"name": "lib"}],
            "dev-dependencies": {"dev": [{"name": "delta"}]},
        },
        {
            "name": "lib",
            "version": "0.1.0",
            "source": {"editable": "packages/lib"},
            "dependencies": [{"name": "winonly", "marker": "sys_platform == 'win32'"}],
        },
        _registry("alpha", **{"optional-dependencies": {"fast": [{"name": "speedy"}]}}),
        _registry("speedy"),
        _registry("winonly"),
        _registry("delta"),
    )
    lock = uv_lock(document, "app/uv.lock")
    linux = {pin.name: pin for pin in lock.select(LINUX311, Choice())}
    assert {name for name, pin in linux.items() if not pin.local} == {"alpha", "speedy"}
    assert {name for name, pin in linux.items() if pin.local} == {"proj", "lib"}  # built here
    assert linux["speedy"].via == ("alpha",)
    assert linux["alpha"].dependencies == ("speedy",)
    assert {pin.name for pin in lock.select(WIN312, Choice(groups=("dev",)))} == {
        "alpha",
        "speedy",
        "winonly",
        "delta",
        "proj",
        "lib",
    }
    members = [(p.path, p.name, p.editable) for p in lock.local_projects()]
    assert members == [("app/.", "proj", True), ("app/packages/lib", "lib", True)]
    assert lock.index_urls == ("https://index.test/simple",)  # where their backends come from


def test_a_virtual_uv_project_is_walked_not_built() -> None:
    root = {"name": "proj", "source": {"virtual": "."}, "dependencies": [{"name": "alpha"}]}
    lock = uv_lock(_uv(root, _registry("alpha")), "uv.lock")
    assert [pin.name for pin in lock.select(LINUX311, Choice())] == ["alpha"]
    assert lock.local_projects() == ()
    assert lock.index_urls == ()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"version": 2, "package": []}, "lock version 2"),
        (
            _uv(
                {"name": "p", "version": "1", "source": {"virtual": "."}},
                {"name": "g", "version": "1.0", "source": {"git": "https://g.test/g"}},
            ),
            "g 1.0 comes from git, not from an index",
        ),
        (_uv(_registry("alpha")), "no project to start from"),
        (
            _uv({"name": "p", "version": "1", "source": {"virtual": "."}, "dependencies": [{}]}),
            "not a uv.lock this tool can read",
        ),
    ],
)
def test_a_uv_lock_that_cannot_be_used_is_refused(document: dict[str, Any], message: str) -> None:
    with pytest.raises(InputFileError, match=message) as info:
        uv_lock(document, "uv.lock")
    assert str(info.value).startswith("uv.lock: ")


def test_a_target_the_lock_was_not_made_for_is_refused() -> None:
    wheel = {"url": "https://f.test/alpha-1.1-py3-none-any.whl", "hashes": {"sha256": A}}
    document = {
        "lock-version": "1.0",
        "created-by": "hand",
        "requires-python": ">=3.11",
        "environments": ['sys_platform == "linux"'],
        "packages": [{"name": "alpha", "version": "1.1", "wheels": [wheel]}],
    }
    lock = pylock_lock(document, "pylock.toml")
    assert [pin.name for pin in lock.select(LINUX311, Choice())] == ["alpha"]
    with pytest.raises(InputFileError, match="none of its environments is target cp312-win_amd64"):
        lock.select(WIN312, Choice())
    old = Target(python_version=(3, 10), platform="manylinux_2_28_x86_64")
    with pytest.raises(InputFileError, match=r"for Python >=3\.11, which target cp310-"):
        lock.select(old, Choice())
    uv = uv_lock(_uv({"name": "p", "version": "1", "source": {"virtual": "."}}), "uv.lock")
    with pytest.raises(InputFileError, match=r"for Python >=3\.11"):
        uv.select(old, Choice())
