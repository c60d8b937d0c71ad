"""English for the portal's Chinese texts (see :mod:`yibao.web.i18n`)."""

from __future__ import annotations

EN: dict[str, str] = {}
