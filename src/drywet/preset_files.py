"""Reading and writing presets (chains and augmentation recipes): JSON for a .json suffix,
YAML otherwise. One place for the format rule, the no-overwrite rule and the error messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import DrywetError


def read_preset(path: Path, what: str = "preset") -> Any:
    """The parsed content of an existing preset file; ``what`` names it in errors."""
    import yaml

    if not path.is_file():
        raise DrywetError(f"{what} not found: {path}")
    try:
        return json.loads(path.read_text()) if path.suffix.lower() == ".json" else yaml.safe_load(path.read_text())
    except (ValueError, yaml.YAMLError) as exc:
        raise DrywetError(f"cannot parse {what} {path}: {exc}") from exc


def write_preset(path: Any, data: Any, *, overwrite: bool = False) -> Path:
    """Write ``data`` (floats round-trip exactly in both formats); never replaces a file
    unless ``overwrite``."""
    import yaml

    path = Path(path)
    if path.exists() and not overwrite:
        raise DrywetError(f"{path} exists; pass overwrite=True (CLI: --overwrite) or choose another name")
    text = json.dumps(data, indent=2) if path.suffix.lower() == ".json" else yaml.safe_dump(data, sort_keys=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
