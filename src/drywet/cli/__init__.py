"""The ``drywet`` command: one module per command (its arguments and its run function),
registered by task in :data:`GROUPS`. Errors go to stderr with exit code 2 and say how to fix them."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence

from ..errors import DrywetError
from . import (
    apply,
    augment,
    declip,
    demo,
    effects,
    estimate,
    eval_estimation,
    invariance,
    invert,
    match,
    metrics,
    mix,
    model,
    proxy,
    random_chain,
)

# the one place commands are registered: (task, commands) in the order `drywet --help` lists them
GROUPS = (
    ("start here", (demo,)),
    ("simulate and augment", (effects, apply, random_chain, augment, invariance)),
    ("estimate effect chains", (match, estimate, eval_estimation)),
    ("invert and restore", (invert, declip)),
    ("train through effects", (proxy, model)),
    ("mix multitracks", (mix,)),
    ("measure", (metrics,)),
)
COMMANDS = {module.NAME: module for _, modules in GROUPS for module in modules}


def _grouped_listing() -> str:
    lines = ["commands by task:"]
    for task, modules in GROUPS:
        lines.append(f"  {task}:")
        lines += [f"    {m.NAME:18s}{m.HELP}" for m in modules]
    lines.append("\n`drywet COMMAND --help` gives a command's flags.")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="drywet", description="Audio quality simulation and inversion.",
                                     epilog=_grouped_listing(), formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="one of the commands below")
    for name, module in COMMANDS.items():
        settings = {"description": module.HELP[0].upper() + module.HELP[1:] + ".", **getattr(module, "PARSER", {})}
        p = sub.add_parser(name, **settings)  # listed by task in the epilog, not once more here
        module.add_arguments(p)
        p.set_defaults(parser=p)
    return parser


def _format_warning(message, category, filename, lineno, line=None) -> str:
    return f"drywet: warning: {message}\n"


def main(argv: Sequence[str] | None = None) -> int:
    warnings.formatwarning = _format_warning  # one readable line on stderr, no source dump
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "apply":  # apply reads an effect's flags from the rest
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        return COMMANDS[args.command].run(args)
    except DrywetError as exc:
        print(f"drywet: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into a reader that stopped (drywet effects | head)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's flush at exit would raise again
        return 0


__all__ = ["COMMANDS", "GROUPS", "build_parser", "main"]
