"""Order expansion (buildpack.md "Order Resolution"; platform.md "detector" system.toml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.api import Version
from lifecycle.buildpack.descriptor import BuildpackDescriptor
from lifecycle.buildpack.order import expand, merge_system
from lifecycle.errors import DetectError
from lifecycle.platform.files.order import OrderEntry, OrderGroup
from lifecycle.platform.files.system import System


def R(bp_id: str, optional: bool = False) -> OrderEntry:
    return OrderEntry(bp_id, "1", optional)


def G(*refs: OrderEntry) -> OrderGroup:
    return OrderGroup(tuple(refs))


COMPOSITES: dict[str, tuple[OrderGroup, ...]] = {
    "O": (G(R("A"), R("B")), G(R("C"), R("D"))),
    "P": (G(R("E"), R("F")), G(R("G"), R("H"))),
    "N": (G(R("O"), R("X")),),          # nested: N -> O -> ...
    "LOOP": (G(R("LOOP")),),
}


def lookup(bp_id: str, version: str) -> BuildpackDescriptor:
    return BuildpackDescriptor(api=Version(0, 12), id=bp_id, version=version,
                               dir=Path("/bp") / bp_id, order=COMPOSITES.get(bp_id, ()))


def ids(groups: tuple[tuple[object, ...], ...]) -> list[str]:
    return [" ".join(e.id for e in g) for g in groups]  # type: ignore[attr-defined]


def test_plain_groups_pass_through() -> None:
    assert ids(expand([G(R("A"), R("B")), G(R("C"))], lookup)) == ["A B", "C"]


def test_composite_in_the_middle() -> None:
    # spec: [E, O, F] = [[E, A, B, F], [E, C, D, F]]
    assert ids(expand([G(R("E"), R("O"), R("F"))], lookup)) == ["E A B F", "E C D F"]


def test_two_composites_give_the_cartesian_product() -> None:
    # spec: [O, P] = [[A,B,E,F],[A,B,G,H],[C,D,E,F],[C,D,G,H]]
    assert ids(expand([G(R("O"), R("P"))], lookup)) == [
        "A B E F", "A B G H", "C D E F", "C D G H"]


def test_nested_composites_expand_depth_first() -> None:
    assert ids(expand([G(R("N"))], lookup)) == ["A B X", "C D X"]


def test_optional_entry_adds_a_copy_without_it_right_after() -> None:
    assert ids(expand([G(R("A", True), R("B")), G(R("C"))], lookup)) == ["A B", "B", "C"]


def test_optional_composite_copy_comes_after_its_expansions() -> None:
    assert ids(expand([G(R("E"), R("O", True))], lookup)) == ["E A B", "E C D", "E"]


def test_two_optionals() -> None:
    assert ids(expand([G(R("A", True), R("B", True), R("C"))], lookup)) == [
        "A B C", "A C", "B C", "C"]


def test_all_optional_drops_the_empty_group() -> None:
    assert ids(expand([G(R("A", True))], lookup)) == ["A"]


def test_expanded_entries_carry_api_and_optional() -> None:
    (group,) = expand([G(R("A", True))], lookup)
    assert group[0].api == "0.12" and group[0].optional


def test_duplicate_id_in_a_flat_group_is_skipped() -> None:
    assert ids(expand([G(R("A"), R("O"))], lookup)) == ["A B", "A C D"]


def test_composite_cycle_is_an_error() -> None:
    with pytest.raises(DetectError, match="includes itself"):
        expand([G(R("LOOP"))], lookup)


def test_system_pre_and_post_wrap_every_group() -> None:
    system = System(pre=(R("S1"),), post=(R("S2", True),))
    merged = merge_system([G(R("A")), G(R("B"))], system)
    assert [[e.id for e in g.group] for g in merged] == [["S1", "A", "S2"], ["S1", "B", "S2"]]
    assert merged[0].group[2].optional


def test_system_buildpack_already_in_group_is_not_added() -> None:
    system = System(pre=(R("A"),), post=(R("B"),))
    merged = merge_system([G(R("A"), R("C")), G(R("B"))], system)
    assert [[e.id for e in g.group] for g in merged] == [["A", "C", "B"], ["A", "B"]]


def test_system_then_expand() -> None:
    system = System(pre=(R("S", True),))
    assert ids(expand(merge_system([G(R("O"))], system), lookup)) == [
        "S A B", "S C D", "A B", "C D"]
