"""The graph every tool runs: steps, their commands, dependencies and files."""

from __future__ import annotations

from collections.abc import Iterator

import attrs


@attrs.frozen
class Step:
    """One step of a benchmark graph.

    `after` names the steps it runs after. A file step declares `output` (and
    usually `inputs`); make and ninja then know it by its output path, which
    is what lets them skip it when it is up to date. A step without `output`
    is a phony step that runs on every build. `duration` is the time in
    seconds its command takes by design (a `sleep`), 0 for commands that
    take no time on purpose.
    """

    name: str
    command: str
    after: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    output: str | None = None
    duration: float = 0.0

    @property
    def target(self) -> str:
        """The name make and ninja know the step by: its output, or its name."""
        return self.output if self.output is not None else self.name


@attrs.frozen
class Graph:
    """A named graph of steps in dependency order, and the source files it needs.

    `join` names the step that runs after every other step, when there is
    one; the spec declares it as an integration step, which runs after every
    track without listing them. `sources` are files that exist before any
    build; `directories` are created before any build, so that commands
    never need `mkdir`.
    """

    shape: str
    steps: tuple[Step, ...]
    join: str | None = None
    sources: tuple[str, ...] = ()
    directories: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        seen: set[str] = set()
        for step in self.steps:
            if step.name in seen:
                raise ValueError(f"step `{step.name}` is defined twice in shape `{self.shape}`")
            missing = [name for name in step.after if name not in seen]
            if missing:
                raise ValueError(
                    f"step `{step.name}` runs after `{missing[0]}`, which is not defined "
                    f"before it in shape `{self.shape}`"
                )
            seen.add(step.name)
        if self.join is not None:
            self._check_join(self.join)

    def _check_join(self, join: str) -> None:
        """Raise ValueError unless `join` is the last step and runs after every other one.

        The spec declares the join as an integration step without `after`, so
        the Makefile and build.ninja must give it exactly that dependency set.
        """
        last = self.steps[-1] if self.steps else None
        if last is None or last.name != join:
            raise ValueError(f"join step `{join}` is not the last step of shape `{self.shape}`")
        others = {step.name for step in self.steps[:-1]}
        if set(last.after) != others:
            raise ValueError(
                f"join step `{join}` of shape `{self.shape}` must run after every other step"
            )

    @property
    def by_name(self) -> dict[str, Step]:
        return {step.name: step for step in self.steps}

    def edges(self) -> Iterator[tuple[str, str]]:
        """Yield every dependency as (step, step it runs after)."""
        for step in self.steps:
            for dependency in step.after:
                yield step.name, dependency

    def critical_path(self) -> float:
        """Return the sum of designed durations along the heaviest dependency chain."""
        finish: dict[str, float] = {}
        for step in self.steps:
            start = max((finish[name] for name in step.after), default=0.0)
            finish[step.name] = start + step.duration
        return max(finish.values(), default=0.0)
