"""Models on disk as ComfyUI sees them (SPEC §10): the folders ComfyUI loads from, where an
entry's file is, and the scan that hashes and identifies the files no catalog names.

Boundary: this package reads the models folders and never writes there; everything it keeps
(resolved folders, hash cache, scan results) lives beside the catalogs.
"""
