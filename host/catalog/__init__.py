"""The one catalog package: every read and write of models.json / loras.json goes through here.

Modules, each importing only those listed before it (the graph is one-way):
- `ids`: CivitAI ids compared by value. `layout`: file names in the catalog folder and the
  catalogs' change signature. `paths`: file-name and dest safety; where an entry's file lives.
- `document`: the catalog shape, entry search and edits on the parsed JSON (order kept).
- `views`: what map / lookup report for an entry (its record, live status, the map etag).
- `pretty`: the catalog files' JSON layout. `store`: read, lock, atomic write with backup.
- `index`: a read-only index (one binary file, rebuilt only when a catalog file changes) that
  makes `lookup` and `map` cost the same at any catalog size. `summary`: the small file `ping`
  reads (falls back to the index).
- `transaction`: read-modify-write under the lock, index refresh after the reply.
"""
