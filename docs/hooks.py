"""MkDocs hook: the command-line reference is generated from the parser (``drywet.cli``), so
the page can never disagree with the commands."""

from __future__ import annotations

import argparse

MARKER = "<!-- cli-reference -->"


def _help(parser: argparse.ArgumentParser) -> str:
    return parser.format_help().replace("```", "'''")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps its subcommands here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def reference() -> str:
    from drywet.cli import COMMANDS, GROUPS, build_parser

    parser = build_parser()
    commands = _subparsers(parser)
    out = ["```text", _help(parser).rstrip(), "```", ""]
    for task, modules in GROUPS:
        out += [f"## {task[0].upper() + task[1:]}", ""]
        for module in modules:
            sub = commands[module.NAME]
            out += [f"### drywet {module.NAME}", "", f"{COMMANDS[module.NAME].HELP[0].upper()}{COMMANDS[module.NAME].HELP[1:]}.", "",
                    "```text", _help(sub).rstrip(), "```", ""]
            for name, nested in _subparsers(sub).items():
                out += [f"#### drywet {module.NAME} {name}", "", "```text", _help(nested).rstrip(), "```", ""]
    return "\n".join(out)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, reference())
    return markdown
