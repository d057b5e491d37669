"""Long work that outlives the host process: job state, the detached worker, the kinds table.

A *job* is one piece of long work for one catalog folder (a download, a scan), kept in the
job file beside the catalogs (host.jobs.state) so every host process and the CLI see it.
A *worker* (host.jobs.worker, one per catalog folder, detached from whoever started it) runs
the unfinished jobs, at most MAX_PARALLEL at once, and exits when none is left.

The interface for a kind of job (see host.jobs.kinds and host.jobs.control):

- add an entry to ``KINDS`` in host/jobs/kinds.py: kind name -> module path;
- that module has ``run(control: JobControl) -> None``, called in a worker thread. It reads
  its job from ``control.job`` (a copy of the stored dict, with its ``params``), reports with
  ``control.update(bytes=..., total=..., state=...)``, checks ``control.canceled()`` often,
  raises ``JobFailed(code, message)`` to fail and returns to finish (state ``done``);
- enqueue with ``host.jobs.state.submit(catalog_dir, job)`` (built by ``new_job``), which also
  starts the worker.

Only host.jobs.paths and host.jobs.wake are imported on the cold read path: stdlib ``os`` and
``time``, and one stat when nothing is running.
"""
