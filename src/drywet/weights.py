"""Network weights bound to the effect specs they were trained for.

A model is two files: ``NAME.safetensors`` (the tensors) and ``NAME.json`` (the specs of the
effects, the architecture and how it was trained). Loading refuses weights whose specs differ
from the installed effects': a range changed since training would make every output wrong
without a sound. Used by blind estimators and neural proxies alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .chain import Chain
from .errors import DrywetError


def chain_spec(chain: Chain) -> list[dict]:
    """What a network's parameter vector means: every stage's spec, in order."""
    return [s.effect.spec.describe() | {"key": s.key} for s in chain.stages]


def save(path: Any, module: Any, info: dict) -> Path:
    """Write ``module``'s state dict and ``info`` (JSON-ready) next to each other."""
    from safetensors.torch import save_file

    path = Path(path).with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    save_file(state, str(path))
    path.with_suffix(".json").write_text(json.dumps(info, indent=1))
    return path


def read_info(path: Any) -> tuple[Path, dict]:
    """(weights path, info) or DrywetError naming the missing file."""
    path = Path(path).with_suffix(".safetensors")
    info_path = path.with_suffix(".json")
    if not path.is_file() or not info_path.is_file():
        raise DrywetError(f"weights not found: {path} and {info_path} are both needed")
    try:
        return path, json.loads(info_path.read_text())
    except ValueError as exc:
        raise DrywetError(f"{info_path} is not valid JSON: {exc}") from exc


def _meaning(spec: Any) -> Any:
    """A stored spec without its documentation strings and without the numpy path's "curve"
    flag: rewording a doc or accepting parameter curves changes no parameter's meaning."""
    if isinstance(spec, dict):
        return {k: _meaning(v) for k, v in spec.items() if k not in ("doc", "curve")}
    if isinstance(spec, list):
        return [_meaning(v) for v in spec]
    return spec


def check_spec(info: dict, chain: Chain, path: Path, retrain: str) -> None:
    """Raise DrywetError when the stored specs differ from ``chain``'s (docs aside)."""
    if _meaning(chain_spec(chain)) != _meaning(info.get("spec")):
        raise DrywetError(
            f"{path.name} was trained for other effect specs than the installed ones "
            f"(a range, scale or parameter changed); retrain it with {retrain}"
        )


def check_fine_tune(path: Any, found: dict, wanted: dict, advice: str) -> None:
    """Refuse to fine-tune saved weights ``path`` whose settings ``found`` differ from the
    ``wanted`` ones of the training config; ``advice`` says what to keep the same."""
    differ = {k: (found[k], wanted[k]) for k in wanted if found[k] != wanted[k]}
    if differ:
        detail = "; ".join(f"{k}: saved {a!r}, config {b!r}" for k, (a, b) in differ.items())
        raise DrywetError(f"cannot fine-tune {path}: it is not the network this config trains ({detail}); "
                          f"use the same {advice}, or train from scratch")


def load_state(module: Any, path: Path) -> Any:
    from safetensors.torch import load_file

    try:
        module.load_state_dict(load_file(str(path)))
    except (RuntimeError, KeyError) as exc:
        raise DrywetError(f"{path.name} does not fit the network described in its JSON: {exc}") from exc
    return module
