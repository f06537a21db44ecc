"""``python -m hub``: the same command line as the ``hub`` console script."""

from .cli import main

main()
