"""The ``yibao`` command line."""
