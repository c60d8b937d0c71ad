"""``yibao catalogue`` against a migrated SQLite file: import, show, list; refusals exit with code 2."""

from __future__ import annotations

import json
from pathlib import Path

from tests.catalogue.factories import write_csv
from tests.cli import run


def test_import_show_list(cli_db: str, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "XA01,阿莫西林胶囊,101,01,1.20,2023-01-01,",
        "XA01,阿莫西林胶囊,101,02,1.05,2024-07-01,",
        "001102000010000,门诊诊查费,201,01,25.00,2023-01-01,",
        "T01,当归,102,03,,2023-01-01,",
    )
    code, out = run("catalogue", "import", str(path), "--json")
    assert code == 0, out
    assert json.loads(out) == {
        "file": "catalogue.csv",
        "rows": 4,
        "codes": 3,
        "added": 4,
        "updated": 0,
        "closed": 0,
        "unchanged": 0,
    }
    code, out = run("catalogue", "import", str(path))
    assert code == 0 and "未变 unchanged 4" in out and "新增版本 added 0" in out
    code, out = run("catalogue", "show", "XA01", "--date", "2024-06-30", "--json")
    shown = json.loads(out)
    assert (
        code == 0 and shown["chrgitm_lv"] == "01" and shown["enddate"] == "2024-06-30" and len(shown["versions"]) == 2
    )
    code, out = run("catalogue", "show", "XA01", "--date", "2024-07-01")
    assert code == 0 and "乙类" in out and "1.05" in out
    code, out = run("catalogue", "list", "--date", "2024-08-01", "--class", "01", "--json")
    listed = json.loads(out)
    assert code == 0 and [r["hilist_code"] for r in listed["data"]] == ["001102000010000"]
    code, out = run("catalogue", "list", "--date", "2024-08-01", "--type", "102", "--size", "1", "--page", "1")
    assert code == 0 and "当归" in out and "第 1/1 页，共 1 条" in out


def test_refusals_exit_with_codes(cli_db: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "XA01,阿莫西林胶囊,101,01,1.20,2023-01-01,", "XA02,二甲双胍片,101,05,,2023-01-01,")
    code, _ = run("catalogue", "import", str(path))
    assert code == 2
    code, _ = run("catalogue", "show", "XA01")
    assert code == 3  # nothing was imported
    code, _ = run("catalogue", "show", "XA01", "--date", "2023-02-30")
    assert code == 2
