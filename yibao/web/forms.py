"""Forms: what was typed (kept when a page comes back with errors), and each error next to its field.

A service refuses with an :class:`AppError`; its ``details.field`` (or, for refusals that name no field, the
page's own mapping of error codes) says which field the message belongs beside. Anything else is shown at
the top of the form. Text fields refuse the characters no field may hold, as the API's input guard does.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.requests import Request

from yibao.api.guard import _bad_char
from yibao.core.errors import AppError, ValidationFailed
from yibao.web.render import message
from yibao.web.session import check_csrf, lang_of

MAX_FIELD = 2000  # no field of any portal form is longer (operational bound, assumed)


@dataclass
class Form:
    """Submitted values, and the errors to show beside them."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # about the whole form
    remedy: str | None = None

    def get(self, name: str, default: str = "") -> str:
        """A field as typed (trimmed)."""
        return self.values.get(name, default)

    def checked(self, name: str) -> bool:
        """Whether a checkbox was ticked."""
        return name in self.values

    def many(self, name: str) -> list[str]:
        """Every value of a repeated field (checkboxes)."""
        return self.lists.get(name, [])

    @property
    def ok(self) -> bool:
        """No error so far."""
        return not self.errors and self.error is None

    def need(self, *names: str, lang: str = "zh") -> bool:
        """Mark each empty required field; True when all are filled."""
        for n in names:
            if not self.get(n):
                self.errors.setdefault(n, "Required" if lang == "en" else "必填")
        return self.ok

    def refuse(
        self,
        exc: AppError,
        lang: str,
        *,
        fields: Mapping[str, str] | None = None,
        codes: Mapping[str, str] | None = None,
    ) -> None:
        """Put a service's refusal beside the field it concerns (``fields``: service field -> form field)."""
        text = message(exc, lang)
        name = (exc.details or {}).get("field")
        target = (fields or {}).get(name, name) if name else (codes or {}).get(exc.code)
        if target and target in self.known:
            self.errors[target] = text
        else:
            self.error = text
        remedy = (exc.details or {}).get("remedy_en" if lang == "en" else "remedy")
        if remedy:
            self.remedy = str(remedy)

    known: frozenset[str] = frozenset()


def blank(*names: str, **initial: str) -> Form:
    """An empty form with these fields (and a fresh idempotency key for money-moving forms)."""
    f = Form(values={"key": secrets.token_hex(16), **initial})
    f.known = frozenset(names)
    return f


async def read_form(request: Request, *names: str) -> Form:
    """The submitted form, after its CSRF token is checked; control or invisible characters are refused."""
    data = await request.form()
    check_csrf(request, str(data.get("csrf") or ""))
    form = Form()
    form.known = frozenset(names)
    lang = lang_of(request)
    for key, raw in data.multi_items():
        if not isinstance(raw, str) or key == "csrf":
            continue
        value = raw.strip()
        if len(value) > MAX_FIELD:
            form.errors[key] = "Too long" if lang == "en" else "内容过长"
            continue
        bad = _bad_char(value)
        if bad is not None:
            err = ValidationFailed(
                key,
                f"含有不可见或控制字符 U+{ord(bad):04X}",
                f"contains an invisible or control character U+{ord(bad):04X}",
            )
            form.errors[key] = message(err, lang)
        form.values[key] = value
        form.lists.setdefault(key, []).append(value)
    if not form.values.get("key"):
        form.values["key"] = secrets.token_hex(16)
    return form
