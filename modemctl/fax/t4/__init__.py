"""T.4 page coding (MH and MR), our own implementation; see ``encode`` and ``decode``."""

from modemctl.fax.t4.decode import DecodedPage, decode_page
from modemctl.fax.t4.encode import Coding, encode_page, min_line_bits

__all__ = ["Coding", "DecodedPage", "decode_page", "encode_page", "min_line_bits"]
