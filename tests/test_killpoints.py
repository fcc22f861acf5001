"""All or nothing: a write command killed at any file mutation leaves the old set or the new.

Each write command runs in a process of its own that counts its renames,
removals, links and opens for writing inside the directory it writes, and
kills itself at one of them (see :mod:`killpoints`). After the kill, the tree
must be wholly old or wholly new to a reader; the next run of the command must
finish or undo the interrupted one, end as a run never killed does, pass
``verify`` and leave no temporary file or staging directory. Every point is
tried by default; ``--killpoints N`` tries N of them, spread evenly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from consistency import differences, snapshot
from indexserver import IndexServer
from killpoints import (
    SCENARIOS,
    Reference,
    Scenario,
    invoke,
    judge_point,
    reference,
    report,
    run_hooked,
    sample,
)


def _head(scenario: Scenario, ref: Reference, points: list[int], failed: list[list[str]]) -> str:
    return (
        f"{scenario.name}: {len(failed)} of {len(points)} kill points tried broke all-or-nothing "
        f"(the command makes {len(ref.mutations)} mutations; tried {points})"
    )


@pytest.mark.parametrize("name", ["build-new", "build", "refresh", "prune", "fetch", "index"])
def test_a_kill_at_any_mutation_leaves_the_old_set_or_the_new(
    name: str, tmp_path: Path, index_server: IndexServer, killpoint_limit: int | None
) -> None:
    scenario = SCENARIOS[name](tmp_path / "setup", index_server)
    ref = reference(scenario, tmp_path)
    assert ref.mutations, f"{name} made no mutation to kill at"
    points = sample(len(ref.mutations), killpoint_limit)
    results = [judge_point(scenario, ref, tmp_path, point) for point in points]
    failed = [lines for lines in results if lines]
    assert not failed, report(_head(scenario, ref, points, failed), failed)


def test_an_interrupted_merge_reruns_to_a_mergeable_wheelhouse(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """Every kill point of a merge into a new OUT; after the next run OUT merges again."""
    scenario = SCENARIOS["merge"](tmp_path / "setup", index_server)
    ref = reference(scenario, tmp_path)
    points = sample(len(ref.mutations), None)
    failed = []
    for point in points:
        problems = judge_point(scenario, ref, tmp_path, point)
        out, again = tmp_path / f"point-{point}", tmp_path / f"again-{point}"
        merged = invoke(["merge", "-w", str(again), str(out)])
        if merged.exit_code != 0:
            problems = problems or [f"kill point {point}:"]
            problems.append(f"OUT does not merge into a new wheelhouse: {merged.output.strip()}")
        failed += [problems] if problems else []
    assert not failed, report(_head(scenario, ref, points, failed), failed)


def test_a_new_wheelhouse_killed_before_its_first_manifest_is_still_ours(
    tmp_path: Path, index_server: IndexServer
) -> None:
    """Whatever a killed first build left, the next build takes the directory as its own."""
    scenario = SCENARIOS["build-new"](tmp_path / "setup", index_server)
    ref = reference(scenario, tmp_path)
    manifest_at = next(
        (n for n, line in enumerate(ref.mutations, 1) if line.endswith(" wheelhouse.toml")),
        len(ref.mutations),
    )
    root = tmp_path / "wh"
    run = run_hooked(scenario, root, tmp_path / "killed.log", kill_at=manifest_at)
    assert run.killed, run.stderr
    result = invoke(scenario.command(root))
    assert result.exit_code == 0, (
        f"build-new killed at point {manifest_at} ({ref.mutations[manifest_at - 1]}): "
        f"the next build refused the directory it had begun: {result.output.strip()}"
    )
    assert differences(snapshot(root), ref.after) == []
