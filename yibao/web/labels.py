"""Plain words for the codes services return (scheme, status, relation, ledger entry kinds), Chinese and English."""

from __future__ import annotations

Pair = tuple[str, str]

SCHEMES: dict[str, Pair] = {
    "employee": ("城镇职工基本医疗保险", "Employee basic medical insurance"),
    "resident": ("城乡居民基本医疗保险", "Urban and rural resident medical insurance"),
}
STATUSES: dict[str, Pair] = {
    "normal": ("正常参保", "insured (normal)"),
    "suspended": ("暂停参保", "suspended"),
    "terminated": ("终止参保", "terminated"),
    "active": ("有效", "active"),
    "ended": ("已解除", "ended"),
    "open": ("正常", "open"),
    "closed": ("已注销", "closed"),
    "pending": ("待审核", "pending"),
    "approved": ("已批准", "approved"),
    "rejected": ("未批准", "rejected"),
}
GROUPS: dict[str, Pair] = {
    "general": ("普通居民", "general resident"),
    "student_child": ("在校学生、少年儿童", "student or child"),
}
RELATIONS: dict[str, Pair] = {
    "spouse": ("配偶", "spouse"),
    "parent": ("父母", "parent"),
    "child": ("子女", "child"),
    "sibling": ("兄弟姐妹", "sibling"),
    "grandparent_paternal": ("祖父母", "paternal grandparent"),
    "grandparent_maternal": ("外祖父母", "maternal grandparent"),
    "grandchild_paternal": ("孙子女", "son's child"),
    "grandchild_maternal": ("外孙子女", "daughter's child"),
}
ENTRY_KINDS: dict[str, Pair] = {
    "credit": ("资金划入", "contribution credited"),
    "payment": ("消费支付", "payment"),
    "reversal": ("冲正", "reversal"),
    "withdrawal": ("提取", "withdrawal"),
    "insurance_return": ("保险满期返还", "insurance maturity refund"),
}
CHANNELS: dict[str, Pair] = {
    "yunnan_yibao_miniapp": ("云南医保", "Yunnan Yibao"),
    "banshitong_app": ("一部手机办事通", "Banshitong app"),
    "agency_counter": ("医保经办机构窗口", "agency counter"),
}
PRODUCTS_EN: dict[str, str] = {"baobao_ankang": "Baobao Ankang (minors)", "jirui_ankang": "Jirui Ankang (adults)"}


def name(table: dict[str, Pair], code: str | None, lang: str) -> str:
    """The code's words in ``lang`` (the code itself when unknown)."""
    if code is None:
        return ""
    pair = table.get(code)
    if pair is None:
        return code
    return pair[1] if lang == "en" else pair[0]
