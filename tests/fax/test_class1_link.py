"""Whole fax calls between two Class 1 sessions over simulated T.31 modems."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from modemctl.fax.class1 import Class1Session
from modemctl.fax.t30 import T30, Cause, PageQuality, T30Config
from tests.fax.t31_pair import GOOD_PAGE, T31Pair

BAD_PAGE = PageQuality(bad_lines=400, longest_bad_run=100)


def sessions(pages: int = 2, **receiver_config: object) -> tuple[Class1Session, Class1Session]:
    caller = Class1Session(T30.sender(T30Config(local_id="+1 555 0100"), pages))
    answerer = Class1Session(T30.receiver(T30Config(local_id="+1 555 0199",
                                                    **receiver_config)))  # type: ignore[arg-type]
    return caller, answerer


def test_two_pages_across_t31() -> None:
    s, r = sessions()
    pair = T31Pair(s, r)
    pair.run()
    # CSI DIS | TSI DCS TCF | CFR | page MPS | MCF | page EOP | MCF | DCN
    assert pair.wire == [
        "R>40", "R>80", "S>43", "S>83", "S>hs145", "R>84", "S>hs146p(0, 1)", "S>4f",
        "R>8c", "S>hs146p(1, 1)", "S>2f", "R>8c", "S>fb"]
    assert s.t30.outcome is not None and s.t30.outcome.ok
    assert r.t30.outcome is not None and r.t30.outcome.ok
    assert pair.modems["S"].commands[:4] == ["AT+FRH=3", "AT+FTS=8", "AT+FTH=3", "AT+FTS=8"]
    assert pair.now == 0.0


def test_forced_rtn_is_answered_by_retraining_and_sending_the_page_again() -> None:
    s, r = sessions()
    pair = T31Pair(s, r, page_quality=lambda i, a: BAD_PAGE if (i, a) == (0, 1) else GOOD_PAGE)
    pair.run()
    assert pair.wire[6:12] == ["S>hs146p(0, 1)", "S>4f", "R>4c", "S>43", "S>83", "S>hs145"]
    assert "S>hs146p(0, 2)" in pair.wire
    assert s.t30.outcome is not None and s.t30.outcome.ok
    assert [p.attempts for p in s.t30.outcome.pages] == [2, 1]
    assert r.t30.outcome is not None and r.t30.outcome.ok


def test_a_frame_hit_by_a_call_waiting_tone_is_repeated() -> None:
    hits: list[bytes] = []

    def hit_first_mcf(side: str, frame: bytes) -> str | None:
        if side == "R" and frame[2] == 0x8C and not hits:
            hits.append(frame)
            return "bad-fcs"
        return None

    s, r = sessions()
    pair = T31Pair(s, r, damage=hit_first_mcf)
    pair.run()
    assert pair.wire.count("S>4f") == 2            # MPS repeated after the garbled MCF
    assert pair.wire.count("S>hs146p(1, 1)") == 1
    assert s.t30.outcome is not None and s.t30.outcome.ok
    assert r.t30.outcome is not None and r.t30.outcome.ok


def test_lost_cfr_the_sender_trains_again_after_t4() -> None:
    lost: list[bytes] = []

    def lose_cfr(side: str, frame: bytes) -> str | None:
        if frame[2] == 0x84 and not lost:
            lost.append(frame)
            return "lose"
        return None

    s, r = sessions(pages=1)
    pair = T31Pair(s, r, damage=lose_cfr)
    pair.run()
    assert pair.wire.count("S>83") == 2 and 3.0 <= pair.now < 6.0
    assert s.t30.outcome is not None and s.t30.outcome.ok
    assert r.t30.outcome is not None and r.t30.outcome.ok


def test_receiver_that_rejects_everything_ends_with_page_rejected() -> None:
    s, r = sessions(pages=1)
    pair = T31Pair(s, r, page_quality=lambda i, a: BAD_PAGE)
    pair.run()
    assert s.t30.outcome is not None
    assert s.t30.outcome.hangup.cause is Cause.PAGE_REJECTED
    assert pair.wire.count("S>hs146p(0, 3)") == 1
    assert r.t30.outcome is not None
    assert r.t30.outcome.hangup.cause is Cause.REMOTE_DISCONNECT


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([None, None, None, "lose", "bad-fcs"]), max_size=40),
       st.integers(1, 3))
def test_any_pattern_of_damaged_frames_ends_cleanly(damage: list[str | None],
                                                     pages: int) -> None:
    """Whatever frames a noisy line garbles or drops, both ends finish, and a
    sender that reports success never does so for pages the receiver lacks."""
    plan = iter(damage)

    def noisy(side: str, frame: bytes) -> str | None:
        return next(plan, None)

    s, r = sessions(pages=pages)
    pair = T31Pair(s, r, damage=noisy)
    pair.run()
    assert s.finished and r.finished
    assert s.t30.outcome is not None and r.t30.outcome is not None
    if s.t30.outcome.ok:
        assert [p.index for p in r.t30.outcome.pages if p.accepted] == list(range(pages))
    assert pair.now <= 200.0
