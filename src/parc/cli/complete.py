"""Shell completion: step names and variables from the spec in the current directory."""

from __future__ import annotations

import click
from click.shell_completion import CompletionItem, get_completion_class

from parc.cli.common import find_spec
from parc.cli.errors import EXIT_OK, UserError
from parc.diagnostics import CompileError
from parc.source import Source


def complete_arguments(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Offer the spec's step names as targets and its variables as `NAME=` overrides.

    Completion must never fail loudly, so a missing or broken spec offers nothing.
    """
    return _complete(ctx, incomplete, steps=True)


def complete_overrides(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Offer the spec's variables as `NAME=` overrides, for commands that take no targets."""
    return _complete(ctx, incomplete, steps=False)


def _complete(ctx: click.Context, incomplete: str, steps: bool) -> list[CompletionItem]:
    from parc.grammar import parse
    from parc.grammar import syntax as s

    try:
        path = find_spec(ctx.params.get("file"))
        document = parse(Source.read(path))
    except (UserError, CompileError, OSError, UnicodeDecodeError):
        return []

    items: list[CompletionItem] = []
    for statement in document.statements:
        if isinstance(statement, s.Step):
            if steps and statement.name.text.startswith(incomplete):
                desc = next(
                    (b.value.literal_value() for b in statement.body if isinstance(b, s.Desc)), ""
                )
                items.append(CompletionItem(statement.name.text, help=desc or statement.kind))
        elif isinstance(statement, s.Let) and f"{statement.name.text}=".startswith(incomplete):
            value = statement.value.literal_value()
            items.append(CompletionItem(f"{statement.name.text}=", help=f"override `{value}`"))
    return items


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> int:
    """Print the completion script for SHELL.

    \b
    Examples:
      eval "$(parc completion bash)"      # in ~/.bashrc
      eval "$(parc completion zsh)"       # in ~/.zshrc
      parc completion fish > ~/.config/fish/completions/parc.fish
    """
    from parc.cli.group import cli

    completion_class = get_completion_class(shell)
    assert completion_class is not None  # click ships all three shells
    script = completion_class(cli, {}, "parc", "_PARC_COMPLETE").source()
    click.echo(script)
    return EXIT_OK
