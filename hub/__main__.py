"""``python -m hub``: the same command line as the ``hub`` console script."""

from hub.cli.main import main

main()
