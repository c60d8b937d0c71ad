"""Entry point of the ``yibao`` command: assembles each domain's commands, loading each one when it runs.

Importing every domain (database, web framework, identity, NumPy) took most of a second and a half
before any command started. The group below knows each command by name, the module that defines it and
its one-line help, and imports that module only when the command runs; ``yibao --help`` lists the
commands from their declared help alone. ``tests/cli/test_main.py`` checks that each declared help is
the command's own.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import typer

# Typer vendors its own click (``typer._click``); its groups and commands are of those classes.
from typer._click import Command, Context, HelpFormatter
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """A command known by name: where it is defined (``module:attribute``) and its one-line help."""

    target: str
    help: str

    def load(self, name: str) -> Command:
        """Import the defining module; a Typer app becomes a group, a function a single command."""
        module, attribute = self.target.split(":")
        obj: Any = getattr(importlib.import_module(module), attribute)
        if isinstance(obj, typer.Typer):
            command: Command = typer.main.get_group(obj)
        else:
            single = typer.Typer(add_completion=False)
            single.command(name)(obj)
            command = typer.main.get_command(single)
        command.name = name
        return command


# In the order ``yibao --help`` lists them.
COMMANDS: dict[str, LazyCommand] = {
    "serve": LazyCommand(
        "yibao.cli.serve:serve", "启动服务（先升级数据库）/ run the server after migrating the database."
    ),
    "calc": LazyCommand(
        "yibao.engine.cli:calc", "计算一笔待遇（JSON 输入，JSON 输出）/ Decide one claim: JSON in, JSON decision out."
    ),
    "policy": LazyCommand("yibao.policy.cli:app", "政策参数：查看与校验 / policy parameters: read and check"),
    "db": LazyCommand("yibao.cli.db:app", "数据库：建库与迁移 / database schema and migrations"),
    "people": LazyCommand("yibao.people.cli:app", "参保人与参保登记 / people and enrolment"),
    "premiums": LazyCommand("yibao.premiums.cli:app", "居民医保缴费 / resident premium collection"),
    "demo": LazyCommand("yibao.cli.demo:app", "演示数据 / demo data"),
    "accounts": LazyCommand("yibao.accounts.cli:app", "个人账户 / personal accounts"),
    "auth": LazyCommand("yibao.identity.cli:app", "登录账号与审计 / logins and audit"),
    "batch": LazyCommand("yibao.engine.batch_cli:app", "批量结算 / batch settlement of claim files"),
    "institutions": LazyCommand("yibao.institutions.cli:app", "定点医药机构 / designated institutions"),
    "his": LazyCommand("yibao.his.cli:app", "医院端国家接口调用 / the hospital side of the national interface"),
    "catalogue": LazyCommand("yibao.catalogue.cli:app", "医保目录 / medical catalogue"),
    "settlements": LazyCommand("yibao.claims.cli:app", "结算查询 / settlements"),
    "sim": LazyCommand("yibao.sim.cli:app", "基金测算：合成省份、年度结算报告、政策对比 / fund analysis"),
}


class LazyGroup(TyperGroup):
    """A command group that imports a command's module only when that command is resolved to run."""

    _listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        """Every command, without importing any."""
        return [*COMMANDS, *(n for n in super().list_commands(ctx) if n not in COMMANDS)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        """The command; while the help is written, a stand-in carrying only the declared help."""
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        spec = COMMANDS[cmd_name]
        if self._listing:
            return TyperCommand(cmd_name, help=spec.help, short_help=spec.help)
        command = spec.load(cmd_name)
        self.add_command(command, cmd_name)
        return command

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The group's help, listing the commands from their declared help."""
        with self._listing_only():
            super().format_help(ctx, formatter)

    @contextmanager
    def _listing_only(self) -> Iterator[None]:
        self._listing = True
        try:
            yield
        finally:
            self._listing = False


app = typer.Typer(
    name="yibao",
    cls=LazyGroup,
    help="yibao 医保：云南基本医疗保险经办平台 / Yunnan public medical insurance platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """yibao 医保：云南基本医疗保险经办平台 / Yunnan public medical insurance platform."""


def main() -> None:
    """Run the CLI (log lines never carry a full ID or phone number)."""
    from yibao.core import clock, logs
    from yibao.core.settings import get_settings

    logs.install()
    clock.configure(get_settings().clock_start)
    app()
