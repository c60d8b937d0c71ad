"""Every kind of pack defect is reported with its file and line."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from yibao.core.errors import ValidationFailed
from yibao.policy.loader import OVERLAYS_DIR, PackError, load_pack
from yibao.policy.model import Unit

GOOD = """description: 测试参数
unit: CNY
values:
  2015-10-01:
    value: 200
    source: 003_df4229da7f582ad6.txt
    quote: 一级医院住院:医保范围内费用超过200元(起付标准)以上部分报销90%
  2020-01-01:
    value: 250
    assumed: true
    note: a later assumed value
"""


def make_pack(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "packs"
    for rel, text in files.items():
        f = root / "t" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text, encoding="utf-8")
    return root


def defects(tmp_path: Path, files: dict[str, str], overlays: list[Path] | None = None) -> list[str]:
    root = make_pack(tmp_path, files)
    with pytest.raises(PackError) as err:
        load_pack("t", packs_dir=root, overlays=overlays or [])
    return [str(d) for d in err.value.defects]


def test_good_pack_loads_and_looks_up_by_date(tmp_path: Path) -> None:
    pack = load_pack("t", packs_dir=make_pack(tmp_path, {"a/b.yaml": GOOD}))
    p = pack.parameter("a.b")
    assert p.unit is Unit.CNY
    assert p.value_at(date(2015, 9, 30)) is None
    assert pack.at(date(2016, 1, 1)).get("a.b").value == 20000
    assert pack.at(date(2020, 1, 1)).get("a.b").value == 25000
    assert pack.at(date(2020, 1, 1)).get("a.b").citation.assumed
    assert pack.at(date(2016, 1, 1)) is pack.at(date(2016, 1, 1))


def test_date_before_first_value_is_not_in_force(tmp_path: Path) -> None:
    pack = load_pack("t", packs_dir=make_pack(tmp_path, {"a/b.yaml": GOOD}))
    with pytest.raises(ValidationFailed) as err:
        pack.at(date(2014, 1, 1)).get("a.b")
    assert err.value.code == "policy.not_in_force" and err.value.field == "date"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (GOOD.replace("unit: CNY", "unit: CNY\ncolour: red"), 3, "unknown key 'colour'"),
        (GOOD.replace("2020-01-01", "2014-01-01"), 8, "increasing order"),
        (GOOD.replace("2020-01-01", "2015-10-01"), 8, "duplicate date"),
        (
            GOOD.replace(
                "    source: 003_df4229da7f582ad6.txt\n    quote: 一级医院住院:医保范围内费用超过200元(起付标准)以上部分报销90%\n",
                "",
            ),
            5,
            "without a source",
        ),
        (GOOD.replace("value: 200", 'value: "1,000"'), 5, "expected a plain number"),
        (GOOD.replace("value: 200", "value: 1,000"), 5, "malformed amount"),
        (GOOD.replace("value: 200", "value: 1.234"), 5, "malformed amount"),
        (GOOD.replace("value: 200", "value: 70%"), 5, "malformed amount"),
        (GOOD.replace("2015-10-01", "2015-13-01"), 4, "not a real calendar date"),
        (GOOD.replace("    note: a later assumed value\n", ""), 9, "needs a note"),
        (GOOD.replace("unit: CNY", "unit: dollars"), 2, "unit must be one of"),
        (GOOD.replace("source: 003_df4229da7f582ad6.txt", "source: nowhere.txt"), 6, "not among the policy sources"),
        (GOOD.replace("value: 200", "value: [1"), 6, "YAML syntax"),
    ],
)
def test_defects_name_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    found = defects(tmp_path, {"a/b.yaml": text})
    assert any(f"a/b.yaml:{line}:" in d and fragment in d for d in found), found


def test_ratio_must_be_a_decimal(tmp_path: Path) -> None:
    text = (
        GOOD.replace("unit: CNY", "unit: ratio").replace("value: 200", "value: 70%").replace("value: 250", "value: 0.5")
    )
    found = defects(tmp_path, {"a/b.yaml": text})
    assert any("b.yaml:5:" in d and "malformed ratio" in d for d in found)
    ok = load_pack(
        "t",
        packs_dir=make_pack(
            tmp_path / "ok",
            {
                "a/b.yaml": GOOD.replace("unit: CNY", "unit: ratio")
                .replace("value: 200", "value: 0.9")
                .replace("value: 250", "value: 0.5")
            },
        ),
    )
    assert ok.at(date(2016, 1, 1)).get("a.b").value == Fraction(9, 10)


def test_gap_before_first_date(tmp_path: Path) -> None:
    found = defects(tmp_path, {"a/_section.yaml": "description: s\nfrom: 2010-01-01\n", "a/b.yaml": GOOD})
    assert any("a/b.yaml:1:" in d and "gap before the first date" in d for d in found)


TABLE = """description: 表
unit: CNY
dimensions:
  place: [level1, level2]
values:
  2015-10-01:
    table:
      level1: 200
    assumed: true
    note: n
"""


def test_table_missing_key(tmp_path: Path) -> None:
    found = defects(tmp_path, {"a/t.yaml": TABLE})
    assert any("a/t.yaml:8:" in d and "lacks level2" in d for d in found)


def test_table_unknown_key(tmp_path: Path) -> None:
    found = defects(
        tmp_path, {"a/t.yaml": TABLE.replace("level1: 200", "level1: 200\n      level9: 1\n      level2: 3")}
    )
    assert any("unknown key 'level9'" in d for d in found)


SLOT = """description: 覆盖
unit: ratio
overlay: true
bounded_by: a.range
"""
RANGE = """description: 范围
unit: ratio
dimensions:
  bound: [min, max]
values:
  2015-10-01:
    table: {min: 0.6, max: 0.8}
    assumed: true
    note: n
"""


def test_overlay_sets_slot_and_respects_bounds(tmp_path: Path) -> None:
    root = make_pack(tmp_path, {"a/slot.yaml": SLOT, "a/range.yaml": RANGE, "a/b.yaml": GOOD})
    ok = tmp_path / "ok.yaml"
    ok.write_text(
        "overlay: x\nexample: true\nvalues:\n  a.slot:\n    2015-10-01:\n      value: 0.7\n      note: example\n"
    )
    pack = load_pack("t", packs_dir=root, overlays=[ok])
    pv = pack.at(date(2016, 1, 1)).get("a.slot")
    assert pv.value == Fraction(7, 10) and pv.citation.overlay == "x" and pv.citation.example

    out = tmp_path / "out.yaml"
    out.write_text("overlay: x\nvalues:\n  a.slot:\n    2015-10-01:\n      value: 0.9\n      note: too high\n")
    with pytest.raises(PackError) as err:
        load_pack("t", packs_dir=root, overlays=[out])
    assert any("out.yaml:5:" in str(d) and "outside a.range" in str(d) for d in err.value.defects)


def test_overlay_may_not_override_policy(tmp_path: Path) -> None:
    root = make_pack(tmp_path, {"a/b.yaml": GOOD})
    ov = tmp_path / "ov.yaml"
    ov.write_text(
        "overlay: x\nvalues:\n  a.b:\n    2015-10-01:\n      value: 1\n      note: n\n  a.zzz:\n    2015-10-01:\n      value: 1\n      note: n\n"
    )
    with pytest.raises(PackError) as err:
        load_pack("t", packs_dir=root, overlays=[ov])
    text = " ".join(str(d) for d in err.value.defects)
    assert "ov.yaml:3:" in text and "may only set `overlay: true`" in text
    assert "ov.yaml:7:" in text and "does not declare" in text


def test_unset_overlay_slot_is_not_in_force(tmp_path: Path) -> None:
    pack = load_pack("t", packs_dir=make_pack(tmp_path, {"a/slot.yaml": SLOT.replace("bounded_by: a.range\n", "")}))
    assert not pack.at(date(2016, 1, 1)).has("a.slot")


def test_real_pack_loads_with_demo_overlay() -> None:
    pack = load_pack("yunnan", overlays=[OVERLAYS_DIR / "demo.yaml"])
    assert pack.overlays == ("demo",)
    assert len(pack.parameters) >= 50


def test_libyaml_and_pure_python_parsers_load_the_same_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from yibao.policy import loader

    fast = load_pack(overlays=[OVERLAYS_DIR / "demo.yaml"])
    monkeypatch.setattr(loader, "_LOADER", yaml.SafeLoader)
    slow = load_pack(overlays=[OVERLAYS_DIR / "demo.yaml"])
    assert fast.parameters == slow.parameters and fast.parameters is not slow.parameters


# ---- every defect, each at its own line ------------------------------------------------------------

LIST = """description: 清单
unit: list
values:
  2015-10-01:
    value:
      - {code: alpha, name: 甲}
      - {code: Beta, name: 乙}
      - {code: gamma}
    assumed: true
    note: n
"""

SCALE = """description: 分段
unit: CNY
brackets:
  2015-10-01:
    assumed: true
    note: n
    scale:
      - {threshold: 0, rate: 0.5}
      - {threshold: 100, rate: 0.6}
      - {threshold: 100, rate: 0.7}
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # A file with several defects: each is reported at its own line, none hides another.
        (
            {"a/b.yaml": GOOD.replace("description: 测试参数\n", "").replace("value: 200", "value: 1,000")},
            [("a/b.yaml", 1, "needs a Chinese `description`"), ("a/b.yaml", 4, "malformed amount '1,000'")],
        ),
        (
            {"a/t.yaml": TABLE.replace("level1: 200", "level1: 2x0\n      level2: 300\n      colour: 1")},
            [("a/t.yaml", 8, "malformed amount '2x0'"), ("a/t.yaml", 10, "unknown key 'colour'")],
        ),
        (
            {"a/l.yaml": LIST},
            [("a/l.yaml", 7, "code 'Beta' must be lower_snake_case"), ("a/l.yaml", 8, "needs `name`")],
        ),
        ({"a/s.yaml": SCALE}, [("a/s.yaml", 10, "bracket thresholds must increase strictly")]),
        (
            {"a/s.yaml": SCALE.replace("rate: 0.6", "rate: 60%").replace("threshold: 0,", "threshold: '0',")},
            [
                ("a/s.yaml", 8, "expected a plain number for unit CNY, got '0'"),
                ("a/s.yaml", 9, "malformed ratio '60%'"),
            ],
        ),
        (
            {
                "a/t.yaml": TABLE.replace("      level1: 200\n", "      level1: 200\n      level2: 3\n").replace(
                    "  place: [level1, level2]", "  place: a.none"
                )
            },
            [("a/t.yaml", 4, "dimension place refers to 'a.none', which is not a list parameter")],
        ),
        (
            {"a/b.yaml": GOOD.replace("    value: 250\n", "    table: {x: 1}\n")},
            [("a/b.yaml", 9, "`table` needs `dimensions` declared in the parameter")],
        ),
        (
            {"a/b.yaml": GOOD.replace("values:", "overlay: yes\nvalues:")},
            [("a/b.yaml", 3, "overlay: must be true or false")],
        ),
        (
            {"a/b.yaml": GOOD.replace("source: 003_df4229da7f582ad6.txt", "source: 某某文件")},
            [("a/b.yaml", 6, "a public document as source needs its url")],
        ),
        ({"a/b.yaml": "- one\n- two\n"}, [("a/b.yaml", 1, "must be a mapping of keys, not list")]),
        ({"a/B.yaml": GOOD}, [("a/B.yaml", 1, "file and folder names must be lower_snake_case")]),
        (
            {"a/_section.yaml": "description: s\nfrom: 2010-02-30\n", "a/b.yaml": GOOD},
            [("a/_section.yaml", 2, "'2010-02-30' is not a real calendar date")],
        ),
    ],
)
def test_each_defect_at_its_line(tmp_path: Path, files: dict[str, str], expected: list[tuple[str, int, str]]) -> None:
    found = defects(tmp_path, files)
    for file, line, fragment in expected:
        assert any(d.startswith(f"t/{file}:{line}: ") and fragment in d for d in found), (file, line, fragment, found)
    assert len(found) == len(expected), found


def test_overlay_entry_defects(tmp_path: Path) -> None:
    root = make_pack(tmp_path, {"a/slot.yaml": SLOT.replace("bounded_by: a.range\n", "")})
    ov = tmp_path / "ov.yaml"
    ov.write_text(
        "overlay: x\nvalues:\n  a.slot:\n    2015-10-01:\n      value: 70%\n    2015-09-01:\n      value: 0.5\n"
        "      note: n\n      colour: red\n"
    )
    with pytest.raises(PackError) as err:
        load_pack("t", packs_dir=root, overlays=[ov])
    found = sorted(str(d) for d in err.value.defects)
    assert any(d.startswith(f"{ov}:5: ") and "malformed ratio '70%'" in d for d in found), found
    assert any(d.startswith(f"{ov}:5: ") and "needs a `note`" in d for d in found), found
    assert any(d.startswith(f"{ov}:9: ") and "unknown key 'colour'" in d for d in found), found


# ---- reforms ---------------------------------------------------------------------------------------

REFORM = """overlay: r
reform: true
title: 测试改革
values:
  a.b:
    2018-01-01:
      value: 300
      note: 改革方案
"""


def test_a_reform_changes_a_cited_value_from_its_date_and_says_so(tmp_path: Path) -> None:
    root = make_pack(tmp_path, {"a/b.yaml": GOOD})
    ov = tmp_path / "reform.yaml"
    ov.write_text(REFORM)
    pack = load_pack("t", packs_dir=root, overlays=[ov])
    history = pack.parameter("a.b").history
    # The pack's 2015 value stays until the reform's date; its 2020 value is replaced by the reform.
    assert [(dv.start, dv.value, dv.citation.reform) for dv in history] == [
        (date(2015, 10, 1), 20000, None),
        (date(2018, 1, 1), 30000, "测试改革"),
    ]
    reformed = pack.at(date(2021, 1, 1)).get("a.b")
    assert reformed.value == 30000 and not reformed.citation.is_assumption
    assert reformed.citation.to_dict()["reform"] == "测试改革" and reformed.citation.overlay == "r"
    assert [(r.name, r.title) for r in pack.reforms] == [("r", "测试改革")]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (REFORM.replace("title: 测试改革\n", ""), 2, "a reform needs a `title`"),
        (REFORM.replace("reform: true\n", ""), 2, "`title` names a reform"),
        (REFORM.replace("reform: true\ntitle: 测试改革\n", ""), 3, "may only set `overlay: true` parameters"),
        (REFORM.replace("      note: 改革方案\n", ""), 7, "needs a `note`"),
        (REFORM.replace("reform: true", "reform: 1"), 2, "reform: must be true or false"),
        (REFORM.replace("2018-01-01", "2018-1-1"), 6, "'2018-1-1' is not a date YYYY-MM-DD"),
        (REFORM.replace("  a.b:", "  a.c:"), 5, "overlay sets 'a.c', which the pack does not declare"),
    ],
)
def test_reform_defects(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    root = make_pack(tmp_path, {"a/b.yaml": GOOD})
    ov = tmp_path / "reform.yaml"
    ov.write_text(text)
    with pytest.raises(PackError) as err:
        load_pack("t", packs_dir=root, overlays=[ov])
    found = [str(d) for d in err.value.defects]
    assert any(d.startswith(f"{ov}:{line}: ") and fragment in d for d in found), found


def test_a_reform_quoting_a_seed_is_held_to_it(tmp_path: Path) -> None:
    from yibao.policy.service import check

    reform = tmp_path / "reform.yaml"
    reform.write_text(
        "overlay: r\nreform: true\ntitle: 限额\nvalues:\n  resident.fund_ceiling:\n    2016-01-01:\n      value: 170000\n"
        "      note: 改革\n      source: 003_df4229da7f582ad6.txt\n      quote: 年度最高支付限额为17万元\n"
    )
    pack, found = check([OVERLAYS_DIR / "demo.yaml", reform])
    assert pack is not None
    assert [str(d) for d in found] == [
        f"{reform}:7: resident.fund_ceiling: quote not found verbatim in 003_df4229da7f582ad6.txt: 年度最高支付限额为17万元…"
    ]


def test_the_documented_reform_example_loads(tmp_path: Path) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "overlays.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    reform = tmp_path / "reform.yaml"
    reform.write_text(example, encoding="utf-8")
    pack = load_pack(overlays=[OVERLAYS_DIR / "demo.yaml", reform])
    assert [r.name for r in pack.reforms] == ["deductible_2027"]
    assert pack.at(date(2027, 1, 1)).money("resident.inpatient.deductible", "level3", "general") == 120_000
    assert pack.at(date(2026, 12, 31)).money("resident.inpatient.deductible", "level3", "general") == 60_000
