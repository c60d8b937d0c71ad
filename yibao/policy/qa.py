"""政策问答: find the policy sentences and parameters that answer a question, ranked, quoted as they stand.

Nothing is generated. The passages are the sentences of the seed articles (``sources/``) and the pack's
parameters (description, value in force, source and quote, or the note of an assumed value). A question and
every passage are segmented into words with jieba (search mode, plus the domain's terms) and ranked with
Okapi BM25; the answer is the best passages with where they come from.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from yibao.policy.loader import SOURCES_DIR
from yibao.policy.model import Pack, Parameter
from yibao.policy.render import render_value

# Okapi BM25's usual constants (Robertson and Zaragoza 2009), not policy.
K1 = 1.5
B = 0.75
# How much a word of a sentence's context counts against a word of its own (tuned on the evaluation set).
CONTEXT_WEIGHT = 0.4
# How much a word the sources use for a question's word counts against the question's own word (tuned so).
SYNONYM_WEIGHT = 0.5

# Words of the domain jieba's general dictionary splits apart; kept whole so that a question and a policy
# sentence meet on them.
TERMS = (
    "个人账户",
    "个账",
    "家庭共济",
    "共济绑定",
    "近亲属",
    "起付标准",
    "起付线",
    "大病保险",
    "城乡居民医保",
    "城乡居民基本医疗保险",
    "职工医保",
    "职工基本医疗保险",
    "门诊特殊病",
    "特殊病门诊",
    "普通门诊",
    "统筹区",
    "统筹基金",
    "办事通",
    "集中缴费期",
    "代他人缴费",
    "医保账户支付",
    "缴费标准",
    "异地就医",
    "转诊",
    "新生儿",
    "生育费用补助",
    "助听器",
    "假肢",
    "新农合",
    "乙类",
    "社区卫生服务中心",
    "定点医疗机构",
    "定点零售药店",
    "宝宝安康",
    "吉瑞安康",
    "出国定居",
    "灵活就业",
    "电子回执",
    "参保登记",
)

# Everyday words for what the sources call otherwise: a question's word also looks for these.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "钱": ("余额",),
    "提现": ("提取",),
    "取出": ("提取", "提现"),
    "取出来": ("提取", "提现"),
    "孩子": ("子女", "儿童"),
    "小孩": ("子女", "儿童"),
    "爸妈": ("父母",),
    "老人": ("父母", "老年人"),
    "报销": ("支付", "补偿"),
    "交": ("缴纳", "缴费"),
    "交钱": ("缴费",),
    "多少钱": ("标准", "元"),
    "看病": ("就医", "医疗费用"),
    "住院费": ("住院",),
    "门槛": ("起付标准",),
    "封顶": ("最高", "限额"),
    "上限": ("最高", "限额"),
    "老婆": ("配偶",),
    "丈夫": ("配偶",),
    "妻子": ("配偶",),
    "生孩子": ("生育", "分娩"),
    "剖腹产": ("剖宫产",),
    "买保险": ("商业保险", "购买"),
    "手机": ("APP", "小程序"),
    "一年": ("年度", "全年", "年"),
    "最多": ("最高", "限额"),
    "外地": ("异地",),
    "缴费": ("缴纳",),
    "手续": ("办理", "申请"),
    "门诊特殊病": ("特殊病门诊", "特殊病"),
    "病": ("病种", "疾病"),
    "家人": ("近亲属", "家庭"),
    "亲属": ("近亲属",),
    "用": ("用于", "使用"),
    "条件": ("需", "须", "应"),
    # Yunnan's prefectures are its pooling regions (policy.md, sharing binding).
    **dict.fromkeys(
        (
            "昆明",
            "曲靖",
            "玉溪",
            "保山",
            "昭通",
            "丽江",
            "普洱",
            "临沧",
            "楚雄",
            "红河",
            "文山",
            "西双版纳",
            "大理",
            "德宏",
        ),
        ("统筹区",),
    ),
}

STOPWORDS = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "或",
        "在",
        "是",
        "吗",
        "呢",
        "吧",
        "啊",
        "么",
        "什么",
        "怎么",
        "怎么办",
        "怎样",
        "如何",
        "哪些",
        "哪个",
        "几",
        "我",
        "我的",
        "你",
        "他",
        "她",
        "它",
        "有",
        "没有",
        "一",
        "个",
        "等",
        "及",
        "为",
        "对",
        "由",
        "于",
        "被",
        "将",
        "把",
        "就",
        "都",
        "也",
        "还",
        "请问",
        "一下",
        "能",
        "能不能",
        "可不可以",
        "要",
        "需要",
        "多少",
        "吗?",
        "这",
        "那",
        "其",
        "之",
        "以",
        "以及",
        "并",
        "后",
        "前",
        "中",
        "上",
        "下",
        "给",
        "到",
        "从",
    ]
)

_SPLIT = re.compile(r"(?<=[。！？!?；;])|\n+|\s{2,}|(?=\(\d+\))|(?=（\d+）)|(?=\d、)|(?=[一二三四五六七八九十]、)")
_PUNCT = re.compile(r"^[\W_]+$")
# Lines that are page furniture, not policy text.
_FURNITURE = ("扩展阅读", "最新文章", "热门文章", "推荐阅读", "华丽的分割线")
# The NCMS article's question-and-answer part and the tip after it speak of Anhui, not Yunnan (policy.md,
# NCMS): left out, from the first marker up to the second.
_LEFT_OUT = (("云南省农村医疗保险问答", "2015年,云南省继续实施"),)
# An article's own questions (its headings) are not answers.
_QUESTION = ("吗", "?", "？", "呢")


@dataclass(frozen=True, slots=True)
class Passage:
    """A sentence of a source article, or a parameter of the pack, as an answer shows it."""

    kind: str  # "source" | "parameter"
    text: str  # the sentence as it stands, or the parameter's description
    source: str | None  # seed file name
    path: str | None = None  # parameter path
    value: str | None = None  # parameter value in force, rendered
    quote: str | None = None  # the parameter's verbatim quote
    note: str | None = None  # an assumed value's note
    assumed: bool = False
    context: str = ""  # the heading above a sentence and the sentence before it (ranked, never shown)

    @property
    def searchable(self) -> str:
        """What the ranking reads as the passage's own words."""
        return " ".join(x for x in (self.text, self.quote, self.note) if x)


@dataclass(frozen=True, slots=True)
class Hit:
    """A passage and its score for a question."""

    passage: Passage
    score: float


def _heading(s: str) -> bool:
    """A short line without a sentence's ending (a section title), or an article's own question."""
    return s.endswith(_QUESTION) or (len(s) < 25 and not s.endswith(("。", "；", ";", "!", "！")))


def sentences(text: str) -> list[tuple[str, str]]:
    """A source article cut into sentences (and list items), each with its context (the heading above it and
    the sentence before it); headings, page furniture and other provinces' text are not sentences."""
    for start, end in _LEFT_OUT:
        while (i := text.find(start)) >= 0 and (j := text.find(end, i)) >= 0:
            text = text[:i] + text[j:]
    out: list[tuple[str, str]] = []
    headings: list[str] = []  # the last two: a section and its subsection
    previous = ""
    for piece in _SPLIT.split(text):
        s = piece.strip().lstrip("-").strip()
        if len(s) < 6 or any(f in s for f in _FURNITURE):
            continue
        if _heading(s):
            headings = [*headings[-1:], s]
            continue
        out.append((s, " ".join([*headings, previous])))
        previous = s
    return out


def source_passages(sources_dir: Path = SOURCES_DIR) -> list[Passage]:
    """Every distinct sentence of every source article (articles repeat passages; each is kept once)."""
    seen: set[str] = set()
    out: list[Passage] = []
    for path in sorted(sources_dir.glob("*.txt")):
        for s, context in sentences(path.read_text(encoding="utf-8")):
            if s not in seen:
                seen.add(s)
                out.append(Passage("source", s, path.name, context=context))
    return out


def _latest(param: Parameter, day: date) -> tuple[str, str | None, str | None, str | None, bool] | None:
    dv = param.value_at(day) or next((v for v in reversed(param.history) if v.value is not None), None)
    if dv is None:
        return None
    c = dv.citation
    return render_value(dv.value, param.unit), c.source, c.quote, c.note, c.is_assumption


def parameter_passages(pack: Pack, day: date) -> list[Passage]:
    """Each parameter with its value in force on ``day`` (else its last value) and that value's citation."""
    out: list[Passage] = []
    for path, param in sorted(pack.parameters.items()):
        got = _latest(param, day)
        if got is None:
            continue
        value, source, quote, note, assumed = got
        out.append(Passage("parameter", param.description, source, path, value, quote, note, assumed))
    return out


@lru_cache(maxsize=1)
def _jieba() -> object:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for term in TERMS:
        jieba.add_word(term, freq=2_000_000)
    jieba.initialize()
    return jieba


def tokens(text: str) -> list[str]:
    """Words of ``text`` for ranking: jieba's search-mode segmentation, without punctuation and stop words."""
    jieba = _jieba()
    words = jieba.lcut_for_search(text)  # type: ignore[attr-defined]
    return [w.lower() for w in words if w.strip() and not _PUNCT.match(w) and w not in STOPWORDS]


def query_tokens(question: str) -> dict[str, float]:
    """A question's words with their weights: its own words count 1, the sources' words for them less."""
    out: dict[str, float] = {}
    for w in tokens(question):
        out[w] = out.get(w, 0.0) + 1.0
        for syn in SYNONYMS.get(w, ()):
            out[syn] = out.get(syn, 0.0) + SYNONYM_WEIGHT
    return out


class Index:
    """Okapi BM25 over a fixed list of passages."""

    def __init__(self, passages: Iterable[Passage]) -> None:
        self.passages = list(passages)
        self.docs: list[dict[str, float]] = []
        for p in self.passages:
            # A passage's own words count fully; its context's words count for less (CONTEXT_WEIGHT).
            doc: dict[str, float] = dict(Counter(tokens(p.searchable)))
            for w, n in Counter(tokens(p.context)).items():
                doc[w] = doc.get(w, 0.0) + CONTEXT_WEIGHT * n
            self.docs.append(doc)
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = sum(self.lengths) / len(self.lengths) if self.lengths else 0.0
        df: Counter[str] = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(self.docs)
        self.idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}

    def search(self, question: str, k: int = 5) -> list[Hit]:
        """The ``k`` best passages for ``question`` (none when no word of it occurs anywhere)."""
        words = {w: q for w, q in query_tokens(question).items() if w in self.idf}
        if not words:
            return []
        scored: list[tuple[float, int]] = []
        for i, (doc, length) in enumerate(zip(self.docs, self.lengths, strict=True)):
            score = 0.0
            norm = K1 * (1 - B + B * length / self.avg)
            for w, q in words.items():
                tf = doc.get(w)
                if tf:
                    score += q * self.idf[w] * tf * (K1 + 1) / (tf + norm)
            if score > 0:
                scored.append((score, i))
        scored.sort(key=lambda x: (-x[0], x[1]))
        return [Hit(self.passages[i], s) for s, i in scored[:k]]


@lru_cache(maxsize=4)
def index_for(pack: Pack, day: date) -> Index:
    """The index of the sources and of ``pack``'s parameters as on ``day`` (built once per pack and day)."""
    return Index([*source_passages(), *parameter_passages(pack, day)])


def ask(question: str, pack: Pack, day: date, k: int = 5) -> list[Hit]:
    """The passages that best answer ``question``."""
    q = question.strip()
    if not q:
        return []
    return index_for(pack, day).search(q, k)
