"""Each command's help teaches by example."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from parc.cli.group import cli

COMMANDS = cli.list_commands(click.Context(cli))


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_shows_examples(command: str) -> None:
    result = CliRunner().invoke(cli, [*command.split(), "--help"])
    assert result.exit_code == 0
    examples = result.output.split("Examples:\n", 1)
    assert len(examples) == 2, result.output
    first = examples[1].splitlines()[0].strip()
    assert first.startswith("parc ") or first.startswith("eval ")
