"""Charts of a report: PNG files for slides, SVG text for the self-contained HTML page.

Amounts are drawn in 万元 (ten thousand yuan) or yuan per person; they become floats here only to place
bars on a canvas, never for arithmetic. The SVG keeps its text as text, so a browser sets the Chinese
labels in its own fonts. A PNG is rasterised here: with a Chinese font installed (Noto Sans CJK, WenQuanYi,
Source Han Sans...) its labels are Chinese and English, without one English only.

Drawing is kept cheap, as it follows the settlement of the whole year: each figure has fixed margins
(matplotlib's tight layout draws every text once more to measure it: nearly half a chart's time, measured),
log axes are labelled with plain numbers (mathtext labels such as 10³ are parsed anew for every tick),
and matplotlib is imported while the partitions are being settled (``prepare``).
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from yibao.core.money import parse_yuan
from yibao.sim.frame import AGE_LABELS_EN, PREFECTURES_EN
from yibao.sim.payments import OwnPayments
from yibao.sim.processes import can_fork, usable_cores

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
_DPI = 110  # layout: 8 x 4.5 inches make 880 x 495 pixels
# Layout: each figure's axes as fractions of it (left, bottom, right, top), wide enough for its labels,
# Chinese or English; fixed rather than measured (see the module's docstring).
_MARGINS = (0.1, 0.14, 0.98, 0.91)
_WIDE_LABELS = (0.19, 0.09, 0.98, 0.94)  # prefecture names on the vertical axis
_LONG_COUNTS = (0.14, 0.12, 0.98, 0.91)  # counts up to millions on the vertical axis
_SLANTED = (0.09, 0.2, 0.98, 0.91)  # slanted group names under the bars


def _figure(size: tuple[float, float]) -> Any:
    """A figure outside pyplot's figure manager (nothing to close, no GUI backend looked for)."""
    from matplotlib.figure import Figure

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    return Figure(figsize=size, dpi=_DPI)


def prepare() -> None:
    """Import matplotlib and find the fonts now (about 0.7 s of CPU), e.g. while partitions are settled."""
    _figure((1, 1))
    cjk_font()


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

    def __init__(
        self,
        draw: Callable[[Any, bool], None],
        size: tuple[float, float] = (8, 4.5),
        margins: tuple[float, float, float, float] = _MARGINS,
    ) -> None:
        self.draw = draw
        self.size = size
        self.margins = margins

    def _draw(self, zh: bool) -> Any:
        """The figure, drawn in a font context that resolves Chinese glyphs when a Chinese font exists."""
        fig = _figure(self.size)
        left, bottom, right, top = self.margins
        fig.subplots_adjust(left=left, bottom=bottom, right=right, top=top)
        ax = fig.subplots()
        self.draw(ax, zh)
        ax.spines[["top", "right"]].set_visible(False)
        return fig

    def save(self, png: Path | None) -> str:
        """Write the PNG (if asked) and return the SVG text; one drawing serves both when the labels agree."""
        from matplotlib import rc_context

        font = cjk_font()
        rc: dict[Any, Any] = {
            # Installed families in order: glyphs missing from the first are taken from the next. (Naming
            # absent ones costs a font search per text; the browser picks its own font for SVG text anyway.)
            "font.family": ["DejaVu Sans", *([font] if font else [])],
            "svg.fonttype": "none",  # SVG text stays text: the browser sets it in its own fonts
            "svg.hashsalt": "yibao",  # element ids from a fixed salt, not at random: the same page every run
        }
        buf = io.StringIO()
        with warnings.catch_warnings(), rc_context(rc):
            warnings.simplefilter("ignore")  # glyphs no installed font has: boxes in a PNG, the browser's in SVG
            fig = self._draw(zh=True)
            fig.savefig(buf, format="svg", metadata={"Date": None})  # no time stamp: the same page every run
            if png is not None:
                # Without a Chinese font the PNG is drawn again in English.
                (fig if font is not None else self._draw(zh=False)).savefig(png, pil_kwargs=_PNG)
        text = buf.getvalue()
        return text[text.index("<svg") :]


# zlib level 1: a chart's PNG is compressed in two thirds of the time of the default level (measured: 24
# against 34 ms), for a file a fifth larger (42 against 35 kB).
_PNG = {"compress_level": 1}


def _plain_log(ax: Any) -> None:
    """Log axes labelled 1, 10, 100, 1,000... (no mathtext: its labels are parsed anew for every tick),
    without minor ticks (eight per decade, each a tick mark and a label to lay out)."""
    from matplotlib.ticker import FuncFormatter, NullLocator

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
        axis.set_minor_locator(NullLocator())


def _t(zh: bool, chinese: str, english: str) -> str:
    return f"{chinese} {english}" if zh else english


def report_charts(report: dict[str, Any], personal: OwnPayments) -> dict[str, _Canvas]:
    """The charts of one scenario's report (``personal``: each person-year's own payments)."""
    counts, edges = personal.histogram(50)

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
        if len(counts):
            # Counted once, drawn as one outline: 50 bands, evenly spaced on a log scale of yuan.
            ax.stairs(counts, edges / 100, fill=True, color=_COLOURS[0])
            ax.set_xscale("log")
            ax.set_yscale("log")
            _plain_log(ax)
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
        "by_prefecture": _Canvas(by_prefecture, (8, 6), _WIDE_LABELS),
        "by_month": _Canvas(by_month),
        "out_of_pocket": _Canvas(out_of_pocket, margins=_LONG_COUNTS),
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
        charts[f"change_by_prefecture{suffix}"] = _Canvas(by_prefecture, (8, 6), _WIDE_LABELS)
        charts[f"gainers_losers{suffix}"] = _Canvas(gainers, margins=_SLANTED)
    return charts


_drawing: dict[str, _Canvas] = {}  # the charts a forked process draws (closures travel by fork, not pickle)


def _draw_some(names: list[str], folder: str) -> dict[str, str]:
    return {name: _drawing[name].save(Path(folder) / f"{name}.png") for name in names}


def render(charts: dict[str, _Canvas], folder: Path) -> dict[str, str]:
    """Every chart as a PNG in ``folder``; returns each one's SVG text for the HTML page.

    Charts are drawn once the year is settled, when one core would otherwise be idle: every other chart is
    drawn by a process forked from this one (it has matplotlib loaded already), when forking is safe here
    (no other thread running) and there is more than one core.
    """
    folder.mkdir(parents=True, exist_ok=True)
    names = list(charts)
    theirs = names[1::2]
    if len(theirs) == 0 or not can_fork() or usable_cores() < 2:
        return _draw_some_here(charts, names, folder)
    global _drawing
    _drawing = charts
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
            future = pool.submit(_draw_some, theirs, str(folder))
            svgs = _draw_some_here(charts, names[0::2], folder)
            svgs.update(future.result())
    finally:
        _drawing = {}
    return {name: svgs[name] for name in names}


def _draw_some_here(charts: dict[str, _Canvas], names: list[str], folder: Path) -> dict[str, str]:
    return {name: charts[name].save(folder / f"{name}.png") for name in names}
