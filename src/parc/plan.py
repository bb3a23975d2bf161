"""The execution plan: the contract between the compiler and the runtime.

A plan holds every step with its resolved commands, environment, globs,
limits and dependencies, so the runtime never sees the spec's syntax. It
round-trips through JSON (`to_json` and `from_json`), which lets a plan written
on one machine run on another.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

import attrs

PLAN_VERSION = 1

StepKind = Literal["track", "integrate"]


@attrs.frozen
class PlanStep:
    """One step, resolved: names are checked and strings interpolated.

    `index` is the step's position in the spec, which breaks ties between
    steps of equal priority. `after` lists direct dependencies only. `cwd` is
    relative to the project root. `timeout` is in seconds.
    """

    name: str
    kind: StepKind
    index: int
    commands: tuple[str, ...]
    after: tuple[str, ...] = ()
    desc: str = ""
    env: tuple[tuple[str, str], ...] = ()
    cwd: str = "."
    reads: tuple[str, ...] = ()
    owns: tuple[str, ...] = ()
    timeout: float | None = None
    retries: int = 0
    pool: str | None = None
    location: str = ""

    @property
    def incremental(self) -> bool:
        """Whether the step can be skipped as up to date: it declares reads and owns."""
        return bool(self.reads) and bool(self.owns)


@attrs.frozen
class Plan:
    """Every step of a spec, in spec order, with the pools and default targets.

    `root` is the absolute path of the project root, the spec's directory.
    `defaults` are the steps `parc build` runs when no target is named; when
    it is empty, every step runs.
    """

    spec: str
    root: str
    steps: tuple[PlanStep, ...]
    pools: Mapping[str, int] = attrs.field(factory=dict)
    defaults: tuple[str, ...] = ()
    version: int = PLAN_VERSION

    @property
    def by_name(self) -> dict[str, PlanStep]:
        return {step.name: step for step in self.steps}

    def closure(self, targets: Iterable[str]) -> Plan:
        """Return the plan restricted to `targets` and everything they run after.

        Raises:
            KeyError: a target is not a step of the plan.
        """
        by_name = self.by_name
        keep: set[str] = set()
        stack = list(targets)
        for name in stack:
            if name not in by_name:
                raise KeyError(name)
        while stack:
            name = stack.pop()
            if name in keep:
                continue
            keep.add(name)
            stack.extend(by_name[name].after)
        steps = tuple(step for step in self.steps if step.name in keep)
        pools = {name: size for name, size in self.pools.items()}
        return attrs.evolve(self, steps=steps, pools=pools)

    def dependents(self) -> dict[str, list[str]]:
        """Map each step to the steps that run directly after it, in spec order."""
        result: dict[str, list[str]] = {step.name: [] for step in self.steps}
        for step in self.steps:
            for dependency in step.after:
                if dependency in result:
                    result[dependency].append(step.name)
        return result

    def levels(self) -> list[list[str]]:
        """Group the steps into levels: each level runs after the levels before it."""
        level_of: dict[str, int] = {}
        for step in self.topological_order():
            level_of[step.name] = 1 + max((level_of[d] for d in step.after), default=-1)
        levels: list[list[str]] = [[] for _ in range(max(level_of.values(), default=-1) + 1)]
        for step in self.steps:
            levels[level_of[step.name]].append(step.name)
        return levels

    def topological_order(self) -> list[PlanStep]:
        """Return the steps so that every step comes after its dependencies.

        Among steps that are free at the same time, spec order decides.
        """
        by_name = self.by_name
        remaining = {step.name: len(step.after) for step in self.steps}
        dependents = self.dependents()
        ready = [step.name for step in self.steps if remaining[step.name] == 0]
        order: list[PlanStep] = []
        index = 0
        while index < len(ready):
            step = by_name[ready[index]]
            index += 1
            order.append(step)
            for dependent in dependents[step.name]:
                remaining[dependent] -= 1
                if remaining[dependent] == 0:
                    ready.append(dependent)
        return order

    def critical_path(self, weights: Mapping[str, float] | None = None) -> tuple[list[str], float]:
        """Return the heaviest dependency chain and its total weight.

        `weights` maps step names to durations; a step without one weighs 1.
        Ties go to the step earlier in the spec.
        """
        weight = {step.name: 1.0 for step in self.steps}
        if weights:
            weight.update({name: value for name, value in weights.items() if name in weight})
        best: dict[str, float] = {}
        previous: dict[str, str | None] = {}
        for step in self.topological_order():
            heaviest: str | None = None
            for dependency in step.after:
                if heaviest is None or best[dependency] > best[heaviest]:
                    heaviest = dependency
            best[step.name] = weight[step.name] + (best[heaviest] if heaviest else 0.0)
            previous[step.name] = heaviest
        if not best:
            return [], 0.0
        end = max(self.steps, key=lambda step: (best[step.name], -step.index)).name
        path: list[str] = []
        current: str | None = end
        while current is not None:
            path.append(current)
            current = previous[current]
        path.reverse()
        return path, best[end]

    def max_parallelism(self) -> int:
        """Return the largest number of steps that could run at once.

        That is the width of the dependency order: the size of its largest
        antichain, a set of steps none of which runs after another, directly
        or transitively. It can exceed the widest level: with `c` after `b`
        after `a`, `d` after `a` and `e` on its own, the levels are
        `{a, e}`, `{b, d}` and `{c}`, yet `c`, `d` and `e` can run at once.

        By Dilworth's theorem the width equals the fewest chains that cover
        every step, which is the number of steps minus a maximum matching
        between each step and a later step in the same chain. The matching
        starts from chains that follow direct dependencies, then Kuhn's
        augmenting paths, searched through the dependency graph, make it
        maximum.

        NOTE: each augmenting path costs a walk of the whole graph in the
        worst case, so the time is O(k * (steps + dependencies)) for k
        augmentations. The first chains are usually close to a minimum cover
        (on a tree they are one), so k stays small in practice.
        """
        return _Width(self).compute()

    def speedup(self) -> float:
        """Return the estimated speedup over running every step serially.

        With every step weighing the same, that is the number of steps over
        the length of the critical path: the bound that unlimited job slots
        reach, which pools and `-j` can only lower.
        """
        _, length = self.critical_path()
        return len(self.steps) / length if length else 1.0

    # JSON.

    def to_json(self) -> dict[str, Any]:
        """Return the plan as JSON-compatible data, with its derived facts."""
        path, length = self.critical_path()
        return {
            "version": self.version,
            "spec": self.spec,
            "root": self.root,
            "defaults": list(self.defaults),
            "pools": dict(self.pools),
            "steps": [_step_to_json(step) for step in self.steps],
            "levels": self.levels(),
            "critical_path": {"steps": path, "length": int(length)},
            "max_parallelism": self.max_parallelism(),
            "speedup": round(self.speedup(), 3),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        """Rebuild a plan from `to_json` output.

        Raises:
            ValueError: the data is not a plan of a version this parc reads.
        """
        version = data.get("version")
        if version != PLAN_VERSION:
            raise ValueError(
                f"unsupported plan version {version!r}; this parc reads {PLAN_VERSION}"
            )
        steps = tuple(_step_from_json(item) for item in data["steps"])
        return cls(
            spec=data["spec"],
            root=data["root"],
            steps=steps,
            pools=dict(data.get("pools", {})),
            defaults=tuple(data.get("defaults", ())),
        )

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """Return the JSON Schema that `to_json` output follows, as shipped in the package."""
        from importlib import resources

        text = resources.files("parc").joinpath("schema/plan.schema.json").read_text("utf-8")
        schema: dict[str, Any] = json.loads(text)
        return schema

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"


def _step_to_json(step: PlanStep) -> dict[str, Any]:
    return {
        "name": step.name,
        "kind": step.kind,
        "index": step.index,
        "desc": step.desc,
        "after": list(step.after),
        "commands": list(step.commands),
        "env": [[name, value] for name, value in step.env],
        "cwd": step.cwd,
        "reads": list(step.reads),
        "owns": list(step.owns),
        "timeout": step.timeout,
        "retries": step.retries,
        "pool": step.pool,
        "location": step.location,
    }


def _step_from_json(data: Mapping[str, Any]) -> PlanStep:
    return PlanStep(
        name=data["name"],
        kind=data["kind"],
        index=data["index"],
        commands=tuple(data["commands"]),
        after=tuple(data.get("after", ())),
        desc=data.get("desc", ""),
        env=tuple((name, value) for name, value in data.get("env", ())),
        cwd=data.get("cwd", "."),
        reads=tuple(data.get("reads", ())),
        owns=tuple(data.get("owns", ())),
        timeout=data.get("timeout"),
        retries=data.get("retries", 0),
        pool=data.get("pool"),
        location=data.get("location", ""),
    )


class _Width:
    """The maximum antichain size of a plan's dependency order (see `max_parallelism`)."""

    def __init__(self, plan: Plan) -> None:
        self.order = [step.name for step in plan.topological_order()]
        self.dependents = plan.dependents()
        self.after = {step.name: step.after for step in plan.steps}
        # The matching pairs a step with the next step of its chain: `next_of`
        # from the earlier step, `previous_of` from the later one.
        self.next_of: dict[str, str] = {}
        self.previous_of: dict[str, str] = {}

    def compute(self) -> int:
        for name in self.order:
            for dependency in self.after[name]:
                if dependency not in self.next_of:
                    self._pair(dependency, name)
                    break

        # A step from which no augmenting path starts still has none after a
        # failed search elsewhere, so the visited sets are only cleared when
        # the matching changes.
        seen: set[str] = set()
        expanded: set[str] = set()
        for name in self.order:
            if name in self.next_of:
                continue
            if self._augment(name, seen, expanded):
                seen = set()
                expanded = set()
        return len(self.order) - len(self.next_of)

    def _pair(self, earlier: str, later: str) -> None:
        self.next_of[earlier] = later
        self.previous_of[later] = earlier

    def _later_steps(self, name: str, expanded: set[str]) -> Iterator[str]:
        """Yield the steps that run after `name`, skipping the expanded ones.

        A step that an earlier walk expanded has had every step after it
        offered already, so the walk does not enter it again.
        """
        stack = [name]
        while stack:
            for dependent in self.dependents[stack.pop()]:
                if dependent not in expanded:
                    expanded.add(dependent)
                    yield dependent
                    stack.append(dependent)

    def _augment(self, start: str, seen: set[str], expanded: set[str]) -> bool:
        """Search an augmenting path from the unmatched `start`; apply it if found."""
        # Each frame is an earlier step and the later steps still to offer
        # it; `chosen[i]` is the later step that frame i is trying.
        frames = [(start, self._later_steps(start, expanded))]
        chosen: list[str] = []
        while frames:
            _, candidates = frames[-1]
            for later in candidates:
                if later in seen:
                    continue
                seen.add(later)
                owner = self.previous_of.get(later)
                if owner is None:
                    chosen.append(later)
                    for (step, _), target in zip(frames, chosen, strict=True):
                        self._pair(step, target)
                    return True
                chosen.append(later)
                frames.append((owner, self._later_steps(owner, expanded)))
                break
            else:
                frames.pop()
                if chosen:
                    chosen.pop()
        return False
