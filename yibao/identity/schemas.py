"""What logins look like over HTTP and in ``--json`` output: tokens, staff and client logins, the caller."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from yibao.core.auth import Role
from yibao.identity.models import LoginKind


class _In(BaseModel):
    # Inputs that allow only part of an enum spell the allowed values out: the schema lists exactly those,
    # and a refusal names them ("Input should be 'person' or 'staff'").
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LoginIn(_In):
    """参保人用身份证号登录，工作人员用用户名登录 / persons log in with their ID number, staff with a user name."""

    kind: Literal["person", "staff"] = "person"
    login: str = Field(min_length=1, max_length=64, examples=["530102199001011234"])
    password: str = Field(min_length=1, max_length=128)


class TokenOut(BaseModel):
    """A bearer token: send it as ``Authorization: Bearer <token>``."""

    token: str
    expires_at: str | None = Field(examples=["2023-06-01T16:00:00+00:00"])
    role: Role
    name: str


class StaffIn(_In):
    """A staff login (administrators, in their own region)."""

    username: str = Field(min_length=3, max_length=32, examples=["km.clerk01"])
    name: str = Field(min_length=1, max_length=64)
    role: Literal["clerk", "appraiser", "finance", "auditor", "admin"]
    region: str = Field(min_length=6, max_length=6, examples=["530100"])
    password: str = Field(min_length=8, max_length=128)


class StaffOut(BaseModel):
    """A staff login as created."""

    username: str = Field(examples=["km.clerk01"])
    name: str
    role: Role
    region: str | None = Field(examples=["530100"])


class ClientIn(_In):
    """A designated institution or a batch service; its API key is shown once."""

    kind: Literal["institution", "service"]
    code: str = Field(min_length=3, max_length=32, examples=["H53010000001"])
    name: str = Field(min_length=1, max_length=64, examples=["某某医院"])
    region: str = Field(min_length=6, max_length=6, examples=["530100"])


class ClientOut(BaseModel):
    """An institution or service login with its API key (shown only here, stored hashed)."""

    code: str = Field(examples=["H53010000001"])
    name: str
    kind: LoginKind
    region: str | None = Field(examples=["530100"])
    api_key: str


class PasswordIn(_In):
    """A new password; a person changing their own gives the current one too."""

    new_password: str = Field(min_length=8, max_length=128)
    current_password: str | None = Field(default=None, max_length=128)


class MeOut(BaseModel):
    """The logged-in caller as shown to themselves (a person's ID number masked)."""

    role: Role
    name: str
    login: str
    region: str | None
