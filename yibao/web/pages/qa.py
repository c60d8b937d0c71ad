"""政策问答: a question in, the policy sentences and parameters that answer it out, each with its source.

Nothing is generated: the answer is the ranked passages of the seed articles and the pack (see
:mod:`yibao.policy.qa`). Public, like the calculator: nothing personal is read.
"""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from yibao.core.clock import today
from yibao.policy import qa
from yibao.policy.loader import get_pack
from yibao.web.render import page
from yibao.web.routing import page_router

router = page_router()
EXAMPLES = (
    "职工医保个人账户的钱可以给父母用吗",
    "2023年城乡居民医保个人交多少钱",
    "三级医院住院起付标准是多少",
    "个人账户余额能提现吗",
)
MAX_QUESTION = 200  # characters (a question, not a document; operational bound)
SHOWN = 5


@router.get("/qa")
async def ask(request: Request, q: str = "") -> Response:
    """The question form, and its answer when a question was asked (htmx swaps only the answer)."""
    question = q.strip()[:MAX_QUESTION]
    hits = await run_in_threadpool(qa.ask, question, get_pack(), today(), SHOWN) if question else []
    template = "_qa_results.html" if request.headers.get("hx-request") == "true" else "qa.html"
    return page(request, template, question=question, hits=hits, examples=EXAMPLES)
