"""Chinese first, English on request: templates write the Chinese text, this catalogue gives the English.

``tests/web/test_i18n.py`` checks that every text a template passes to ``t(...)`` has its English here.
"""

from __future__ import annotations

from collections.abc import Callable

from yibao.web.i18n_en import EN

# Messages the portal words for a person rather than as the API does (by error code).
ERRORS: dict[str, tuple[str, str]] = {
    "auth.wrong_credentials": ("身份证号或密码错误", "wrong ID number or password"),
    "auth.forbidden": ("无权办理该业务或查看该信息", "you may not do or see this"),
    "people.not_found": ("未找到该参保人，请核对身份证号", "no insured person with this ID number: check it"),
}


def translator(lang: str) -> Callable[[str], str]:
    """``t(zh)``: the Chinese text, or its English when the page is in English."""
    if lang != "en":
        return _same
    return _english


def _same(text: str) -> str:
    return text


def _english(text: str) -> str:
    return EN.get(text, text)


def error_text(code: str, lang: str) -> str | None:
    """The portal's own wording of an error code, if it has one."""
    pair = ERRORS.get(code)
    if pair is None:
        return None
    return pair[1] if lang == "en" else pair[0]


def label(names: dict[str, tuple[str, str]], code: str, lang: str) -> str:
    """A code's label from a (zh, en) table, the code itself when unknown."""
    pair = names.get(code)
    if pair is None:
        return code
    return pair[1] if lang == "en" else pair[0]
