"""Requirement files in pip's syntax, and their errors with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from wheelhouse.inputs.files import parse_inputs
from wheelhouse.model.errors import RequirementFileError
from wheelhouse.model.formats import ALL


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def test_hashes_are_kept_in_every_spelling(tmp_path: Path) -> None:
    req = _write(
        tmp_path / "req.txt",
        f"alpha==1.0 --hash={A} --hash {B.upper().replace('SHA256', 'sha256')}\n"
        f'beta==2.0 ; python_version < "4" \\\n    --hash={A}  # hashed by hand\n'
        "gamma==1.0\n",
    )
    alpha, beta, gamma = parse_inputs([], [req], []).requirements
    assert alpha.hashes == {A, B} and beta.hashes == {A} and gamma.hashes == frozenset()
    assert str(beta) == 'beta==2.0; python_version < "4"'


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("alpha==1.0 --hash=md5:0123", "md5:0123 is not a sha256 hash"),
        ("alpha==1.0 --hash=sha512:" + "a" * 128, "is not a sha256 hash"),
        ("alpha==1.0 --hash=sha256:abc", "sha256:abc is not a sha256 hash"),
        (f"alpha==1.0 --hash={A} --no-deps", "only --hash options may follow"),
        ("alpha==1.0 --hash", "only --hash options may follow"),
    ],
)
def test_a_bad_hash_names_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    req = _write(tmp_path / "req.txt", f"beta\n{line}\n")
    with pytest.raises(RequirementFileError, match=reason) as caught:
        parse_inputs([], [req], [])
    assert str(caught.value).startswith(f"{req}:2: ")


def test_comments_continuations_extras_markers(tmp_path: Path) -> None:
    req = _write(
        tmp_path / "req.txt",
        (
            "# a comment\n"
            "alpha[fast] >= 1.0  # trailing comment\n"
            "beta \\\n"
            "  ==2.0\n"
            "\n"
            'oldpython ; python_version < "3.12"\n'
            f"delta==1.1 --hash=sha256:{'ab' * 32}\n"
        ),
    )
    inputs = parse_inputs([], [req], [])
    texts = [str(item) for item in inputs.requirements]
    assert texts == [
        "alpha[fast]>=1.0",
        "beta==2.0",
        'oldpython; python_version < "3.12"',
        "delta==1.1",
    ]
    assert inputs.requirements[1].location == f"{req}:3"
    assert inputs.requirements[0].origin == f"-r {req}"


def test_nesting_is_relative_to_the_including_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "sub" / "more.txt", "gamma\n-c pins.txt\n")
    _write(tmp_path / "sub" / "pins.txt", "delta==1.0\n")
    top = _write(tmp_path / "top.txt", "-r sub/more.txt\n--requirement=sub/more.txt\n")
    inputs = parse_inputs(["alpha"], [top], [])
    assert [str(item) for item in inputs.requirements] == ["alpha", "gamma", "gamma"]
    assert [str(item) for item in inputs.constraints] == ["delta==1.0", "delta==1.0"]
    assert inputs.constraints[0].origin.startswith("-c ")


def test_index_options_and_pre(tmp_path: Path) -> None:
    req = _write(
        tmp_path / "r.txt",
        "-i http://a.invalid/simple\n"
        "--extra-index-url http://b.invalid/simple\n--pre\n--prefer-binary\nx\n",
    )
    inputs = parse_inputs([], [req], [])
    assert inputs.index_url == "http://a.invalid/simple"
    assert inputs.extra_index_urls == ["http://b.invalid/simple"]
    assert inputs.pre


def test_environment_variables_expand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINNED", "1.0")
    req = _write(tmp_path / "r.txt", "delta==${PINNED}\n")
    assert str(parse_inputs([], [req], []).requirements[0]) == "delta==1.0"


@pytest.mark.parametrize(
    ("text", "lineno", "reason"),
    [
        ("alpha\nbeta>>=1\n", 2, "Expected"),
        ("alpha\n\n-e git+https://x.invalid/r.git\n", 3, "not a local path"),
        ("pkg @ http://x.invalid/pkg.whl\n", 1, "direct URL"),
        ("-r\n", 1, "takes one value"),
        ("--pre yes\n", 1, "takes no value"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path: Path, text: str, lineno: int, reason: str) -> None:
    req = _write(tmp_path / "bad.txt", text)
    with pytest.raises(RequirementFileError) as info:
        parse_inputs([], [req], [])
    assert str(info.value).startswith(f"{req}:{lineno}: ")
    assert reason in str(info.value)


def test_missing_and_recursive_files(tmp_path: Path) -> None:
    with pytest.raises(RequirementFileError, match="cannot read it") as missing:
        parse_inputs([], [tmp_path / "nope.txt"], [])
    assert missing.value.hint.startswith("check the path")  # not "fix the line"
    loop = _write(tmp_path / "loop.txt", "-r loop.txt\n")
    with pytest.raises(RequirementFileError, match="includes itself"):
        parse_inputs([], [loop], [])


def test_bad_command_line_requirement() -> None:
    with pytest.raises(RequirementFileError, match="argument 2"):
        parse_inputs(["ok", "not a requirement!"], [], [])


def test_deep_nesting_is_an_error_naming_the_file(tmp_path: Path) -> None:
    for number in range(1, 1501):
        _write(tmp_path / f"r{number}.txt", f"-r r{number + 1}.txt\n")
    _write(tmp_path / "r1501.txt", "alpha\n")
    with pytest.raises(RequirementFileError, match=r"r\d+\.txt:1: .*nested more than 100"):
        parse_inputs([], [tmp_path / "r1.txt"], [])


def test_a_huge_or_endless_file_is_refused_by_size(tmp_path: Path) -> None:
    with pytest.raises(RequirementFileError, match=r"/dev/zero.*larger than"):
        parse_inputs([], [Path("/dev/zero")], [])


def test_an_overlong_name_is_refused(tmp_path: Path) -> None:
    req = _write(tmp_path / "long.txt", "a" * (1 << 20) + "\n")
    with pytest.raises(RequirementFileError, match=r"long\.txt:1: .*name is longer than"):
        parse_inputs([], [req], [])
    with pytest.raises(RequirementFileError, match="argument 1"):
        parse_inputs(["b" * 1000], [], [])


def test_undecodable_file_names_the_file(tmp_path: Path) -> None:
    req = tmp_path / "latin.txt"
    req.write_bytes(b"caf\xe9\n")
    with pytest.raises(RequirementFileError, match=r"latin\.txt.*cannot read it"):
        parse_inputs([], [req], [])


def test_binary_options_follow_pips_rules(tmp_path: Path) -> None:
    req = _write(
        tmp_path / "r.txt",
        "--only-binary :all:\n"
        "--no-binary=Native,cext\n"
        "--only-binary cext\n"
        "--prefer-binary\n"
        "alpha\n",
    )
    inputs = parse_inputs([], [req], [])
    assert [str(item) for item in inputs.requirements] == ["alpha"]  # no ":all:" requirement
    formats = inputs.formats
    assert formats.only_binary == {ALL, "cext"} and formats.no_binary == {"native"}
    assert formats.prefer_binary and formats.no_binary_at == (
        str(req),
        2,
        "--no-binary=Native,cext",
    )
    assert formats.allows_sdist("native") and not formats.allows_wheel("native")
    assert formats.allows_wheel("cext") and not formats.allows_sdist("cext")
    assert not formats.allows_sdist("alpha")  # :all:
    reset = parse_inputs(
        [], [_write(tmp_path / "n.txt", "--no-binary :all:\n--no-binary :none:\n")], []
    )
    assert reset.formats.no_binary == set()


@pytest.mark.parametrize(
    ("option", "reason"),
    [
        ("--trusted-host internal.test", "TLS certificates are always verified"),
        ("--use-feature truststore", "a feature of pip"),
        ("-f ./dist", "find-links directories are not read"),
        ("--find-links=./dist", "find-links directories are not read"),
        ("--no-index", "a build resolves against an index"),
        ("-e svn+https://x.invalid/r", "not a local path"),
        ("--no-binary -r", "takes project names"),
        ("--frobnicate", "option --frobnicate is not supported"),
    ],
)
def test_pip_options_not_honoured_are_refused_with_file_and_line(
    tmp_path: Path, option: str, reason: str
) -> None:
    req = _write(tmp_path / "r.txt", f"alpha\n{option}\n")
    with pytest.raises(RequirementFileError) as info:
        parse_inputs([], [req], [])
    assert str(info.value).startswith(f"{req}:2: ")
    assert reason in str(info.value)


def test_require_hashes_needs_every_requirement_pinned_with_a_hash(tmp_path: Path) -> None:
    digest = "a" * 64
    good = _write(tmp_path / "good.txt", f"--require-hashes\nalpha==1.1 --hash=sha256:{digest}\n")
    assert [str(item) for item in parse_inputs([], [good], []).requirements] == ["alpha==1.1"]
    bad = _write(
        tmp_path / "bad.txt",
        f"alpha==1.1 --hash=sha256:{digest}\nbeta>=1 --hash=sha256:{digest}\n--require-hashes\n",
    )
    with pytest.raises(RequirementFileError) as info:
        parse_inputs([], [bad], [])
    assert str(info.value).startswith(f"{bad}:2: ")
    assert f"--require-hashes ({bad}:3)" in str(info.value)
    plain = _write(tmp_path / "plain.txt", "beta>=1\n")
    assert parse_inputs([], [plain], []).requirements  # without the option, no hash is needed


def test_local_projects_are_paths_relative_to_the_working_directory(tmp_path: Path) -> None:
    """A path, ``name @ file:``, ``-e PATH`` (file or argument), as pip and uv read them."""
    (tmp_path / "sub").mkdir()
    req = _write(
        tmp_path / "sub" / "r.txt",
        "./pkgs/liba[test]\n-e ../app\nlibc @ file:///abs/libc\nalpha\n--editable=/abs/e\n",
    )
    inputs = parse_inputs(["../up", "-e .", "/abs/arg"], [req], [])
    found = [(p.path, p.editable, p.name, sorted(p.extras)) for p in inputs.local_projects]
    assert found == [
        ("../up", False, None, []),
        (".", True, None, []),
        ("/abs/arg", False, None, []),
        ("./pkgs/liba", False, None, ["test"]),
        ("../app", True, None, []),
        ("/abs/libc", False, "libc", []),
        ("/abs/e", True, None, []),
    ]
    assert [str(item) for item in inputs.requirements] == ["alpha"]
    assert inputs.local_projects[3].location == f"{req}:1"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("pkg @ https://x.invalid/pkg-1.0.tar.gz", "direct URL"),
        ("-e git+https://x.invalid/r.git#egg=r", "not a local path"),
    ],
)
def test_remote_projects_stay_refused(tmp_path: Path, text: str, reason: str) -> None:
    req = _write(tmp_path / "r.txt", f"{text}\n")
    with pytest.raises(RequirementFileError, match=reason):
        parse_inputs([], [req], [])


def test_a_constraint_cannot_name_a_local_project(tmp_path: Path) -> None:
    con = _write(tmp_path / "c.txt", "./pkgs/liba\n")
    with pytest.raises(RequirementFileError, match="not a local project"):
        parse_inputs(["alpha"], [], [con])
