"""Plan resolution: pick the first viable group and its build plan from detect outputs. No I/O.

Buildpack API 0.12 buildpack.md "Phase #1: Detection" (group selection, trials, provides and
requires rules) with the Go lifecycle's details: a buildpack's provides are processed before its
requires; an option is optional only as its buildpack's last alternative; unmet optional
buildpacks are dropped until the trial is stable; extensions do not count as "a buildpack
passed". Progress lines go to an injected ``note(level, message)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from lifecycle.errors import DetectFailed, DetectFailedWithErrors
from lifecycle.platform.files.group import Group, GroupEntry
from lifecycle.platform.files.plan import Plan, PlanEntry, Provider, Require

Note = Callable[[int, str], None]
PASS, FAIL = 0, 100
FAILED_MSG = "No buildpack groups passed detection."
HINT = "Please check that you are running against the correct path."


def _quiet(level: int, msg: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class PlanSections:
    """One alternative of a Build Plan: the names provided and the requirements."""

    provides: tuple[str, ...] = ()
    requires: tuple[Require, ...] = ()


@dataclass(frozen=True, slots=True)
class BuildPlan:
    """What bin/detect wrote: top-level sections and the ``[[or]]`` alternatives."""

    top: PlanSections = PlanSections()
    alternates: tuple[PlanSections, ...] = ()

    def alternatives(self) -> tuple[PlanSections, ...]:
        """Every alternative, top level first, then each ``[[or]]`` in order."""
        return (self.top, *self.alternates)


@dataclass(frozen=True, slots=True)
class DetectOutput:
    """The outcome of one bin/detect: 0 pass, 100 fail, other error; -1 a lifecycle-side
    error (bad plan, target mismatch). ``skipped`` removes the buildpack from its groups
    (exec-env mismatch)."""

    code: int
    plan: BuildPlan = BuildPlan()
    output: str = ""
    error: str | None = None
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class _Option:
    index: int
    el: GroupEntry
    optional: bool
    sections: PlanSections


@dataclass(slots=True)
class _Dep:
    providers: list[GroupEntry] = field(default_factory=list)
    requires: list[Require] = field(default_factory=list)
    extra_provides: list[_Option] = field(default_factory=list)
    early_requires: list[_Option] = field(default_factory=list)


def resolve(order: Sequence[Sequence[GroupEntry]], outputs: Mapping[str, DetectOutput],
            note: Note = _quiet) -> tuple[Group, Plan]:
    """The first group of ``order`` that passes, with its plan.

    ``outputs[entry.key]`` is the detect result of each member (a lazy mapping may run detect
    on first access). Raises DetectFailedWithErrors (21) when every group failed and a buildpack
    errored in a group that failed because of it, else DetectFailed (20).
    """
    errored = False
    for group in order:
        try:
            return resolve_group(group, outputs, note)
        except DetectFailedWithErrors:
            errored = True
        except DetectFailed:
            pass
    if errored:
        raise DetectFailedWithErrors(f"{FAILED_MSG} Buildpack(s) failed with an error.")
    raise DetectFailed(f"{FAILED_MSG} {HINT}")


def resolve_group(group: Sequence[GroupEntry], outputs: Mapping[str, DetectOutput],
                  note: Note = _quiet) -> tuple[Group, Plan]:
    """Resolve one flat group or raise DetectFailed / DetectFailedWithErrors."""
    runs = _collect(group, outputs, note)
    _check_results(runs, note)
    passed = [(el, out) for el, out in runs if out.code == PASS]
    options = [_options(i, el, out) for i, (el, out) in enumerate(passed)]
    deps, trial = _run_trials(options, note)
    if len(trial) != len(runs):
        note(logging.INFO, f"{len(trial)} of {len(runs)} buildpacks participating")
    width = max(len(o.el.id) for o in trial)
    for o in trial:
        note(logging.INFO, f"{o.el.id:<{width}} {o.el.version}")
    return _group_of(trial), _plan_of(deps)


def _collect(group: Sequence[GroupEntry], outputs: Mapping[str, DetectOutput],
             note: Note) -> list[tuple[GroupEntry, DetectOutput]]:
    runs: list[tuple[GroupEntry, DetectOutput]] = []
    for el in group:
        out = outputs[el.key]
        if out.skipped:
            note(logging.DEBUG, f"skip: {el} ({out.error or 'skipped'})")
            continue
        level = logging.DEBUG if out.code in (PASS, FAIL) else logging.INFO
        if out.output:
            note(level, f"======== Output: {el} ========")
            note(level, out.output.rstrip("\n"))
        if out.error:
            note(level, f"======== Error: {el} ========")
            note(level, out.error)
        runs.append((el, out))
    return runs


def _check_results(runs: Sequence[tuple[GroupEntry, DetectOutput]], note: Note) -> None:
    note(logging.DEBUG, "======== Results ========")
    detected, errored, any_buildpack = True, False, False
    for el, out in runs:
        if out.code == PASS:
            note(logging.DEBUG, f"pass: {el}")
            any_buildpack = any_buildpack or not el.extension
            continue
        if out.code == FAIL:
            note(logging.DEBUG, f"{'skip' if el.optional else 'fail'}: {el}")
        else:
            suffix = "" if out.code < 0 else f" ({out.code})"
            note(logging.INFO, f"err:  {el}{suffix}")
            errored = True
        detected = detected and el.optional
    if not detected:
        if errored:
            raise DetectFailedWithErrors("buildpack(s) failed with err")
        raise DetectFailed("no buildpacks participating")
    if not any_buildpack:
        note(logging.DEBUG, "fail: no viable buildpacks in group")
        raise DetectFailed("no buildpacks participating")


def _options(index: int, el: GroupEntry, out: DetectOutput) -> list[_Option]:
    alts = out.plan.alternatives()
    return [_Option(index, el, el.optional and i == len(alts) - 1, s)
            for i, s in enumerate(alts)]


def _run_trials(options: Sequence[Sequence[_Option]],
                note: Note) -> tuple[dict[str, _Dep], list[_Option]]:
    tries = 0
    failure: DetectFailed = DetectFailed("no buildpacks participating")

    def walk(prefix: list[_Option], rest: Sequence[Sequence[_Option]]
             ) -> tuple[dict[str, _Dep], list[_Option]] | None:
        nonlocal tries, failure
        if not rest:
            tries += 1
            try:
                return _run_trial(tries, prefix, note)
            except DetectFailed as e:
                failure = e
                return None
        for opt in rest[0]:
            found = walk([*prefix, opt], rest[1:])
            if found is not None:
                return found
        return None

    found = walk([], options)
    if found is None:
        raise failure
    return found


def _run_trial(n: int, trial: list[_Option],
               note: Note) -> tuple[dict[str, _Dep], list[_Option]]:
    note(logging.DEBUG, f"Resolving plan... (try #{n})")
    while True:
        deps = _dep_map(trial)
        drop: set[int] = set()
        for kind, attr in (("requires", "early_requires"), ("provides unused", "extra_provides")):
            for name, dep in deps.items():
                for opt in getattr(dep, attr):
                    if not opt.optional:
                        note(logging.DEBUG, f"fail: {opt.el} {kind} {name}")
                        raise DetectFailed(f"{opt.el} {kind} {name}")
                    note(logging.DEBUG, f"skip: {opt.el} {kind} {name}")
                    drop.add(opt.index)
        if not drop:
            break
        trial = [o for o in trial if o.index not in drop]
    if not any(not o.el.extension for o in trial):
        note(logging.DEBUG, "fail: no viable buildpacks in group")
        raise DetectFailed("no buildpacks participating")
    return deps, trial


def _dep_map(trial: Sequence[_Option]) -> dict[str, _Dep]:
    deps: dict[str, _Dep] = {}
    for opt in trial:
        for name in opt.sections.provides:
            deps.setdefault(name, _Dep()).extra_provides.append(opt)
        for req in opt.sections.requires:
            dep = deps.setdefault(req.name, _Dep())
            dep.providers.extend(o.el for o in dep.extra_provides)
            dep.extra_provides.clear()
            if dep.providers:
                dep.requires.append(req)
            else:
                dep.early_requires.append(opt)
    return deps


def _group_of(trial: Sequence[_Option]) -> Group:
    def plain(el: GroupEntry) -> GroupEntry:
        return GroupEntry(el.id, el.version, el.api, el.homepage, extension=el.extension,
                          exec_env=el.exec_env)
    return Group(tuple(plain(o.el) for o in trial if not o.el.extension),
                 tuple(plain(o.el) for o in trial if o.el.extension))


def _plan_of(deps: Mapping[str, _Dep]) -> Plan:
    entries = []
    for dep in deps.values():
        if dep.providers and dep.requires:
            provs = tuple(Provider(p.id, p.version, p.extension) for p in dep.providers)
            entries.append(PlanEntry(provs, tuple(dep.requires)))
    return Plan(tuple(entries))
