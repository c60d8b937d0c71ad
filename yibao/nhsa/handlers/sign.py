"""9001 sign in, 9002 sign out."""

from __future__ import annotations

from typing import Any

from yibao.core.auth import Scope, rule
from yibao.core.dates import CHINA_TZ
from yibao.nhsa import signins
from yibao.nhsa.registry import Context, Input, transaction

SIGN = rule("nhsa.sign", "签到签退 / sign in and out (9001, 9002)", writes=True, institution=Scope.ANY)


def _time(ctx: Context) -> str:
    return ctx.now.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


@transaction("9001", action=SIGN, writes=True)
def sign_in(ctx: Context, inp: Input) -> dict[str, Any]:
    """签到: signIn {opter_no*, mac, ip} → signinoutb {sign_time, sign_no}."""
    node = inp.node("signIn")
    row = signins.sign_in(
        ctx.session,
        ctx.institution,
        opter_no=node.text("opter_no", max_len=30),
        mac=node.text("mac", max_len=64, required=False),
        ip=node.text("ip", max_len=64, required=False),
        opter_type=ctx.envelope.opter_type,
        msgid=ctx.msgid,
        now=ctx.now,
    )
    return {"signinoutb": {"sign_time": _time(ctx), "sign_no": row.sign_no}}


@transaction("9002", action=SIGN, writes=True)
def sign_out(ctx: Context, inp: Input) -> dict[str, Any]:
    """签退: signOut {sign_no*, opter_no} → signoutoutb {sign_time}."""
    node = inp.node("signOut")
    node.text("opter_no", max_len=30, required=False)
    signins.sign_out(
        ctx.session,
        ctx.institution,
        sign_no=node.text("sign_no", max_len=32),
        path=node.at("sign_no"),
        msgid=ctx.msgid,
        now=ctx.now,
    )
    return {"signoutoutb": {"sign_time": _time(ctx)}}
