"""Write a large spec, and a Makefile with the same steps, for the `parc check` benchmark.

Track `tN` runs after its parent `t((N-1)//4)`, so the steps form a tree four
wide. Each track owns `build/tN/**` and reads two globs: its sources and its
parent's library. An integration step reads every library. That makes
N + 1 owns globs, 2N + 1 reads globs, and no conflict or race. The sources
(`src/tN/main.c` and `include/core.h`) are written too, so that no `reads`
glob draws the warning about globs that match no file.

Usage: python bench/check/generate.py TRACKS DIRECTORY
"""

from __future__ import annotations

import argparse
from pathlib import Path


def parent(index: int) -> int | None:
    return (index - 1) // 4 if index > 0 else None


def write_spec(tracks: int, path: Path) -> None:
    lines = ['let cc = "cc"', ""]
    for index in range(tracks):
        up = parent(index)
        header = f"track t{index}" + (f" after t{up}" if up is not None else "")
        library = f'"build/t{up}/lib.a"' if up is not None else '"include/*.h"'
        lines += [
            header + " {",
            f'    reads "src/t{index}/**/*.c", {library}',
            f'    owns "build/t{index}/**"',
            f'    run "mkdir -p build/t{index}"',
            f'    run "{{{{cc}}}} -c src/t{index}/main.c -o build/t{index}/main.o"',
            f'    run "ar rcs build/t{index}/lib.a build/t{index}/main.o"',
            "}",
            "",
        ]
    lines += [
        "integrate release {",
        '    reads "build/*/lib.a"',
        '    owns "dist/**"',
        '    run "mkdir -p dist && tar czf dist/all.tar.gz build"',
        "}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_makefile(tracks: int, path: Path) -> None:
    """Write the same steps as phony targets, with the same dependencies and commands."""
    lines = ["CC = cc", ".PHONY: release " + " ".join(f"t{i}" for i in range(tracks)), ""]
    lines += ["release: " + " ".join(f"t{i}" for i in range(tracks))]
    lines += ["\tmkdir -p dist && tar czf dist/all.tar.gz build", ""]
    for index in range(tracks):
        up = parent(index)
        lines += [
            f"t{index}:" + (f" t{up}" if up is not None else ""),
            f"\tmkdir -p build/t{index}",
            f"\t$(CC) -c src/t{index}/main.c -o build/t{index}/main.o",
            f"\tar rcs build/t{index}/lib.a build/t{index}/main.o",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def write_sources(tracks: int, directory: Path) -> None:
    (directory / "include").mkdir(exist_ok=True)
    (directory / "include" / "core.h").write_text("", encoding="utf-8")
    for index in range(tracks):
        source = directory / "src" / f"t{index}"
        source.mkdir(parents=True, exist_ok=True)
        (source / "main.c").write_text("", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tracks", type=int, help="number of tracks")
    parser.add_argument(
        "directory", type=Path, help="where to write build.par, Makefile and the sources"
    )
    arguments = parser.parse_args()
    arguments.directory.mkdir(parents=True, exist_ok=True)
    write_spec(arguments.tracks, arguments.directory / "build.par")
    write_makefile(arguments.tracks, arguments.directory / "Makefile")
    write_sources(arguments.tracks, arguments.directory)


if __name__ == "__main__":
    main()
