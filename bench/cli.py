"""`python -m bench`: run the benchmarks, list them, or write one graph to a directory."""

from __future__ import annotations

import logging
import shlex
import shutil
import sys
from pathlib import Path

import click

from bench.catalog import MAKE, NINJA, Settings, all_benchmarks
from bench.report import describe_machine, markdown, to_json, update_document
from bench.suite import Benchmark, run_all
from bench.timing import GNU_TIME, HYPERFINE, BenchError, require_tools
from bench.writers import materialize

REPOSITORY = Path(__file__).resolve().parent.parent


def _default_parc() -> str:
    """Return the `parc` script beside this Python, or the one on PATH."""
    beside = Path(sys.executable).parent / "parc"
    if beside.is_file():
        return str(beside)
    return shutil.which("parc") or "parc"


def _compile_parc() -> None:
    """Write the bytecode of the parc package that this Python imports.

    pip writes it when it installs a package, but an editable install gets
    it only on the first import, and never under PYTHONDONTWRITEBYTECODE:
    every start of parc would then compile its modules again, about 50 ms.
    """
    import compileall

    import parc

    package = Path(parc.__file__).parent
    if not compileall.compile_dir(package, quiet=1):
        logging.getLogger("bench").warning("could not compile every module under %s", package)


def _select(settings: Settings, names: tuple[str, ...]) -> list[Benchmark]:
    benchmarks = all_benchmarks(settings)
    known = [benchmark.name for benchmark in benchmarks]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise click.BadParameter(
            f"no benchmark named `{unknown[0]}`; choose from {', '.join(known)}",
            param_hint="--only",
        )
    return [benchmark for benchmark in benchmarks if not names or benchmark.name in names]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Compare parc with GNU make and ninja on generated graphs."""


@cli.command("list")
@click.option("--quick", is_flag=True, help="Show the sizes of a quick run.")
def list_benchmarks(quick: bool) -> None:
    """List the benchmarks and the comparisons each one runs."""
    settings = Settings(parc=("parc",), quick=quick)
    for benchmark in all_benchmarks(settings):
        click.echo(f"{benchmark.name}: {benchmark.description}")
        for comparison in benchmark.comparisons:
            commands = ", ".join(tool.command for tool in comparison.tools)
            click.echo(f"  {comparison.name}: {commands}")


@cli.command()
@click.argument("name")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--quick", is_flag=True, help="Write the graph at the size of a quick run.")
def generate(name: str, directory: Path, quick: bool) -> None:
    """Write the graph of benchmark NAME into DIRECTORY, as build.par, Makefile and build.ninja."""
    settings = Settings(parc=("parc",), quick=quick)
    (benchmark,) = _select(settings, (name,))
    graph = benchmark.generate()
    try:
        materialize(graph, directory)
    except FileExistsError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"wrote {len(graph.steps)} steps of shape {graph.shape} to {directory}")


@cli.command()
@click.option(
    "--doc",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also replace the results between the markers of this Markdown page.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write every timing as JSON [default: WORKDIR/results.json].",
)
@click.option(
    "--only",
    multiple=True,
    metavar="NAME",
    help="Run only this benchmark; repeat for more [default: all].",
)
@click.option(
    "--parc",
    "parc_command",
    metavar="COMMAND",
    help="The command that runs parc, such as `python -m parc` [default: the venv's parc].",
)
@click.option("--quick", is_flag=True, help="Run 3 rounds and smaller graphs: a few minutes.")
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    metavar="N",
    help="Time N rounds of each comparison [default: 10, or 5 for the slow ones].",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/bench"),
    show_default=True,
    help="Where the generated graphs go; each benchmark gets a directory of its own.",
)
def run(
    doc: Path | None,
    json_path: Path | None,
    only: tuple[str, ...],
    parc_command: str | None,
    quick: bool,
    runs: int | None,
    workdir: Path,
) -> None:
    """Run the benchmarks and print the results as Markdown."""
    parc = tuple(shlex.split(parc_command)) if parc_command else (_default_parc(),)
    settings = Settings(parc=parc, quick=quick)
    benchmarks = _select(settings, only)
    require_tools(
        {
            HYPERFINE: "hyperfine",
            GNU_TIME: "time",
            MAKE: "make",
            NINJA: "ninja-build",
            parc[0]: None,
        }
    )

    if not parc_command:
        _compile_parc()
    command = shlex.join(["python", "-m", "bench", *sys.argv[1:]])
    machine = describe_machine(parc, REPOSITORY)
    results = run_all(benchmarks, workdir.resolve(), runs)

    descriptions = {benchmark.name: benchmark.description for benchmark in benchmarks}
    text = markdown(results, descriptions, machine, command)
    destination = json_path or workdir / "results.json"
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(to_json(results, machine, command))
    if doc is not None:
        update_document(doc, text)
    click.echo(text, nl=False)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="bench: %(message)s")
    try:
        cli.main(prog_name="python -m bench")
    except BenchError as error:
        click.echo(f"bench: error: {error}", err=True)
        sys.exit(1)
