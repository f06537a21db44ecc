"""The ``hub`` command: its subcommands, one module per group."""
