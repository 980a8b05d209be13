"""Caller ID as the modem shows it (+VCID): formatted fields and the MDMF message.

The exchange delivers caller ID between the first and second ring; the
modem prints it as ``NAME = value`` lines with ``+VCID=1`` or as the hex
of the Bellcore MDMF message with ``+VCID=2``.
"""

from __future__ import annotations

import time

PRIVATE = "P"
"""Number/name withheld by the caller."""
OUT_OF_AREA = "O"
"""Number/name not available."""

_MDMF_ABSENT = frozenset({PRIVATE, OUT_OF_AREA})


def mdmf(fields: list[tuple[str, str]]) -> bytes:
    """Encode caller-ID fields as a Bellcore MDMF message (what +VCID=2 shows in hex).

    Message type 0x80, length, parameters (0x01 date/time ``MMDDHHMM``, 0x02
    number or 0x04 reason it is absent, 0x07 name or 0x08 reason), and a
    checksum byte making the sum of all bytes 0 modulo 256.
    """
    values = dict(fields)
    params = bytearray()

    def param(kind: int, text: str) -> None:
        raw = text.encode("latin-1")[:255]
        params.extend((kind, len(raw)))
        params.extend(raw)

    if "DATE" in values and "TIME" in values:
        param(0x01, values["DATE"] + values["TIME"])
    number = values.get("NMBR", OUT_OF_AREA)
    param(0x04 if number in _MDMF_ABSENT else 0x02, number)
    if "NAME" in values:
        name = values["NAME"]
        param(0x08 if name in _MDMF_ABSENT else 0x07, name)
    body = bytes([0x80, len(params)]) + bytes(params)
    return body + bytes([-sum(body) & 0xFF])


def cid_fields(number: str | None, name: str | None, when: float | None = None
               ) -> list[tuple[str, str]]:
    """The caller-ID fields for a call from ``number`` (None: private) at ``when``."""
    now = time.localtime(when)
    fields = [("DATE", time.strftime("%m%d", now)), ("TIME", time.strftime("%H%M", now)),
              ("NMBR", number or PRIVATE)]
    if name:
        fields.append(("NAME", name))
    return fields
