"""The daemon behind ``csmon run``: scheduled jobs, hot reload, leader election,
health and metrics over HTTP, structured logs.

Modules, outside in: :mod:`~monitor.daemon.run` (process lifecycle and signals),
:mod:`~monitor.daemon.scheduler` (APScheduler jobs), :mod:`~monitor.daemon.service`
(what each job does on this replica), :mod:`~monitor.daemon.jobs` and
:mod:`~monitor.daemon.sync` (the jobs as plain functions), :mod:`~monitor.daemon.reload`,
:mod:`~monitor.daemon.leader`, :mod:`~monitor.daemon.slots` (DST-safe daily slot),
:mod:`~monitor.daemon.http` and :mod:`~monitor.daemon.observe`.
"""
