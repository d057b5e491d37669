"""The installer: registers the host with Chromium-family browsers and Firefox, undoes it, and
diagnoses it.

`python -m host install|uninstall|doctor` land in `host.installer.cli`. The layers, from data to
effects: `browsers` (one table of browsers, data only), `machine` (the OS, folders and registry
being installed into: the one seam tests replace), `targets` (where each browser looks on the
machine's OS: one POSIX class, one Windows class, both importable everywhere), `manifest` /
`launcher` / `configfile` (what gets written), `registration` (what is registered at a target:
key -> manifest -> launcher, for install's self-check, uninstall and doctor),
`actions` (planned writes and removals; a dry run prints them instead of applying them),
`plan` (install and uninstall as lists of actions), `probe` (a real framed `ping`) and `doctor`.
Nothing here runs when the browser starts the host.
"""
