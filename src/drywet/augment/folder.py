"""Augment a folder of audio into another folder, with a manifest; safe to kill and resume.

Guarantees:

* Inputs are only read. The output folder may not be the input folder or inside it.
* Each output is written atomically (temp file in the same folder, then rename) and recorded
  in ``manifest.jsonl`` (appended and fsync'ed by the coordinating process only) after it is
  complete. A re-run skips outputs that exist and are recorded, re-renders the others (same
  seed, same bytes), and removes temp files a killed run left behind.
* Every output's randomness comes from ``(seed, source path, copy index)`` only, so results
  are identical for any number of workers and for the Ray backend.
* An unreadable input (corrupt, truncated, empty, unsupported) is reported in ``summary.json``
  and on stderr; the job goes on and the return value says whether anything failed.
* Files render in worker processes (the local backend's ``workers``, Ray tasks): a file that
  kills its process (a crash in a native library, out of memory) is retried alone once, then
  reported as failed; the job goes on.

At the end ``manifest.csv`` and ``manifest.json`` hold the rows sorted by output path.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from .. import io
from ..errors import DrywetError
from ..graph.chain import Chain
from .render import OUTPUT_FORMATS, WORKER_DIED, Job, output_name, render_source, task_seed  # noqa: F401 (the job API)

MANIFEST = "manifest.jsonl"
SUFFIXES = io.READ_FORMATS


@dataclass
class JobSummary:
    inputs: int = 0
    written: int = 0
    skipped: int = 0
    failed: list = None

    def to_dict(self) -> dict:
        return {"inputs": self.inputs, "written": self.written, "skipped_existing": self.skipped, "failed": self.failed or []}

    @property
    def ok(self) -> bool:
        return not self.failed


def check_folders(in_dir: Path, out_dir: Path) -> None:
    if not in_dir.is_dir():
        raise DrywetError(f"input folder not found: {in_dir}")
    if out_dir.exists() and not out_dir.is_dir():
        raise DrywetError(f"the output folder {out_dir} is a file; give a new or empty folder")
    i, o = in_dir.resolve(), out_dir.resolve()
    if o == i or i in o.parents:
        raise DrywetError(f"the output folder {out_dir} is inside the input folder {in_dir}; choose a folder outside it")
    if o.exists() and any(o.iterdir()) and not (o / MANIFEST).exists():
        raise DrywetError(f"{out_dir} holds files but no drywet {MANIFEST}; choose an empty or new folder")


def list_sources(in_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(in_dir)) for p in in_dir.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


def list_unsupported(in_dir: Path) -> list[str]:
    return sorted(
        str(p.relative_to(in_dir)) for p in in_dir.rglob("*") if p.is_file() and not p.name.startswith(".") and p.suffix.lower() not in SUFFIXES
    )


def read_manifest(out_dir: Path) -> dict[str, dict]:
    """Rows already recorded, by output path (a line cut by a kill is ignored)."""
    rows = {}
    path = out_dir / MANIFEST
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            rows[row["output"]] = row
    return rows


def remove_stale_temp_files(out_dir: Path) -> None:
    for p in out_dir.rglob(".*_aug*.*"):  # io.write_audio's temp names: .<stem>.<random><suffix>
        if p.is_file():
            p.unlink()


def plan(job: Job, sources: list[str], done: dict[str, dict]) -> tuple[list[tuple[str, list[int]]], int]:
    todo, skipped = [], 0
    for source in sources:
        pending = []
        for k in range(job.copies):
            out = output_name(source, k, job.fmt)
            if out in done and (job.out_dir / out).is_file():
                skipped += 1
            else:
                pending.append(k)
        if pending:
            todo.append((source, pending))
    return todo, skipped


def run_job(job: Job, *, workers: int = 1, backend: str = "local", ray_address: str | None = None, progress: bool = True) -> JobSummary:
    """Run (or resume) an augmentation job; see the module docstring."""
    if job.copies < 1:
        raise DrywetError(f"copies must be at least 1, got {job.copies}")
    if job.fmt not in OUTPUT_FORMATS:
        raise DrywetError(f"output format must be one of {list(OUTPUT_FORMATS)}, got {job.fmt!r}")
    if workers < 0:
        raise DrywetError(f"workers must be 0 (render in this process) or more, got {workers}")
    if backend == "ray" and workers == 0:
        raise DrywetError("the Ray backend runs Ray tasks: give workers >= 1 (the local CPUs it may use)")
    check_folders(job.in_dir, job.out_dir)
    job.out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(job.out_dir)
    sources = list_sources(job.in_dir)
    done = read_manifest(job.out_dir)
    todo, skipped = plan(job, sources, done)
    summary = JobSummary(inputs=len(sources), skipped=skipped, failed=[])
    summary.failed.extend({"source": s, "error": "unsupported file type; convert it to wav or flac"} for s in list_unsupported(job.in_dir))
    if backend == "local":
        results = _run_local(job, todo, workers)
    elif backend == "ray":
        from .ray_backend import run_ray

        results = run_ray(job, todo, workers=workers, address=ray_address)
    else:
        raise DrywetError(f"backend must be 'local' or 'ray', got {backend!r}")
    bar = _progress(len(todo), progress)
    with open(job.out_dir / MANIFEST, "a") as manifest:
        for result in results:
            for row in result.get("rows", []):
                manifest.write(json.dumps(row) + "\n")
                summary.written += 1
            manifest.flush()
            os.fsync(manifest.fileno())
            if "error" in result:
                summary.failed.append({"source": result["source"], "error": result["error"]})
                print(f"drywet augment: {result['source']}: {result['error']}", file=sys.stderr)
            bar.update(1)
    bar.close()
    write_tables(job.out_dir)
    summary.failed.sort(key=lambda failure: failure["source"])  # workers finish in any order; the summary must not
    (job.out_dir / "summary.json").write_text(json.dumps(summary.to_dict(), indent=2))
    return summary


def _run_local(job: Job, todo, workers: int):
    """Render in ``workers`` processes, so a file that kills its process (a native library's
    segfault, the kernel's out-of-memory killer) costs that file, not the job.

    At most ``workers`` files are in flight, so when a process dies the files it may have been
    rendering are known: each is retried alone in a fresh process, and one that dies again is
    reported as failed. The rest of the job goes on in a new pool."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    if workers == 0:  # in this process: for debuggers, and effects registered at run time
        for source, copies in todo:  # on platforms that spawn workers (no crash isolation)
            yield render_source(job, source, copies)
        return
    pending = list(reversed(todo))
    while pending:
        suspects = []
        with ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent) as pool:
            running = {}
            while (pending or running) and not suspects:
                while pending and len(running) < workers:
                    source, copies = pending.pop()
                    running[pool.submit(render_source, job, source, copies)] = (source, copies)
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    task = running.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        suspects.append(task)
                        continue
                    except Exception as exc:  # render_source reports its own errors: this is transport
                        raise DrywetError(f"a worker process could not run {task[0]}: {type(exc).__name__}: {exc}; "
                                          "an augmentation that cannot be pickled runs with workers=0") from exc
                    yield result
            suspects += running.values()  # in flight when the pool broke
        for source, copies in suspects:
            yield _render_alone(job, source, copies)


def _render_alone(job: Job, source: str, copies: list) -> dict:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(max_workers=1, initializer=_die_with_parent) as pool:
        try:
            return pool.submit(render_source, job, source, copies).result()
        except BrokenProcessPool:
            return {"source": source, "error": WORKER_DIED}


def _die_with_parent() -> None:
    """Linux: a worker gets SIGKILL when the coordinating process dies (killed jobs leave no
    orphan rendering files behind the resumed run); elsewhere nothing."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except OSError:
            pass


def write_tables(out_dir: Path) -> None:
    """manifest.json and manifest.csv, sorted by output (identical for any worker count)."""
    rows = sorted(read_manifest(out_dir).values(), key=lambda r: r["output"])
    (out_dir / "manifest.json").write_text(json.dumps(rows, indent=1))
    with open(out_dir / "manifest.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["source", "output", "copy", "seed", "sample_rate", "channels", "samples", "effects", "chain"])
        for r in rows:
            effects = "+".join(s.effect.name for _, s in Chain.from_dict(r["chain"]).effect_stages())  # v1 or v2 labels
            writer.writerow([r["source"], r["output"], r["copy"], json.dumps(r["seed"]), r["sample_rate"], r["channels"], r["samples"], effects, json.dumps(r["chain"])])


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return _NoBar()
    return tqdm(total=total, unit="file", desc="augment", file=sys.stderr)
