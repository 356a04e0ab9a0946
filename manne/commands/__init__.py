"""Subcommands of the ``manne`` command line, one module each (``add_parser`` and ``run``)."""
