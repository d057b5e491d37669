"""Everything about the CivitAI REST API: the HTTP client (the only module importing
requests), the response models (pydantic) and the rules turning a model version into a
catalog entry. Imported only by `add`, never on the read path.
"""
