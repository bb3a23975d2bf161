"""The command group finds each command in its module only when it is used."""

from __future__ import annotations

import subprocess
import sys

import click

from parc.cli.group import COMMANDS, cli


def test_each_name_finds_its_command() -> None:
    context = click.Context(cli)
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        assert command is not None, name
        assert command.name == name


def test_unknown_command_is_none() -> None:
    assert cli.get_command(click.Context(cli), "nope") is None


def test_group_imports_no_command_module() -> None:
    probe = (
        "import sys\n"
        "import parc.cli.group\n"
        f"modules = {sorted(module for module, _ in COMMANDS.values())!r}\n"
        "print(sorted(set(modules) & set(sys.modules)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert completed.stdout == "[]\n"
