"""A client of the national interface, as a hospital's system (HIS) speaks it.

It builds envelopes, signs each message (``x-tif-*`` headers), numbers message ids as the convention does
(institution code 12 + ``yyyyMMddHHmmss`` 14 + a 4-digit sequence) and raises :class:`HisError` when the
answer's ``infcode`` is -1. Amounts may be given as Decimals or strings and are sent as exact JSON numbers;
amounts in answers are read as Decimals.

    his = Client("http://127.0.0.1:8000", "H53010000001", "yb_H53010000001", secret)
    his.sign_in("001")
    person = his.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": id_number}})

Files go up with 9101 (:meth:`Client.upload_file`, the bytes as base64) and come down with 9102
(:meth:`Client.download_file`), whose answer is the file itself rather than an envelope.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from yibao.core import clock
from yibao.core.dates import CHINA_TZ
from yibao.nhsa.app import PATH
from yibao.nhsa.errors import to_json
from yibao.nhsa.signature import sign

# One sequence for every client in this process: two clients of one institution (a workstation's threads, a
# tool beside the HIS) numbering from 1 in the same second would send the same msgid for different
# messages, which the platform refuses. It starts at a random point so that separate processes of one
# institution rarely meet either (a 1-in-10,000 chance for two processes starting in one second).
_SEQUENCE = itertools.count(secrets.randbelow(10_000))
_SEQUENCE_LOCK = threading.Lock()


class HisError(Exception):
    """A message answered with ``infcode -1`` (or not answered with an envelope at all)."""

    def __init__(self, err_msg: str, answer: Answer | None = None) -> None:
        super().__init__(err_msg)
        self.err_msg = err_msg
        self.answer = answer


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer as received: HTTP status, the envelope, and the message id it answers."""

    status: int
    envelope: dict[str, Any]
    msgid: str
    file: bytes | None = None  # a file sent as the whole answer (9102), without an envelope

    @property
    def ok(self) -> bool:
        """Whether ``infcode`` is 0 (or a file came back)."""
        return self.file is not None or str(self.envelope.get("infcode")) == "0"

    @property
    def output(self) -> Any:
        """The answer's ``output``."""
        return self.envelope.get("output")

    @property
    def err_msg(self) -> str | None:
        """The refusal's message, if any."""
        value = self.envelope.get("err_msg")
        return None if value is None else str(value)


class Client:
    """One institution's connection to a yibao server (thread-safe: message ids never repeat)."""

    def __init__(
        self,
        base_url: str,
        code: str,
        paasid: str,
        secret: str,
        *,
        transport: httpx.BaseTransport | None = None,
        http: httpx.Client | None = None,
        name: str | None = None,
        opter: str = "001",
        opter_name: str = "操作员",
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.code = code
        self.paasid = paasid
        self.secret = secret
        self.name = name
        self.opter = opter
        self.opter_name = opter_name
        self.sign_no: str | None = None
        self.http = http or httpx.Client(transport=transport, timeout=timeout)

    def next_msgid(self) -> str:
        """``code + yyyyMMddHHmmss + 4-digit sequence`` (one sequence per process, wrapping after 9999)."""
        with _SEQUENCE_LOCK:
            n = next(_SEQUENCE) % 10_000
        return f"{self.code}{clock.now().astimezone(CHINA_TZ):%Y%m%d%H%M%S}{n:04d}"

    def headers(self, *, nonce: str | None = None, timestamp: str | None = None) -> dict[str, str]:
        """Signed ``x-tif-*`` headers for one message."""
        ts = timestamp or str(int(clock.wire_now().timestamp()))
        nonce = nonce or uuid.uuid4().hex
        return {
            "x-tif-paasid": self.paasid,
            "x-tif-timestamp": ts,
            "x-tif-nonce": nonce,
            "x-tif-signature": sign(ts, self.secret, nonce),
            "Content-Type": "application/json; charset=utf-8",
        }

    def envelope(
        self, infno: str, payload: dict[str, Any], /, *, msgid: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """A request envelope (``fields`` add or override envelope fields)."""
        body: dict[str, Any] = {
            "infno": infno,
            "msgid": msgid or self.next_msgid(),
            "mdtrtarea_admvs": "",
            "insuplc_admdvs": "",
            "recer_sys_code": "YIBAO",
            "dev_no": "",
            "dev_safe_info": "",
            "cainfo": "",
            "signtype": "",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": self.opter,
            "opter_name": self.opter_name,
            "inf_time": clock.now().astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
            "fixmedins_code": self.code,
            "fixmedins_name": self.name or self.code,
            "sign_no": self.sign_no or "",
            "input": payload,
        }
        body.update(fields)
        return body

    def post(self, body: bytes, headers: dict[str, str], *, infno_in_path: str | None = None) -> httpx.Response:
        """Send raw bytes with the given headers (for callers that build their own)."""
        url = f"{self.base_url}/fsi{PATH}" + (f"/{infno_in_path}" if infno_in_path else "")
        return self.http.post(url, content=body, headers=headers)

    def send(self, infno: str, payload: dict[str, Any], /, *, msgid: str | None = None, **fields: Any) -> Answer:
        """Send one message and return the answer as it came (no exception on ``infcode -1``)."""
        body = self.envelope(infno, payload, msgid=msgid, **fields)
        r = self.post(to_json(body).encode("utf-8"), self.headers())
        # A download (9102) is the file itself; platforms send it as application/zip or octet-stream.
        if r.status_code == 200 and r.headers.get("content-type", "").startswith(
            ("application/zip", "application/octet")
        ):
            return Answer(r.status_code, {}, body["msgid"], file=r.content)
        try:
            envelope = json.loads(r.text, parse_float=Decimal)
        except ValueError:
            raise HisError(f"HTTP {r.status_code}: 应答不是JSON：{r.text[:200]}") from None
        if not isinstance(envelope, dict):
            raise HisError(f"HTTP {r.status_code}: 应答不是报文：{r.text[:200]}")
        return Answer(r.status_code, envelope, body["msgid"])

    def call(self, infno: str, payload: dict[str, Any], /, *, msgid: str | None = None, **fields: Any) -> Any:
        """Send one message; its ``output`` (a file's bytes for 9102), or :class:`HisError` on ``infcode -1``."""
        answer = self.send(infno, payload, msgid=msgid, **fields)
        if not answer.ok:
            raise HisError(answer.err_msg or f"infcode {answer.envelope.get('infcode')}", answer)
        return answer.file if answer.file is not None else answer.output

    def upload_file(self, content: bytes, filename: str, *, msgid: str | None = None) -> dict[str, Any]:
        """9101: upload a file (a zip); the answer's ``output`` {file_qury_no, filename, dld_endtime}."""
        node = {"in": base64.b64encode(content).decode("ascii"), "filename": filename, "fixmedins_code": self.code}
        out: dict[str, Any] = self.call("9101", {"fsUploadIn": node}, msgid=msgid)
        return out

    def download_file(self, file_qury_no: str, filename: str, *, msgid: str | None = None) -> bytes:
        """9102: download a file made for this institution (a 3202 result): its bytes."""
        node = {"file_qury_no": file_qury_no, "filename": filename, "fixmedins_code": self.code}
        out = self.call("9102", {"fsDownloadIn": node}, msgid=msgid)
        if not isinstance(out, bytes):
            raise HisError("9102 应答不是文件 / the answer to 9102 is not a file")
        return out

    def sign_in(self, opter_no: str | None = None, *, mac: str | None = None, ip: str | None = None) -> str:
        """9001: sign in; later messages carry the ``sign_no``."""
        out = self.call("9001", {"signIn": {"opter_no": opter_no or self.opter, "mac": mac or "", "ip": ip or ""}})
        self.sign_no = str(out["signinoutb"]["sign_no"])
        return self.sign_no

    def sign_out(self) -> None:
        """9002: sign out of the current sign-in."""
        if self.sign_no is None:
            raise HisError("未签到 / not signed in")
        self.call("9002", {"signOut": {"sign_no": self.sign_no, "opter_no": self.opter}})
        self.sign_no = None

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()
