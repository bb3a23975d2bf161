"""Shell completion: step names and variables from the spec in the current directory."""

from __future__ import annotations

import click
from click.shell_completion import (
    BashComplete,
    CompletionItem,
    FishComplete,
    ShellComplete,
    ZshComplete,
)

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
    return _complete(ctx, incomplete, _given(ctx, param), steps=True)


def complete_overrides(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Offer the spec's variables as `NAME=` overrides, for commands that take no targets."""
    return _complete(ctx, incomplete, _given(ctx, param), steps=False)


def _given(ctx: click.Context, param: click.Parameter) -> set[str]:
    """Return the targets and the `NAME=` of the overrides already on the command line."""
    words = ctx.params.get(param.name or "") or ()
    return {word.split("=", 1)[0] + "=" if "=" in word else word for word in words}


def _complete(
    ctx: click.Context, incomplete: str, given: set[str], steps: bool
) -> list[CompletionItem]:
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
            name = statement.name.text
            if steps and name.startswith(incomplete) and name not in given:
                desc = next(
                    (b.value.literal_value() for b in statement.body if isinstance(b, s.Desc)), ""
                )
                items.append(CompletionItem(statement.name.text, help=desc or statement.kind))
        elif (
            isinstance(statement, s.Let)
            and f"{statement.name.text}=".startswith(incomplete)
            and f"{statement.name.text}=" not in given
        ):
            value = statement.value.literal_value()
            items.append(CompletionItem(f"{statement.name.text}=", help=f"override `{value}`"))
    return items


class _BashComplete(BashComplete):
    """click's bash script, with no space after a completion that ends in `=`.

    `compopt -o nospace` holds for every candidate of one completion, which
    matters only when a single candidate is inserted: `cflags=` then waits
    for its value.
    """

    source_template = BashComplete.source_template.replace(
        "            COMPREPLY+=($value)\n",
        "            COMPREPLY+=($value)\n            [[ $value == *= ]] && compopt -o nospace\n",
    )


_ZSH_SORT = """\
        if [[ "$type" == "plain" ]]; then
            if [[ "$descr" == "_" ]]; then"""
_ZSH_SORT_NOSPACE = """\
        if [[ "$type" == "plain" && "$key" == *= ]]; then
            if [[ "$descr" == "_" ]]; then
                completions_nospace+=("$key")
            else
                completions_nospace_with_descriptions+=("$key":"$descr")
            fi
        elif [[ "$type" == "plain" ]]; then
            if [[ "$descr" == "_" ]]; then"""
_ZSH_ADD = """\
    if [ -n "$completions" ]; then"""
_ZSH_ADD_NOSPACE = """\
    if [ -n "$completions_nospace_with_descriptions" ]; then
        _describe -V unsorted completions_nospace_with_descriptions -U -S ''
    fi

    if [ -n "$completions_nospace" ]; then
        compadd -U -V unsorted -S '' -a completions_nospace
    fi

    if [ -n "$completions" ]; then"""


class _ZshComplete(ZshComplete):
    """click's zsh script, with no space after a completion that ends in `=`.

    Such completions go to their own arrays, added with `-S ''`: no suffix.
    """

    source_template = (
        ZshComplete.source_template.replace(
            "    local -a completions_with_descriptions\n",
            "    local -a completions_with_descriptions\n"
            "    local -a completions_nospace\n"
            "    local -a completions_nospace_with_descriptions\n",
        )
        .replace(_ZSH_SORT, _ZSH_SORT_NOSPACE)
        .replace(_ZSH_ADD, _ZSH_ADD_NOSPACE)
    )


# fish (3.6 checked) adds no space after a completion that ends in `=` by itself.
_COMPLETIONS: dict[str, type[ShellComplete]] = {
    "bash": _BashComplete,
    "zsh": _ZshComplete,
    "fish": FishComplete,
}


@click.command()
@click.argument("shell", metavar="SHELL", type=click.Choice(list(_COMPLETIONS)))
def completion(shell: str) -> int:
    """Print the completion script for SHELL.

    \b
    Examples:
      eval "$(parc completion bash)"      # in ~/.bashrc
      eval "$(parc completion zsh)"       # in ~/.zshrc
      parc completion fish > ~/.config/fish/completions/parc.fish
    """
    from parc.cli.group import cli

    script = _COMPLETIONS[shell](cli, {}, "parc", "_PARC_COMPLETE").source()
    click.echo(script)
    return EXIT_OK
