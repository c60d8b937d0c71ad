"""Yunnan's pooling regions: the provincial level and the 16 prefecture-level divisions (GB/T 2260).

Each pooling region has one medical-insurance agency (经办机构); yibao names the agency by its
region code.
"""

from __future__ import annotations

from yibao.core.errors import ValidationFailed
from yibao.core.text import ascii_digits

REGIONS: dict[str, str] = {
    "530000": "云南省省本级",
    "530100": "昆明市",
    "530300": "曲靖市",
    "530400": "玉溪市",
    "530500": "保山市",
    "530600": "昭通市",
    "530700": "丽江市",
    "530800": "普洱市",
    "530900": "临沧市",
    "532300": "楚雄彝族自治州",
    "532500": "红河哈尼族彝族自治州",
    "532600": "文山壮族苗族自治州",
    "532800": "西双版纳傣族自治州",
    "532900": "大理白族自治州",
    "533100": "德宏傣族景颇族自治州",
    "533300": "怒江傈僳族自治州",
    "533400": "迪庆藏族自治州",
}


def check_region(code: str, *, field: str = "region") -> str:
    """A Yunnan pooling-region code, or a clear error."""
    if code not in REGIONS:
        ascii_digits(code, field=field)  # "５３０１００" is refused as such, not as an unknown region
        raise ValidationFailed(
            field,
            f"{code!r} 不是云南省的统筹区代码（如 530100 昆明市）",
            f"{code!r} is not a Yunnan pooling-region code (e.g. 530100 Kunming)",
        )
    return code


def agency_name(code: str) -> str:
    """The agency of a pooling region."""
    return f"{REGIONS[code]}医疗保障经办机构"


def region_named(name: str) -> str:
    """The code of the pooling region with this name (the policy pack names regions, e.g. 昆明市)."""
    for code, region in REGIONS.items():
        if region == name:
            return code
    raise KeyError(f"no Yunnan pooling region is named {name!r}")
