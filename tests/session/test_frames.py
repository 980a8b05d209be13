"""Frames on a noisy line: what survives, what is rejected, and resync after noise."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from modemctl.session.frames import STUFFED, BadFrame, Frame, FrameDecoder, FrameType, encode


@given(st.lists(st.binary(max_size=300), max_size=5), st.integers(1, 64))
def test_frames_round_trip_whatever_the_chunking(payloads: list[bytes], chunk: int) -> None:
    wire = b"".join(encode(FrameType.RECORD, p) for p in payloads)
    dec = FrameDecoder()
    got = []
    for i in range(0, len(wire), chunk):
        got += dec.feed(wire[i:i + chunk])
    assert got == [Frame(FrameType.RECORD, p) for p in payloads]


def test_no_stuffed_byte_appears_inside_a_frame() -> None:
    every_byte = bytes(range(256)) * 2 + b"+++" * 10
    wire = encode(FrameType.RECORD, every_byte)
    inner = wire[1:-1]
    assert not set(inner) & (STUFFED - {0x7D})
    assert b"+" not in wire


def test_a_flipped_bit_costs_one_frame_and_the_next_still_arrives() -> None:
    a, b = encode(FrameType.RECORD, b"first" * 20), encode(FrameType.RECORD, b"second")
    bad = bytearray(a)
    bad[30] ^= 0x04
    got = FrameDecoder().feed(bytes(bad) + b)
    assert got == [BadFrame("crc", got[0].size), Frame(FrameType.RECORD, b"second")]


def test_dropped_bytes_and_noise_between_frames_resync_at_the_next_flag() -> None:
    rng = random.Random(7)
    a, b = encode(FrameType.HANDSHAKE, b"hello" * 10), encode(FrameType.RECORD, b"after")
    cut = a[:10] + a[14:]                      # four bytes lost mid-frame
    noise = bytes(rng.randrange(256) for _ in range(40)).replace(b"\x7e", b"")
    got = FrameDecoder().feed(cut + noise + b)
    assert got[-1] == Frame(FrameType.RECORD, b"after")
    assert all(isinstance(g, BadFrame) for g in got[:-1])


def test_an_endless_run_without_a_flag_is_bounded() -> None:
    dec = FrameDecoder(max_frame=100)
    assert dec.feed(b"\x01" * 10_000) == []
    assert dec._buf.__len__() <= 101
    got = dec.feed(b"\x7e" + encode(FrameType.RECORD, b"ok"))
    assert got == [BadFrame("too-long", 101), Frame(FrameType.RECORD, b"ok")]
