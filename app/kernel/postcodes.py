"""UK postcodes: one reading of them for the referral form (where the person lives) and the directory (the districts
each contact covers). Pure Python."""
from __future__ import annotations

import re

# A postcode district (outward code): M1, SK4, BS16, W1A, EC1A. A full postcode adds the inward code: 1AE.
DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")
POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][0-9A-Z]?)([0-9][A-Z]{2})$")
POSTCODE_OR_DISTRICT_MESSAGE = "Enter a postcode, such as M1 1AE, or a postcode district, such as M1."


def _compact(text: str) -> str:
    return "".join(text.split()).upper()


def uk_postcode(text: str) -> str:
    """A UK postcode as the Royal Mail writes it ("bs1  4dj" gives "BS1 4DJ"); ValueError when it is not one."""
    match = POSTCODE.match(_compact(text))
    if not match:
        raise ValueError("Enter a UK postcode, like BS1 4DJ.")
    return f"{match[1]} {match[2]}"


def outward_code(postcode: str) -> str:
    """The district of a postcode ("m1 1ae" and "M11AE" give "M1"; a district alone is itself); ValueError when it
    is neither."""
    compact = _compact(postcode)
    full = POSTCODE.match(compact)
    if full:
        return full.group(1)
    if DISTRICT.match(compact):
        return compact
    raise ValueError(POSTCODE_OR_DISTRICT_MESSAGE)
