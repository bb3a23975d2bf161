"""`python -m parc`: the same as the `parc` command."""

from parc.cli import main

if __name__ == "__main__":
    main()
