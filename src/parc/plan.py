"""The execution plan: the contract between the compiler and the runtime.

A plan holds every step with its resolved commands, environment, globs,
limits and dependencies, so the runtime never sees the spec's syntax. It
round-trips through JSON (`to_json` and `from_json`), which lets a plan written
on one machine run on another.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
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
        """Return the size of the widest level.

        NOTE: this is a lower bound on the largest set of steps that could run
        at once (the widest antichain), which can be larger when chains of
        different lengths overlap.
        """
        return max((len(level) for level in self.levels()), default=0)

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
