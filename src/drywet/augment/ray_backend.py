"""Ray backend for folder jobs: the same per-file task (``render_source``) as Ray tasks.

The coordinating process keeps writing the manifest, so the result is identical to the local
backend's. ``address=None`` starts a local Ray instance; give ``"auto"`` (on a cluster node) or
``"ray://head:10001"`` to use a running cluster. Input and output folders must then be on a
file system every node sees (NFS, a mounted bucket).
"""

from __future__ import annotations

from ..errors import DependencyError
from .render import WORKER_DIED, render_source


def run_ray(job, todo, *, workers: int, address: str | None):
    try:
        import ray
    except ImportError:
        raise DependencyError("the Ray backend needs ray: pip install 'drywet[ray]'") from None

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False, log_to_driver=False)
    try:
        # a task whose worker dies is retried once by Ray (max_retries), then reported as failed
        task = ray.remote(num_cpus=1, max_retries=1)(render_source)
        job_ref = ray.put(job)
        sources = {task.remote(job_ref, source, copies): source for source, copies in todo}
        pending = list(sources)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            try:
                yield ray.get(ready[0])
            except ray.exceptions.RayError as exc:  # the worker crashed twice, or the node was lost
                yield {"source": sources[ready[0]], "error": f"{WORKER_DIED} ({type(exc).__name__})"}
    finally:
        if started_here:
            ray.shutdown()
