"""catalog-host: a Chrome native-messaging host for a ComfyUI model catalog.

Importing this package must stay cheap: Chrome starts a new host process for every
`sendNativeMessage`, so nothing heavy is imported here.
"""

__version__ = "0.1.0"
HOST_NAME = "com.civitai_catalog.host"
PROTOCOL_VERSION = 1
