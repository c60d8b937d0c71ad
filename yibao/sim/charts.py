"""Charts of a report: PNG files for slides, SVG text for the self-contained HTML page.

Amounts are drawn in 万元 (ten thousand yuan) or yuan per person; they become floats here only to place
bars on a canvas, never for arithmetic. The SVG keeps its text as text, so a browser sets the Chinese
labels in its own fonts. A PNG is rasterised here: with a Chinese font installed (Noto Sans CJK, WenQuanYi,
Source Han Sans...) its labels are Chinese and English, without one English only.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from yibao.core.money import parse_yuan
from yibao.sim.frame import AGE_LABELS_EN, PREFECTURES_EN

I64 = npt.NDArray[np.int64]
_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
)
_COLOURS = ("#1f5fa8", "#d9822b", "#9aa5b1", "#2e8b57", "#b03a48")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    return plt


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed font that has Chinese glyphs, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in _CJK_FONTS if f in installed), None)


def _wan(text: str) -> float:
    """Yuan string to 万元 for drawing."""
    return parse_yuan(text, field="amount", allow_negative=True) / 1_000_000


def _unit(texts: list[str], zh: bool) -> tuple[float, str]:
    """A divisor of 万元 and its label, so that the largest amount reads in a few digits (万元 or 亿元)."""
    largest = max((abs(_wan(t)) for t in texts), default=0.0)
    if largest >= 100_000:
        return 10_000.0, _t(zh, "亿元", "100 million yuan")
    return 1.0, _t(zh, "万元", "10k yuan")


def _yuan(text: str | None) -> float:
    return 0.0 if text is None else parse_yuan(text, field="amount", allow_negative=True) / 100


def _label(zh_en: str, zh: bool) -> str:
    """A 'Chinese English' label as drawn: both, or the English part alone."""
    if zh:
        return zh_en
    return zh_en.split(" ", 1)[1] if " " in zh_en else zh_en


class _Canvas:
    """One figure drawn for both outputs: Chinese+English for SVG, and for PNG when a Chinese font exists."""

    def __init__(self, draw: Callable[[Any, bool], None], size: tuple[float, float] = (8, 4.5)) -> None:
        self.draw = draw
        self.size = size

    def _draw(self, zh: bool) -> Any:
        """The figure, drawn in a font context that resolves Chinese glyphs when a Chinese font exists."""
        plt = _plt()
        fig, ax = plt.subplots(figsize=self.size, dpi=110)
        self.draw(ax, zh)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        return fig

    def save(self, png: Path | None) -> str:
        """Write the PNG (if asked) and return the SVG text; one drawing serves both when the labels agree."""
        plt = _plt()
        font = cjk_font()
        rc = {
            # Installed families in order: glyphs missing from the first are taken from the next. (Naming
            # absent ones costs a font search per text; the browser picks its own font for SVG text anyway.)
            "font.family": ["DejaVu Sans", *([font] if font else [])],
            "svg.fonttype": "none",  # SVG text stays text: the browser sets it in its own fonts
        }
        buf = io.StringIO()
        with warnings.catch_warnings(), plt.rc_context(rc):
            warnings.simplefilter("ignore")  # glyphs no installed font has: boxes in a PNG, the browser's in SVG
            fig = self._draw(zh=True)
            try:
                fig.savefig(buf, format="svg")
                if png is not None and font is not None:
                    fig.savefig(png)
            finally:
                plt.close(fig)
            if png is not None and font is None:  # no Chinese font: an English PNG
                fig = self._draw(zh=False)
                try:
                    fig.savefig(png)
                finally:
                    plt.close(fig)
        text = buf.getvalue()
        return text[text.index("<svg") :]


def _t(zh: bool, chinese: str, english: str) -> str:
    return f"{chinese} {english}" if zh else english


def report_charts(report: dict[str, Any], personal: I64) -> dict[str, _Canvas]:
    """The charts of one scenario's report."""

    def by_benefit(ax: Any, zh: bool) -> None:
        rows = report["by_benefit"]
        div, unit = _unit([r["total"] for r in rows], zh)
        x = np.arange(len(rows))
        bottom = np.zeros(len(rows))
        for colour, (key, name) in zip(
            _COLOURS,
            (
                ("fund_pay", "统筹基金 pooled fund"),
                ("catastrophic_pay", "大病保险 catastrophic"),
                ("personal_pay", "个人负担 own"),
            ),
            strict=False,
        ):
            v = np.array([_wan(r[key]) / div for r in rows])
            ax.bar(x, v, bottom=bottom, color=colour, label=_label(name, zh))
            bottom += v
        ax.set_xticks(x, [_label(r["label"], zh).replace(" ", "\n", 1) for r in rows])
        ax.set_ylabel(unit)
        ax.set_title(_t(zh, "各类待遇的费用由谁支付", "who pays, by benefit"))
        ax.legend(frameon=False)

    def by_prefecture(ax: Any, zh: bool) -> None:
        rows = report["by_prefecture"]
        names = [r["label"] if zh else PREFECTURES_EN[r["key"]] for r in rows]
        ax.barh(names[::-1], [_yuan(r["fund_per_insured"]) for r in rows][::-1], color=_COLOURS[0])
        ax.set_xlabel(_t(zh, "元/参保居民", "yuan per insured resident"))
        ax.set_title(_t(zh, "各州（市）人均基金支出（统筹基金+大病保险）", "funds paid per insured resident"))

    def by_month(ax: Any, zh: bool) -> None:
        rows = report["by_month"]
        div, unit = _unit([r["fund_pay"] for r in rows], zh)
        x = [r["key"][2:] for r in rows]
        ax.plot(
            x,
            [_wan(r["fund_pay"]) / div for r in rows],
            marker="o",
            color=_COLOURS[0],
            label=_label("统筹基金 pooled fund", zh),
        )
        ax.plot(
            x,
            [_wan(r["catastrophic_pay"]) / div for r in rows],
            marker="o",
            color=_COLOURS[1],
            label=_label("大病保险 catastrophic", zh),
        )
        ax.set_ylabel(unit)
        ax.set_title(_t(zh, "按月基金支出", "funds paid by month"))
        ax.legend(frameon=False)

    def out_of_pocket(ax: Any, zh: bool) -> None:
        paying = personal[personal > 0]
        if len(paying):
            # Counted here, drawn as one outline: 50 bands, evenly spaced on a log scale of yuan.
            edges = np.logspace(np.log10(max(int(paying.min()), 100)), np.log10(int(paying.max()) + 1), 51)
            counts, _ = np.histogram(paying, bins=edges)
            ax.stairs(counts, edges / 100, fill=True, color=_COLOURS[0])
            ax.set_xscale("log")
            ax.set_yscale("log")
        for name in ("p50", "p90", "p99"):
            v = report["out_of_pocket"]["percentiles"][name]
            if v is not None and _yuan(v) > 0:
                ax.axvline(_yuan(v), color=_COLOURS[1], linestyle="--")
                ax.text(_yuan(v), ax.get_ylim()[1], name, color=_COLOURS[1], va="top")
        ax.set_xlabel(_t(zh, "年度个人负担（元）", "own payments in the year (yuan)"))
        ax.set_ylabel(_t(zh, "人数", "persons"))
        ax.set_title(_t(zh, "个人负担分布", "distribution of own payments"))

    def bands(ax: Any, zh: bool) -> None:
        rows = report["catastrophic"]["bands"]
        div, unit = _unit([r["pay"] for r in rows], zh)
        x = np.arange(len(rows))
        ax.bar(x, [_wan(r["pay"]) / div for r in rows], color=_COLOURS[1])
        ax.set_xticks(x, [f"{r['band']}\n{r['rate']}" for r in rows], fontsize=8)
        for i, r in enumerate(rows):
            ax.annotate(f"{r['persons_reaching']:,}", (i, _wan(r["pay"]) / div), ha="center", va="bottom", fontsize=8)
        ax.set_ylabel(unit)
        ax.set_title(
            _t(zh, "大病保险分段支付（柱上为达到该段的人数）", "catastrophic pay by band (persons reaching it)")
        )

    def by_age(ax: Any, zh: bool) -> None:
        rows = report["by_age_band"]
        names = [r["label"] if zh else AGE_LABELS_EN[i] for i, r in enumerate(rows)]
        ax.bar(names, [_yuan(r["fund_per_insured"]) for r in rows], color=_COLOURS[3])
        ax.set_ylabel(_t(zh, "元/参保居民", "yuan per insured resident"))
        ax.set_title(_t(zh, "各年龄段人均基金支出", "funds paid per insured resident, by age"))

    return {
        "by_benefit": _Canvas(by_benefit),
        "by_prefecture": _Canvas(by_prefecture, (8, 6)),
        "by_month": _Canvas(by_month),
        "out_of_pocket": _Canvas(out_of_pocket),
        "catastrophic_bands": _Canvas(bands),
        "by_age_band": _Canvas(by_age),
    }


def comparison_charts(comparison: dict[str, Any]) -> dict[str, _Canvas]:
    """The charts of a what-if: fund changes by prefecture, gainers and losers by group and age."""
    charts: dict[str, _Canvas] = {}
    for i, comp in enumerate(comparison["comparisons"]):

        def by_prefecture(ax: Any, zh: bool, comp: dict[str, Any] = comp) -> None:
            lines = [
                ln
                for ln in comp["lines"]
                if ln["table"] == "by_prefecture" and ln["measure"] in ("fund_pay", "catastrophic_pay")
            ]
            keys = list(dict.fromkeys(ln["key"] for ln in lines))
            div, unit = _unit([ln["difference"] for ln in lines], zh)
            change = {k: sum(_wan(ln["difference"]) for ln in lines if ln["key"] == k) / div for k in keys}
            labels = {ln["key"]: ln["label"] for ln in lines}
            names = [labels[k] if zh else PREFECTURES_EN[k] for k in keys]
            ax.barh(names[::-1], [change[k] for k in keys][::-1], color=_COLOURS[4])
            ax.axvline(0, color="black", linewidth=0.8)
            ax.set_xlabel(f"{_t(zh, '基金支出变化', 'change in funds paid')} ({unit})")
            ax.set_title(_t(zh, "各州（市）基金支出变化", "change in funds paid, by prefecture"))

        def gainers(ax: Any, zh: bool, comp: dict[str, Any] = comp) -> None:
            rows = comp["gainers_by_age_band"] + comp["gainers_by_group"]
            names = [
                (
                    r["label"]
                    if zh
                    else (AGE_LABELS_EN[int(r["key"])] if j < len(AGE_LABELS_EN) else _label(r["label"], False))
                )
                for j, r in enumerate(rows)
            ]
            x = np.arange(len(rows))
            gain = np.array([r["gain"] / max(r["persons"], 1) for r in rows])
            loss = np.array([r["loss"] / max(r["persons"], 1) for r in rows])
            ax.bar(x, gain * 100, color=_COLOURS[3], label=_label("负担减少 pay less", zh))
            ax.bar(x, -loss * 100, color=_COLOURS[4], label=_label("负担增加 pay more", zh))
            ax.axhline(0, color="black", linewidth=0.8)
            ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
            ax.set_ylabel(_t(zh, "有就医记录者的百分比", "% of persons with claims"))
            ax.set_title(_t(zh, "谁的负担减少、谁的增加", "who pays less, who pays more"))
            ax.legend(frameon=False)

        suffix = "" if len(comparison["comparisons"]) == 1 else f"_{i + 1}"
        charts[f"change_by_prefecture{suffix}"] = _Canvas(by_prefecture, (8, 6))
        charts[f"gainers_losers{suffix}"] = _Canvas(gainers)
    return charts


def render(charts: dict[str, _Canvas], folder: Path) -> dict[str, str]:
    """Every chart as a PNG in ``folder``; returns each one's SVG text for the HTML page."""
    folder.mkdir(parents=True, exist_ok=True)
    return {name: canvas.save(folder / f"{name}.png") for name, canvas in charts.items()}
