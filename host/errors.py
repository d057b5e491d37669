"""Every error the host can report, each with a stable wire code (stdlib only).

One base class, a few categories, specific leaves. Codes are part of the contract with the
extension (PROTOCOL.md) and are only ever appended, never renamed. Handlers raise these;
host.dispatch is the only place they become error replies.
"""

from __future__ import annotations

# `typing` is imported for type checkers only: it costs milliseconds in every cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class HostError(Exception):
    """Base of every error that becomes an error reply."""

    code = "internal_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_wire(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.details}


# --- the stream and the request -------------------------------------------------------------


class ProtocolError(HostError):
    """The stream or a message is not what the protocol allows."""

    code = "invalid_request"


class BrokenStreamError(ProtocolError):
    """A frame header or body was cut short: the stream cannot be resynchronised."""

    code = "broken_stream"


class FrameTooLargeError(ProtocolError):
    """A frame declares more bytes than the host accepts; raised before reading the body."""

    code = "frame_too_large"


class InvalidJsonError(ProtocolError):
    """A complete frame whose body is not UTF-8 JSON."""

    code = "invalid_json"


class InvalidRequestError(ProtocolError):
    """The JSON is not a request object, or a parameter is missing or of the wrong type."""

    code = "invalid_request"


class UnknownOpError(ProtocolError):
    """The request names an op the host does not have."""

    code = "unknown_op"


class ForbiddenOriginError(ProtocolError):
    """The host was started by an extension origin that is not in the configured list."""

    code = "forbidden_origin"


class ReplyTooLargeError(ProtocolError):
    """A reply would exceed Chrome's 1 MiB host-to-browser limit (Chrome would kill the port)."""

    code = "reply_too_large"


class UnencodableReplyError(ProtocolError):
    """A reply holds a value JSON cannot carry (NaN, Infinity), e.g. an echoed request id."""

    code = "unencodable_reply"


class CursorExpiredError(ProtocolError):
    """A `map` cursor belongs to a catalog state that has changed since; start again."""

    code = "cursor_expired"


# --- configuration and the catalog ----------------------------------------------------------


class ConfigError(HostError):
    """The config file exists but cannot be used."""

    code = "config_invalid"


class CatalogError(HostError):
    """A catalog operation cannot go ahead."""

    code = "catalog_error"


class CatalogCorruptError(CatalogError):
    """A catalog file does not parse or is not of the catalog shape; it is never overwritten."""

    code = "catalog_corrupt"


class IndexDamagedError(CatalogError):
    """The read index (a cache) did not decode; it was deleted and is rebuilt on the next request."""

    code = "index_damaged"


class CatalogBusyError(CatalogError):
    """The catalog lock could not be taken in time (another process holds it)."""

    code = "catalog_busy"


class CatalogWriteError(CatalogError):
    """Writing a catalog file failed (disk full, permissions); the old file is intact."""

    code = "catalog_write_failed"


class NotFoundError(CatalogError):
    """No catalog entry matches."""

    code = "not_found"


class AmbiguousError(CatalogError):
    """Several entries match a file name in different folders; the caller must give `dest`."""

    code = "ambiguous"


class FileOnDiskError(CatalogError):
    """`remove` refused: the entry's file exists on disk (the host never deletes model files)."""

    code = "file_on_disk"


class PresenceUnknownError(CatalogError):
    """`remove` refused: whether the entry's file is on disk cannot be told (no models folder,
    an unsafe dest, a folder that cannot be looked into)."""

    code = "presence_unknown"


class NotALoraError(CatalogError):
    """`promote` refused: the entry is not a LoRA (its dest is not `loras` or under it)."""

    code = "not_a_lora"


class UnsafeFilenameError(CatalogError):
    """A file name is not one safe path component."""

    code = "unsafe_filename"


class UnsafePathError(CatalogError):
    """A dest folder is not a safe relative path inside the models folder."""

    code = "unsafe_path"


class UnsupportedTypeError(CatalogError):
    """The CivitAI model type is not a model file ComfyUI loads from a known folder."""

    code = "unsupported_type"


class NoFilesError(CatalogError):
    """The CivitAI version lists no files (archived, or files removed)."""

    code = "no_files"


# --- CivitAI ---------------------------------------------------------------------------------


class CivitaiError(HostError):
    """The CivitAI API did not give a usable answer."""

    code = "civitai_error"


class CivitaiNotFoundError(CivitaiError):
    """404: unknown, deleted or unpublished version (can be transient for a new version)."""

    code = "civitai_not_found"


class CivitaiHttpError(CivitaiError):
    """Any other HTTP error status (after retries for 429 / 5xx)."""

    code = "civitai_http_error"


class CivitaiUnreachableError(CivitaiError):
    """Connection refused, DNS failure or timeout."""

    code = "civitai_unreachable"


class CivitaiBadResponseError(CivitaiError):
    """A 200 whose body is not the expected JSON."""

    code = "civitai_bad_response"


# --- downloads (SPEC §9) --------------------------------------------------------------------


class ModelsDirUnsetError(HostError):
    """download: no models folder is configured, so a file has nowhere to go."""

    code = "models_dir_unset"


class FileNotOnCivitaiError(CatalogError):
    """download: the `file_id` asked for is not one of the version's files."""

    code = "file_not_on_civitai"
