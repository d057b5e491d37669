"""File-name safety (host.catalog.paths.name_problem) and id canonicalisation
(host.catalog.ids.canonical_id): SPEC §3 IDs and §5 add step 4 `file`."""

from __future__ import annotations

import pytest

from host.catalog.ids import MAX_ID_DIGITS, canonical_id
from host.catalog.paths import MAX_NAME_BYTES, name_problem

# --- file names -------------------------------------------------------------------------------

UNSAFE_NAMES = [
    "../x.safetensors",
    "..\\x.safetensors",
    "/etc/x",
    "/x.safetensors",
    "C:\\x",
    "C:x.safetensors",
    "c:",
    "\\\\server\\share\\x",
    "a/b",
    "a\\b",
    "models/",
    "..",
    ".",
    "",
    "x\x00.safetensors",
    "\x00",
    "x\x07.safetensors",
    "x\n.safetensors",
    "x\r.safetensors",
    "x\t.safetensors",
    "x\x1b[31m.safetensors",
    "x\x7f.safetensors",
    "x.safetensors.",
    "x.safetensors ",
    "x...",
    "a" * 300,
    "CON.safetensors",
    "con.safetensors",
    "CON",
    "nul",
    "NUL.txt",
    "PRN.pt",
    "AUX",
    "COM1.safetensors",
    "lpt9",
    "COM¹",
    "x*.safetensors",
    "x?.safetensors",
    'x".safetensors',
    "x<y>.safetensors",
    "x|y.safetensors",
]


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_unsafe_names_are_refused(name: str) -> None:
    problem = name_problem(name)
    assert isinstance(problem, str) and problem


@pytest.mark.parametrize("name", ["x\x85.safetensors", "x\x9b31m.safetensors", "x\x80"])
def test_c1_control_characters_are_refused(name: str) -> None:
    # SPEC: "no ... control characters"; U+0080..U+009F are control characters (Unicode Cc)
    # just like U+0000..U+001F, and U+009B is the 8-bit CSI of terminal escape sequences.
    assert name_problem(name)


@pytest.mark.parametrize("value", [None, 12, b"x.safetensors", ["x.safetensors"]])
def test_non_strings_are_refused(value: object) -> None:
    assert name_problem(value)


def test_lone_surrogate_is_refused() -> None:
    assert name_problem("x\udc80.safetensors")


SAFE_NAMES = [
    "watercolor_dreams_xl_v1.safetensors",
    "4x_CrispUpscale.pth",
    "hidreamI1GGUF_fullQ8.gguf",
    "Sakura_Miku_Stïl_桜.safetensors",
    "桜色ミク 🌸 スタイル.safetensors",
    "Détail Ωmega v2.safetensors",
    "model with spaces.safetensors",
    "model..v2.safetensors",  # ".." inside one component is not a parent-folder reference
    ".hidden.safetensors",
    "...x",
    "x",
    "conference.safetensors",  # starts with "con" but is not the device name
    "console.pt",
    "nullify.safetensors",
    "COM10.safetensors",
    "LPT0.safetensors",
    "a" * MAX_NAME_BYTES,
]


@pytest.mark.parametrize("name", SAFE_NAMES)
def test_normal_names_are_accepted(name: str) -> None:
    assert name_problem(name) is None


def test_255_bytes_of_multibyte_utf8_is_the_limit() -> None:
    suffix = ".safetensors"  # 12 bytes
    name = "桜" * 80 + "é" + "a" + suffix  # 240 + 2 + 1 + 12 = 255 bytes
    assert len(name.encode("utf-8")) == 255
    assert len(name) < 255
    assert name_problem(name) is None
    longer = "桜" * 80 + "é" + "aa" + suffix
    assert len(longer.encode("utf-8")) == 256
    problem = name_problem(longer)
    assert problem and "256" in problem


def test_byte_length_not_character_length_counts() -> None:
    name = "桜" * 100  # 100 characters, 300 bytes
    assert len(name) < MAX_NAME_BYTES
    assert name_problem(name)


# --- ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (9208, "9208"),
        ("9208", "9208"),
        ("0009208", "9208"),  # a string of digits, compared by value
        (1, "1"),
        ("1", "1"),
        (10**MAX_ID_DIGITS - 1, "9" * MAX_ID_DIGITS),
        ("9" * MAX_ID_DIGITS, "9" * MAX_ID_DIGITS),
        ("0" * (MAX_ID_DIGITS - 1) + "7", "7"),
    ],
)
def test_valid_ids(value: object, expected: str) -> None:
    assert canonical_id(value) == expected


def test_int_and_string_of_the_same_id_are_equal() -> None:
    assert canonical_id(9208) == canonical_id("9208") == canonical_id("09208")


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        0,
        "0",
        "000",
        -1,
        "-1",
        "+12",
        1.5,
        9208.0,
        "9208.0",
        "1e3",
        "12a",
        "a12",
        " 12",
        "12 ",
        "12\n",
        "",
        "１２",  # full-width digits: str.isdigit() is True for them
        "١٢",  # Arabic-Indic digits
        "²",  # superscript two: isdigit() True, int() refuses it
        "1_000",
        "0x10",
        "1" * (MAX_ID_DIGITS + 1),  # 19 digits
        "1" * 400,
        10**MAX_ID_DIGITS,  # 19 digits as an int
        None,
        [],
        [9208],
        ["9208"],
        {"id": 9208},
        b"9208",
    ],
)
def test_invalid_ids(value: object) -> None:
    assert canonical_id(value) is None


def test_huge_int_is_invalid_not_an_exception() -> None:
    # Python refuses str() of ints over 4300 digits (ValueError); an id check must just say no.
    assert canonical_id(10**5000) is None
    assert canonical_id(-(10**5000)) is None
