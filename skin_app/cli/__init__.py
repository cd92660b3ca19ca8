"""The command line, one module per subcommand of ``python -m skin_app`` (see skin_app/__main__.py)."""
