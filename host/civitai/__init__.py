"""Everything about the CivitAI REST API: the HTTP client (the only module importing
requests), the response models (pydantic) and the rules turning a model version into a
catalog entry, with the routing tables (also used by `promote`). Never imported on the read path.
"""
