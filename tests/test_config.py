"""Options built from a settings dataclass: names, defaults, types and help come from its fields."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence

import pytest

from llama_data.config import add_dataclass_arguments, from_args, setting
from llama_data.units import parse_size


@dataclasses.dataclass(frozen=True)
class Job:
    name: str = setting(help_text="what to run", flag="name")
    paths: Sequence[str] = setting(help_text="inputs", nargs="+", action="extend", metavar="P")
    size: int = setting(1024, "bytes", type=parse_size)
    workers: int | None = setting(None, "processes", default_text="all cores")
    rate: float = setting(0.5, "share kept, in %")
    check: bool = setting(True, "skip the check", flag="--no-check")
    verbose: bool = setting(False, "say more")
    internal: int = 7  # no help: not an option


def parse(*argv: str) -> Job:
    cli = argparse.ArgumentParser(prog="job")
    add_dataclass_arguments(cli, Job)
    return from_args(Job, cli.parse_args(argv))


def test_unset_options_are_the_dataclass_defaults():
    assert parse("run", "--paths", "a") == Job(name="run", paths=["a"])


def test_options_are_typed_and_named_after_the_fields():
    job = parse("run", "--paths", "a", "b", "--paths", "c", "--size", "2KiB", "--workers", "3",
                "--rate", "0.25", "--no-check", "--verbose")
    assert job == Job("run", ["a", "b", "c"], 2048, 3, 0.25, False, True)


def test_a_setting_without_help_is_no_option(capsys):
    with pytest.raises(SystemExit):
        parse("run", "--paths", "a", "--internal", "3")
    assert "unrecognized arguments: --internal" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["run"], "the following arguments are required: --paths"),
    (["run", "--paths", "a", "--size", "lots"], "argument --size: not a size: 'lots'"),
    (["run", "--paths", "a", "--workers", "x"], "argument --workers: invalid int value: 'x'"),
])
def test_a_bad_option_is_a_usage_error(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        parse(*argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_help_states_defaults_and_keeps_a_literal_percent():
    cli = argparse.ArgumentParser(prog="job")
    add_dataclass_arguments(cli, Job)
    text = " ".join(cli.format_help().split())
    assert "bytes (default: 1024)" in text and "processes (default: all cores)" in text
    assert "share kept, in % (default: 0.5)" in text
    assert "skip the check" in text and "(default: True)" not in text
    assert "inputs (default" not in text  # a required option has no default to state
