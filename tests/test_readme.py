"""The README is the contract users read: its commands and options must exist, and vice versa."""
import re
from pathlib import Path

from kb.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def subcommands() -> dict:
    return cli.commands


def options_of(command) -> set[str]:
    """A command's options; a group's (``kb watch``) include its subcommands'."""
    subs = getattr(command, "commands", {}).values()
    return ({opt for p in command.params for opt in (*p.opts, *p.secondary_opts)} | {"--help"}
            | {opt for sub in subs for opt in options_of(sub)})


def test_readme_starts_with_the_two_commands():
    first_block = README.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block


def test_every_command_is_documented():
    for name in subcommands():
        assert f"`kb {name}" in README, f"kb {name} is missing from README.md"


def test_every_documented_option_exists():
    commands = subcommands()
    for line in re.findall(r"`kb (\w[\w-]*)([^`]*)`", README):
        name, rest = line
        assert name in commands, f"README documents unknown command kb {name}"
        known = options_of(commands[name])
        for option in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", rest):
            assert option in known, f"README documents unknown option {option} of kb {name}"


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "make test" in ci


def test_every_web_route_is_documented(tmp_path):
    from webapp import create_app

    app = create_app({"KB_HOME": str(tmp_path)})
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "api.unknown"):
            continue
        documented = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule)
        assert f"`{documented}`" in README or f"`{documented}`," in README, f"route {documented} missing from README"
