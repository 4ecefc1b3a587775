"""``drywet augment``: augment a folder of audio (manifest, atomic writes, resumable)."""

from __future__ import annotations


NAME = "augment"
HELP = "augment a folder of audio (manifest, atomic writes, resumable)"


def add_arguments(p) -> None:
    p.add_argument("in_dir", help="folder of audio (read only)")
    p.add_argument("out_dir", help="new or empty folder, or the folder of a job to resume")
    p.add_argument("--preset", default="default", help="augmentation or chain preset file, or a bundled name: default, telephone, media")
    p.add_argument("--copies", type=int, default=1, help="augmented copies per input")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes (a file that crashes one is retried alone, then reported); 0 renders in this process")
    p.add_argument("--backend", default="local", choices=["local", "ray"])
    p.add_argument("--ray-address", default=None, help="Ray cluster address ('auto', 'ray://host:10001'); default starts a local Ray")
    p.add_argument("--format", default="wav", choices=["wav", "flac"], help="wav: 32-bit float (no clipping); flac: 24-bit")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    from pathlib import Path

    from ..augment import Augment
    from ..augment.folder import Job, run_job

    job = Job(Path(args.in_dir), Path(args.out_dir), Augment.load(args.preset), args.copies, args.seed, args.format)
    summary = run_job(job, workers=args.workers, backend=args.backend, ray_address=args.ray_address, progress=not args.quiet)
    failed = len(summary.failed)
    print(
        f"{summary.written} written, {summary.skipped} already done, {failed} failed "
        f"(of {summary.inputs} inputs); manifest: {job.out_dir / 'manifest.csv'}"
    )
    return 0 if summary.ok else 1
