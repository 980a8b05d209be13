"""``Dce.on_state_change``: the fake's public seam for acting at an exact point of a call.

Tests and benches use it to cancel a dial "the moment the modem goes online,
its CONNECT still on the way".  What they rely on is checked here on a manual
clock: every step of a call is reported once, in order, with the DCE's flags
already set and nothing of that step told to the DTE or the network yet;
unsubscribing works, also from inside a callback; and an observer that raises
changes nothing the modem does.
"""

from __future__ import annotations

import structlog

from modemctl.fake import DceEvent, DceState, StateChange
from tests.fake.helpers import Harness

S, E = DceState, DceEvent
DIAL_TIME = 5.0     # more than dialling 7 tone digits plus the blind-dial wait
GUARD = 1.1         # just over the factory S12 guard time (50 x 20 ms)


def watched(personality: str = "conexant-v92") -> tuple[Harness, list[tuple[S, E, S]]]:
    h = Harness(personality)
    seen: list[tuple[S, E, S]] = []
    h.dce.on_state_change(lambda c: seen.append((c.old, c.event, c.new)))
    return h, seen


def test_a_dialled_call_is_reported_step_by_step_in_order() -> None:
    h, seen = watched()
    h.send(b"ATE0DT5551002\r")
    h.advance(DIAL_TIME)
    h.dce.connected(33600)
    h.advance(GUARD)
    h.send(b"+++")
    h.advance(GUARD)                                     # the escape's trailing guard
    h.send(b"ATO\r")
    h.advance(GUARD)
    h.send(b"+++")
    h.advance(GUARD)
    h.send(b"ATH\r")
    assert seen == [(S.COMMAND, E.DIAL, S.DIALING),
                    (S.DIALING, E.CONNECT, S.ONLINE_DATA),
                    (S.ONLINE_DATA, E.ESCAPE, S.ONLINE_COMMAND),
                    (S.ONLINE_COMMAND, E.RETURN_ONLINE, S.ONLINE_DATA),
                    (S.ONLINE_DATA, E.ESCAPE, S.ONLINE_COMMAND),
                    (S.ONLINE_COMMAND, E.HANG_UP, S.COMMAND)]


def test_an_answered_call_ended_by_the_far_end_is_reported_and_an_idle_reset_is_not() -> None:
    h, seen = watched()
    h.send(b"ATE0S0=1\r")
    h.dce.ring(True)                                     # auto-answer at the first ring
    h.dce.connected(33600)
    h.dce.remote_hangup()
    h.send(b"ATZ\r")                                     # on-hook already: nothing to report
    assert seen == [(S.COMMAND, E.ANSWER, S.ANSWERING),
                    (S.ANSWERING, E.CONNECT, S.ONLINE_DATA),
                    (S.ONLINE_DATA, E.HANG_UP, S.COMMAND)]


def test_hanging_up_an_off_hook_modem_in_command_state_is_reported() -> None:
    """After ``D...;`` the modem is off-hook in command state: ATH there is a real
    on-hook, reported although the state stays ``command``."""
    h, seen = watched()
    h.send(b"ATE0DT555;\r")
    h.advance(DIAL_TIME)
    assert h.dce.off_hook
    h.send(b"ATH\r")
    assert seen == [(S.COMMAND, E.DIAL, S.DIALING),
                    (S.DIALING, E.DIALLED, S.COMMAND),
                    (S.COMMAND, E.HANG_UP, S.COMMAND)]
    assert not h.dce.off_hook


def test_observers_run_after_the_flags_are_set_and_before_anything_is_told() -> None:
    """The moment the ctrl-C tests and the cancel bench depend on: at CONNECT the
    call is up but neither the CONNECT bytes nor DCD have reached the DTE; at the
    dial the modem is off-hook and nothing is dialled yet; at the hang-up it is
    on-hook and the network has not been told."""
    h = Harness()
    moments: dict[E, tuple[object, ...]] = {}

    def look(change: StateChange) -> None:
        dce = h.dce
        moments[change.event] = (dce.state, dce.off_hook, dce.call_up, dce.carrier,
                                 bytes(h.out.buf), h.out.line_changes, len(h.telco.placed),
                                 h.telco.hangups)

    h.send(b"ATE0\r")
    h.dce.on_state_change(look)
    h.send(b"ATDT5551002\r")
    h.advance(DIAL_TIME)
    h.out.take()
    changes = h.out.line_changes
    h.dce.connected(33600)
    assert h.out.take() == b"\r\nCONNECT 33600\r\n"     # ...which the observer did not see
    h.send(b"ATH\r")                                     # data to the far end, no hang-up
    h.advance(GUARD)
    h.dce.set_dtr(False)                                 # &D2: on-hook, NO CARRIER
    assert moments[E.DIAL] == (S.DIALING, True, False, False, b"", 0, 0, 0)
    assert moments[E.CONNECT] == (S.ONLINE_DATA, True, True, True, b"", changes, 1, 0)
    hang_up = moments[E.HANG_UP]
    assert hang_up[:5] == (S.COMMAND, False, False, False, b"")
    assert hang_up[7] == 0 and h.telco.hangups == 1


def test_unsubscribe_stops_the_calls_and_may_be_called_twice() -> None:
    h = Harness()
    seen: list[E] = []
    unsubscribe = h.dce.on_state_change(lambda c: seen.append(c.event))
    h.send(b"ATE0DT5551002\r")
    unsubscribe()
    unsubscribe()
    h.send(b"x")                                         # aborts the dial (after 125 ms)
    h.advance(0.2)
    h.send(b"x")
    assert h.dce.state is S.COMMAND and not h.dce.off_hook
    assert seen == [E.DIAL]


def test_an_observer_may_unsubscribe_itself_or_a_later_one_while_being_called() -> None:
    h = Harness()
    calls: list[str] = []
    once = later = None

    def first(change: StateChange) -> None:
        calls.append(f"once:{change.event.value}")
        assert once is not None and later is not None
        once()                                          # fire once, like the ctrl-C tests
        later()                                         # not called for this step either

    once = h.dce.on_state_change(first)
    later = h.dce.on_state_change(lambda c: calls.append(f"later:{c.event.value}"))
    h.dce.on_state_change(lambda c: calls.append(f"last:{c.event.value}"))
    h.send(b"ATE0DT5551002\r")
    h.advance(DIAL_TIME)
    h.dce.connected(33600)
    assert calls == ["once:dial", "last:dial", "last:connect"]


def test_an_observer_that_raises_is_logged_and_changes_nothing_the_modem_does() -> None:
    """Decided: the step goes on (the CONNECT is written, the state is online),
    later observers are still called, the failure is an error in the log (so a
    test that checks for loud logs sees it) and the observer stays subscribed."""
    h = Harness()
    broken_calls: list[E] = []
    seen: list[E] = []

    def broken(change: StateChange) -> None:
        broken_calls.append(change.event)
        raise RuntimeError("observer bug")

    h.dce.on_state_change(broken)
    h.dce.on_state_change(lambda c: seen.append(c.event))
    with structlog.testing.capture_logs() as logs:
        assert h.send(b"ATE0DT5551002\r") == b"ATE0DT5551002\r"
        h.advance(DIAL_TIME)
        h.dce.connected(33600)
        assert h.out.take() == b"\r\nCONNECT 33600\r\n"
    assert h.dce.state is S.ONLINE_DATA and h.dce.dcd
    assert seen == broken_calls == [E.DIAL, E.CONNECT]
    errors = [e for e in logs if e["log_level"] == "error"]
    assert [(e["event"], e["old"], e["new"]) for e in errors] == [
        ("fake state observer raised", "command", "dialing"),
        ("fake state observer raised", "dialing", "online-data")]
