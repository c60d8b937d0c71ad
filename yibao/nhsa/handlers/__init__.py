"""The transactions of the national interface, one module per group (registered in yibao.nhsa.registry)."""
