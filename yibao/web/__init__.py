"""云南医保 in a browser: the self-service portal for insured people (server-rendered pages at ``/``).

Pages parse a form, call one service function as the logged-in person (the same access rules as the API,
through :func:`yibao.api.deps.run_unit`: committed before the page answers) and render the result. No rule
and no query lives here.
"""
