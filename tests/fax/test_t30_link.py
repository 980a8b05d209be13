"""A sender machine wired to a receiver machine in memory, whole calls."""

from __future__ import annotations

from modemctl.fax.t30 import (
    FCF,
    T30,
    Capabilities,
    Cause,
    Frame,
    Modulation,
    PageQuality,
    T30Config,
)
from tests.fax.link import GOOD_PAGE, Link

BAD_PAGE = PageQuality(bad_lines=300, longest_bad_run=60)


def pair(pages: int = 2, **sender_config: object) -> tuple[T30, T30]:
    sender = T30.sender(T30Config(local_id="+1 555 0100", **sender_config), pages)  # type: ignore[arg-type]
    receiver = T30.receiver(T30Config(local_id="+1 555 0199"))
    return sender, receiver


def test_two_page_fax() -> None:
    s, r = pair()
    link = Link(s, r)
    link.run()
    assert link.wire == [
        "R>CSI", "R>DIS", "S>TSI", "S>DCS", "S>TCF@14400", "R>CFR",
        "S>page0", "S>MPS", "R>MCF", "S>page1", "S>EOP", "R>MCF", "S>DCN"]
    assert s.outcome is not None and r.outcome is not None
    assert s.outcome.ok and r.outcome.ok
    assert s.outcome.remote_id == "+1 555 0199" and r.outcome.remote_id == "+1 555 0100"
    assert len(r.outcome.pages) == 2 and all(p.quality == GOOD_PAGE for p in r.outcome.pages)
    assert s.outcome.params == r.outcome.params
    assert link.now == 0.0                              # no timer had to fire


def test_two_page_fax_with_a_forced_rtn() -> None:
    s, r = pair()
    link = Link(s, r, page_quality=lambda i, attempt: BAD_PAGE if (i, attempt) == (1, 1)
                else GOOD_PAGE)
    link.run()
    assert link.wire[9:] == [
        "S>page1", "S>EOP", "R>RTN", "S>TSI", "S>DCS", "S>TCF@14400", "R>CFR",
        "S>page1", "S>EOP", "R>MCF", "S>DCN"]
    assert s.outcome is not None and r.outcome is not None
    assert s.outcome.ok and r.outcome.ok
    assert [(p.index, p.attempts) for p in s.outcome.pages] == [(0, 1), (1, 2)]
    assert [(p.index, p.attempts) for p in r.outcome.pages] == [(0, 1), (1, 2)]


def test_receiver_that_always_rejects_makes_the_sender_give_up() -> None:
    s, r = pair(pages=1, max_page_attempts=2)
    link = Link(s, r, page_quality=lambda i, attempt: BAD_PAGE)
    link.run()
    assert link.wire.count("S>page0") == 2
    assert s.outcome is not None and r.outcome is not None
    assert s.outcome.hangup.cause is Cause.PAGE_REJECTED
    assert r.outcome.hangup.cause is Cause.REMOTE_DISCONNECT
    assert not r.outcome.pages[0].accepted


def test_fallback_when_the_receiver_only_does_v29() -> None:
    s = T30.sender(T30Config(), 1)
    r = T30.receiver(T30Config(capabilities=Capabilities(modulations=frozenset(
        {Modulation.V27_2400, Modulation.V27_4800, Modulation.V29_7200,
         Modulation.V29_9600}))))
    link = Link(s, r)
    link.run()
    assert "S>TCF@9600" in link.wire and s.outcome is not None and s.outcome.ok
    assert s.outcome.params is not None
    assert s.outcome.params.modulation is Modulation.V29_9600


def test_lost_mcf_is_recovered_by_repeating_mps() -> None:
    lost: list[FCF] = []

    def lose_first_mcf(side: str, frame: Frame) -> bool:
        if side == "R" and frame.fcf is FCF.MCF and not lost:
            lost.append(frame.fcf)
            return True
        return False

    s, r = pair()
    link = Link(s, r, lose=lose_first_mcf)
    link.run()
    assert link.wire.count("S>MPS") == 2 and link.wire.count("S>page1") == 1
    assert 3.0 <= link.now < 6.0                        # one T4 went by
    assert s.outcome is not None and s.outcome.ok
    assert r.outcome is not None and r.outcome.ok


def test_lost_cfr_is_recovered_by_repeating_dcs() -> None:
    def lose_cfr_once(side: str, frame: Frame, seen: list[int] = []) -> bool:  # noqa: B006
        if frame.fcf is FCF.CFR and not seen:
            seen.append(1)
            return True
        return False

    s, r = pair(pages=1)
    link = Link(s, r, lose=lose_cfr_once)
    link.run()
    assert link.wire.count("S>DCS") == 2
    assert s.outcome is not None and s.outcome.ok
    assert r.outcome is not None and r.outcome.ok


def test_a_receiver_that_hears_nothing_makes_the_sender_hang_up() -> None:
    s, r = pair(pages=1)
    link = Link(s, r, lose=lambda side, frame: side == "S")
    link.run()
    assert link.wire.count("S>DCS") == 3
    assert s.outcome is not None and s.outcome.hangup.cause is Cause.DCS_NO_RESPONSE
    assert r.outcome is not None and r.outcome.hangup.cause is Cause.T1_TIMEOUT
    assert link.now == 35.0
