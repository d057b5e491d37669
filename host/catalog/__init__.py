"""The one catalog module: every read and write of models.json / loras.json goes through here.

- `ids`: CivitAI ids compared by value.
- `paths`: file-name and dest safety; where an entry's file lives.
- `document`: the catalog shape, entry search and edits on the parsed JSON (order kept).
- `store`: read, lock, atomic write with backup; `transaction()` for read-modify-write.
- `index`: a cached read-only index (one binary file, rebuilt only when a catalog file changes) that
  makes `lookup`, `map` and `ping` cost the same at any catalog size.
"""
