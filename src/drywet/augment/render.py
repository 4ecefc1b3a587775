"""What one worker does in a folder job: the job's settings and the rendering of one source
(shared by the local process pool and the Ray backend, so both write the same files)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import io
from ..errors import DrywetError
from .pipeline import Augment

OUTPUT_FORMATS = {"wav": "FLOAT", "flac": "PCM_24"}
WORKER_DIED = ("the worker process died while rendering this file (a crash in a native library, or out "
               "of memory); it was retried alone and died again, so it is skipped")


@dataclass(frozen=True)
class Job:
    in_dir: Path
    out_dir: Path
    augment: Augment
    copies: int
    seed: int
    fmt: str = "wav"


def output_name(source: str, copy: int, fmt: str) -> str:
    rel = Path(source)
    return str(rel.with_name(f"{rel.stem}_aug{copy:03d}.{fmt}"))


def task_seed(seed: int, source: str, copy: int) -> list[int]:
    """Entropy of one output: independent of worker count, file order and other files."""
    return [int(seed), zlib.crc32(source.encode("utf-8")), int(copy)]


def render_source(job: Job, source: str, copies: Iterable[int]) -> dict:
    """Worker body: read one input, write its pending copies. Returns rows or an error."""
    try:
        x, sr = io.read_audio(job.in_dir / source)
        if x.shape[-1] == 0:
            raise DrywetError("the file holds no samples")
    except Exception as exc:  # reported per file; the job continues
        return {"source": source, "error": f"{type(exc).__name__}: {exc}"}
    rows = []
    for k in copies:
        entropy = task_seed(job.seed, source, k)
        try:
            result = job.augment(x, sample_rate=sr, rng=np.random.default_rng(entropy))
            out = output_name(source, k, job.fmt)
            io.write_audio(job.out_dir / out, result.audio, sample_rate=sr, subtype=OUTPUT_FORMATS[job.fmt], overwrite=True)
        except Exception as exc:
            return {"source": source, "error": f"copy {k}: {type(exc).__name__}: {exc}", "rows": rows}
        rows.append(
            {
                "source": source,
                "output": out,
                "copy": k,
                "seed": entropy,
                "sample_rate": sr,
                "channels": int(result.audio.shape[0]),
                "samples": int(result.audio.shape[-1]),
                "chain": result.labels,
            }
        )
    return {"source": source, "rows": rows}
