"""`shuangtan --help` lists the commands from engine.cli.SUMMARIES without importing them: each
summary must read as the command's own help does, at any width."""

import click
import pytest

from engine.cli import SUMMARIES, main


def test_every_command_has_a_summary():
    ctx = click.Context(main)
    assert set(SUMMARIES) == set(main.list_commands(ctx))


@pytest.mark.parametrize("name", sorted(SUMMARIES))
def test_a_summary_is_the_commands_own_short_help(name):
    cmd = main.get_command(click.Context(main), name)
    for limit in (30, 45, 60, 80, 200):
        assert click.Command(name, help=SUMMARIES[name]).get_short_help_str(limit) == cmd.get_short_help_str(limit), (
            limit
        )
