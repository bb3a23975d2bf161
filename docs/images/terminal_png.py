"""Turn a terminal capture with colour codes (`tmux capture-pane -p -e`) into a PNG.

Rich draws the text as SVG, and headless Chromium takes a screenshot of it.
Used for the README's picture of a live build:

    tmux capture-pane -p -e > live.ans
    python docs/images/terminal_png.py live.ans docs/images/live-build.png
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.text import Text

COLUMNS = 96


def main(capture: Path, png: Path) -> None:
    lines = capture.read_text(encoding="utf-8").rstrip("\n").split("\n")
    while lines and not re.sub(r"\x1b\[[0-9;]*m", "", lines[-1]).strip():
        lines.pop()
    console = Console(
        file=io.StringIO(),
        record=True,
        width=COLUMNS,
        force_terminal=True,
        color_system="truecolor",
    )
    for line in lines:
        console.print(Text.from_ansi(line), no_wrap=True, crop=True)
    console.print()  # rich's frame clips the last line's descenders otherwise
    with tempfile.TemporaryDirectory() as directory:
        svg = Path(directory) / "terminal.svg"
        svg.write_text(console.export_svg(title="parc build -k -j 3"), encoding="utf-8")
        height = 90 + 25 * len(lines)
        subprocess.run(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={directory}/profile",
                "--hide-scrollbars",
                f"--window-size=1000,{height}",
                f"--screenshot={png.resolve()}",
                svg.as_uri(),
            ],
            check=True,
            capture_output=True,
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
