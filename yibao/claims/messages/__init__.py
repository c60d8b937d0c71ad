"""The national interface's settlement transactions (registered in :mod:`yibao.nhsa.registry`)."""
