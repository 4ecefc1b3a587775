"""The Python examples of the README and the docs pages run as written (each in a fresh
namespace; ``song.wav`` is the bundled clip, and the blocks that continue an earlier one get its
``x``, ``sr`` and a target), and their command lines parse."""

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from drywet import io

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TEXT = "\n".join(p.read_text() for p in PAGES)
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, re.S)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_example_runs(index, tmp_path, monkeypatch):
    x, sr = io.bundled_example()
    x = np.ascontiguousarray(x[:, : 3 * sr])  # 3 s keep the examples quick
    sf.write(tmp_path / "song.wav", x.T, sr)
    monkeypatch.chdir(tmp_path)
    exec(BLOCKS[index], {"np": np, "x": x.copy(), "sr": sr, "clean_target": x.copy()})


def test_readme_command_lines_parse():
    """Every `drywet ...` line of the README's shell examples names real subcommands and flags."""
    import shlex

    from drywet.cli import build_parser

    parser = build_parser()
    lines = [line.split("#")[0].strip() for block in re.findall(r"```bash\n(.*?)```", TEXT, re.S)
             for line in block.splitlines()]
    commands = [line for line in lines if line.startswith("drywet ")]
    assert len(commands) > 20
    for line in commands:
        args = [a for a in shlex.split(line)[1:] if not (a.startswith("[") or a.endswith("]") or a == "...")]
        namespace, extra = parser.parse_known_args(args)  # argparse exits on an unknown subcommand
        assert not extra or namespace.command == "apply", f"{line}: unknown {extra}"
