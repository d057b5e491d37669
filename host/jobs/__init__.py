"""Long work that outlives the host process: job state, the detached worker, the kinds table.

A *job* is one piece of long work for one catalog folder (a download, a scan), kept in the
job file beside the catalogs (host.jobs.state) so every host process and the CLI see it.
A *worker* (host.jobs.worker, one per catalog folder, detached from whoever started it) runs
the unfinished jobs, at most MAX_PARALLEL at once, and exits when none is left.

The interface for a kind of job (see host.jobs.kinds and host.jobs.control):

- add an entry to ``KINDS`` in host/jobs/kinds.py: kind name -> module path;
- that module has ``run(control: JobControl) -> None``, called in a worker thread. It reads
  its job from ``control.job`` (a copy of the stored dict, with its ``params``), reports with
  ``control.update(state="running", bytes=..., total=..., <its own fields>=...)`` (copied into
  the job file every tick), checks ``control.canceled()`` / ``check_canceled()`` often, raises
  ``JobFailed(code, message)`` to fail and returns to finish (state ``done``). States: queued,
  then any of host.jobs.paths.UNFINISHED while it runs, then done / failed / canceled. A job
  found in a running state by a new worker (the last one was killed) is run again from the
  start: make ``run`` resumable;
- enqueue with ``host.jobs.state.submit(catalog_dir, new_job(kind, key, public, params))``,
  which queues it unless an unfinished job of that kind and key exists, and starts the worker.
  Cancel by setting the job's state to ``canceled`` inside ``locked_jobs`` (see
  host.download.queue.cancel_download, host.disk.scan_job.cancel_scan): the worker tells the
  running thread; a job of the same kind and key queued again meanwhile starts once that
  thread has ended.

Only host.jobs.paths and host.jobs.wake are imported on the cold read path: stdlib ``os`` and
``time``, and one stat when nothing is running.
"""
