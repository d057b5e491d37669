"""host.catalog.views: a record's text is bounded by the bytes JSON takes, whatever it holds."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host.catalog.views import MAX_TEXT_JSON_BYTES, reply_safe


# no deadline: a busy machine (2 shared cores in CI) must not fail a correct run
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=3000) | st.text(alphabet="\x00\x01\x1f\"\\\n😀é日a\ud800", max_size=3000))
def test_text_is_cut_to_its_json_byte_budget_and_only_cut(text):
    cut = reply_safe(text)
    valid = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become "?"
    assert valid.startswith(cut)
    size = len(json.dumps(cut, ensure_ascii=False).encode("utf-8")) - 2
    assert size <= MAX_TEXT_JSON_BYTES
    if cut != valid:  # nothing is cut that would have fit
        assert size + len(json.dumps(valid[len(cut)], ensure_ascii=False).encode("utf-8")) - 2 > MAX_TEXT_JSON_BYTES
