"""What the application is assembled from, beyond its routers: each domain's access module.

A domain's ``access`` module registers how scopes resolve for its subjects (see
:func:`yibao.core.auth.register_scope_resolver`). The API loads them all when it builds the
application. A command at the server's command line acts as the operator, whose rights need no scope
resolved: commands do not load them (and start faster). A session acting for a person or a staff member
without them fails loudly, naming the subject kind whose resolvers are missing.
"""

from __future__ import annotations

import importlib

ACCESS_MODULES = ("yibao.people.access", "yibao.accounts.access")


def load_access() -> None:
    """Import every domain's access module (each registers its scope resolvers once)."""
    for name in ACCESS_MODULES:
        importlib.import_module(name)
