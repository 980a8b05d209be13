"""``python -m modemctl``: the same command line as the ``modemctl`` script."""

from modemctl.cli import main

if __name__ == "__main__":
    main(prog_name="modemctl")
