"""Table tests for plan resolution (buildpack.md "Phase #1: Detection"); pure, no I/O."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from lifecycle.buildpack.resolve import BuildPlan, DetectOutput, PlanSections, resolve
from lifecycle.errors import DetectFailed, DetectFailedWithErrors
from lifecycle.platform.files.group import GroupEntry
from lifecycle.platform.files.plan import Require


def E(bp_id: str, optional: bool = False, ext: bool = False) -> GroupEntry:
    return GroupEntry(bp_id, "1", "0.12", homepage=f"https://{bp_id}", optional=optional,
                      extension=ext)


def S(provides: Sequence[str] = (), requires: Sequence[str | tuple[str, dict[str, Any]]] = ()
      ) -> PlanSections:
    reqs = tuple(Require(r) if isinstance(r, str) else Require(r[0], r[1]) for r in requires)
    return PlanSections(tuple(provides), reqs)


def P(*alts: PlanSections, code: int = 0) -> DetectOutput:
    top = alts[0] if alts else PlanSections()
    return DetectOutput(code, BuildPlan(top, tuple(alts[1:])))


FAIL = DetectOutput(100)
ERR = DetectOutput(1, output="boom")
SKIP = DetectOutput(100, skipped=True, error="exec-env")
TARGET = DetectOutput(-1, error="unable to satisfy target os/arch constraints")


@dataclass
class Case:
    name: str
    order: list[list[GroupEntry]]
    outputs: dict[str, DetectOutput]
    group: list[str] | type[Exception]
    plan: list[tuple[str, list[str], int]] = field(default_factory=list)
    """(name, provider ids, number of requires) per plan entry, in order."""
    extensions: list[str] = field(default_factory=list)


A, B, C, D = E("A"), E("B"), E("C"), E("D")
CASES = [
    Case("provide and require in one buildpack", [[A]], {"A@1": P(S(["x"], ["x"]))},
         ["A"], [("x", ["A"], 1)]),
    Case("empty plan passes", [[A]], {"A@1": P()}, ["A"]),
    Case("require before provide fails", [[A, B]],
         {"A@1": P(S([], ["x"])), "B@1": P(S(["x"]))}, DetectFailed),
    Case("provide then later require", [[A, B]],
         {"A@1": P(S(["x"])), "B@1": P(S([], [("x", {"v": 1})]))}, ["A", "B"],
         [("x", ["A"], 1)]),
    Case("provide nobody requires fails", [[A]], {"A@1": P(S(["x"]))}, DetectFailed),
    Case("later buildpack's provide does not satisfy earlier require", [[A, B]],
         {"A@1": P(S(["x"], ["y"])), "B@1": P(S(["y"], ["x"]))}, DetectFailed),
    Case("optional provider of unused name dropped", [[E("A", True), B]],
         {"A@1": P(S(["zzz"])), "B@1": P()}, ["B"]),
    Case("optional requirer of unprovided name dropped", [[E("A", True), B]],
         {"A@1": P(S([], ["nope"])), "B@1": P(S(["b"], ["b"]))}, ["B"], [("b", ["B"], 1)]),
    Case("required failing member kills group; next group wins", [[A, B], [C]],
         {"A@1": FAIL, "B@1": P(), "C@1": P()}, ["C"]),
    Case("digest §8 #4: [[A(fail),B],[C,D(opt,fail)]] selects C",
         [[A, B], [C, E("D", True)]],
         {"A@1": FAIL, "B@1": P(), "C@1": P(), "D@1": FAIL}, ["C"]),
    Case("all groups fail -> 20", [[A], [B]], {"A@1": FAIL, "B@1": FAIL}, DetectFailed),
    Case("required member errors -> 21", [[A, B]], {"A@1": ERR, "B@1": P()},
         DetectFailedWithErrors),
    Case("optional member errors, group passes without it", [[E("A", True), B]],
         {"A@1": ERR, "B@1": P()}, ["B"]),
    Case("error in one group, plain failure in next -> 21", [[A], [B]],
         {"A@1": ERR, "B@1": FAIL}, DetectFailedWithErrors),
    Case("or alternative used when top level cannot resolve", [[A]],
         {"A@1": P(S([], ["missing"]), S(["x"], ["x"]))}, ["A"], [("x", ["A"], 1)]),
    Case("top level wins when it resolves", [[A]],
         {"A@1": P(S(["t"], ["t"]), S(["o"], ["o"]))}, ["A"], [("t", ["A"], 1)]),
    Case("trials depth-first: A's second alternative serves B", [[A, B]],
         {"A@1": P(S(["x"]), S(["y"])), "B@1": P(S([], ["y"]))}, ["A", "B"],
         [("y", ["A"], 1)]),
    Case("trials: later buildpack's alternative tried before earlier one's", [[A, B]],
         {"A@1": P(S(["x"]), S(["y"])), "B@1": P(S([], ["y"]), S([], ["x"]))}, ["A", "B"],
         [("x", ["A"], 1)]),
    Case("multiple providers of one name", [[A, B, C]],
         {"A@1": P(S(["x"])), "B@1": P(S(["x"])), "C@1": P(S([], ["x"]))}, ["A", "B", "C"],
         [("x", ["A", "B"], 1)]),
    Case("multiple requirers of one name", [[A, B, C]],
         {"A@1": P(S(["x"])), "B@1": P(S([], ["x"])), "C@1": P(S([], ["x"]))},
         ["A", "B", "C"], [("x", ["A"], 2)]),
    Case("provide after the last require is unused", [[A, B, C]],
         {"A@1": P(S(["x"])), "B@1": P(S([], ["x"])), "C@1": P(S(["x"]))}, DetectFailed),
    Case("optional dropping loops until stable", [[E("A", True), E("B", True), C]],
         {"A@1": P(S(["x"], ["z"])), "B@1": P(S([], ["x"])), "C@1": P()}, ["C"]),
    Case("only extensions passed -> fail", [[E("X", ext=True), E("A", True)]],
         {"X@1": P(), "A@1": FAIL}, DetectFailed),
    Case("extension provides for a later buildpack", [[E("X", True, True), A]],
         {"X@1": P(S(["x"])), "A@1": P(S([], ["x"]))}, ["A"], [("x", ["X"], 1)], ["X"]),
    Case("extension providing unused name dropped", [[E("X", True, True), A]],
         {"X@1": P(S(["zzz"])), "A@1": P()}, ["A"]),
    Case("exec-env skipped member is left out", [[A, B]], {"A@1": SKIP, "B@1": P()}, ["B"]),
    Case("all members skipped -> next group", [[A], [B]], {"A@1": SKIP, "B@1": P()}, ["B"]),
    Case("optional is optional only in its last alternative", [[E("A", True), B]],
         {"A@1": P(S(["u"]), S()), "B@1": P()}, ["A", "B"]),
    Case("target mismatch of a required buildpack -> 21", [[A]], {"A@1": TARGET},
         DetectFailedWithErrors),
    Case("target mismatch of an optional buildpack is dropped", [[E("A", True), B]],
         {"A@1": TARGET, "B@1": P()}, ["B"]),
    Case("plan entries in order of first mention", [[A, B]],
         {"A@1": P(S(["y", "x"])), "B@1": P(S([], ["x", "y"]))}, ["A", "B"],
         [("y", ["A"], 1), ("x", ["A"], 1)]),
    Case("empty order -> 20", [], {}, DetectFailed),
    Case("a failing optional member is skipped", [[E("A", True), B]],
         {"A@1": FAIL, "B@1": P()}, ["B"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_resolve(case: Case) -> None:
    if isinstance(case.group, type):
        with pytest.raises(case.group):
            resolve(case.order, case.outputs)
        return
    group, plan = resolve(case.order, case.outputs)
    assert [e.id for e in group.group] == case.group
    assert [e.id for e in group.group_extensions] == case.extensions
    got = [(e.name, [p.id for p in e.providers], len(e.requires)) for e in plan.entries]
    assert got == case.plan


def test_case_count() -> None:
    assert len(CASES) >= 25


def test_group_keeps_api_homepage_and_drops_optional() -> None:
    group, _ = resolve([[E("A", True), B]], {"A@1": P(), "B@1": P()})
    assert group.group[0] == GroupEntry("A", "1", "0.12", "https://A")
    assert group.group[1].homepage == "https://B"


def test_plan_keeps_require_metadata_and_extension_flag() -> None:
    group, plan = resolve([[E("X", True, True), A]],
                          {"X@1": P(S(["x"])), "A@1": P(S([], [("x", {"version": "2"})]))})
    entry = plan.entries[0]
    assert entry.providers[0].extension is True
    assert entry.requires[0].metadata == {"version": "2"}
    assert group.group_extensions[0].extension is True


class _Recording(Mapping[str, DetectOutput]):
    def __init__(self, data: dict[str, DetectOutput]) -> None:
        self.data, self.seen = data, []  # type: ignore[var-annotated]

    def __getitem__(self, key: str) -> DetectOutput:
        self.seen.append(key)
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def test_later_groups_are_not_evaluated_once_one_passes() -> None:
    outputs = _Recording({"A@1": P(), "B@1": P()})
    resolve([[A], [B]], outputs)
    assert outputs.seen == ["A@1"]


def test_notes_show_results_and_tries() -> None:
    notes: list[tuple[int, str]] = []
    resolve([[A, B]], {"A@1": P(S(["x"]), S(["y"])), "B@1": P(S([], ["y"]))},
            lambda lvl, msg: notes.append((lvl, msg)))
    msgs = [m for _, m in notes]
    assert "======== Results ========" in msgs
    assert "pass: A@1" in msgs and "pass: B@1" in msgs
    assert "Resolving plan... (try #1)" in msgs and "Resolving plan... (try #2)" in msgs
    assert (logging.DEBUG, "Resolving plan... (try #1)") in notes


def test_errored_output_is_logged_at_info() -> None:
    notes: list[tuple[int, str]] = []
    with pytest.raises(DetectFailedWithErrors):
        resolve([[A]], {"A@1": ERR}, lambda lvl, msg: notes.append((lvl, msg)))
    assert (logging.INFO, "boom") in notes
    assert (logging.INFO, "err:  A@1 (1)") in notes
