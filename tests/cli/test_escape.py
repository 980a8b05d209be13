"""The cu-style tilde escape parser, byte by byte."""

from __future__ import annotations

import pytest

from modemctl.cli.escape import Command, EscapeParser, Send


def feed_all(chunks: list[bytes]) -> list[object]:
    parser = EscapeParser()
    out: list[object] = []
    for chunk in chunks:
        out += parser.feed(chunk)
    out += parser.finish()
    return out


def sent(actions: list[object]) -> bytes:
    return b"".join(a.data for a in actions if isinstance(a, Send))


def test_plain_text_passes_through_unchanged() -> None:
    assert feed_all([b"hello\r", b"world"]) == [Send(b"hello\r"), Send(b"world")]


@pytest.mark.parametrize(("keys", "command"), [
    (b"~.", Command.HANGUP), (b"~s", Command.SECURE), (b"~?", Command.HELP)])
def test_escape_at_session_start(keys: bytes, command: Command) -> None:
    assert feed_all([keys]) == [command]


def test_escape_after_carriage_return_is_recognised() -> None:
    assert feed_all([b"abc\r~."]) == [Send(b"abc\r"), Command.HANGUP]


def test_escape_after_line_feed_is_recognised() -> None:
    assert feed_all([b"abc\n~s"]) == [Send(b"abc\n"), Command.SECURE]


def test_tilde_mid_line_is_data() -> None:
    assert sent(feed_all([b"a~.b"])) == b"a~.b"
    assert Command.HANGUP not in feed_all([b"a~.b"])


def test_double_tilde_sends_one_tilde_and_not_a_command() -> None:
    actions = feed_all([b"~~."])
    assert actions == [Send(b"~.")]


def test_unknown_escape_sends_both_characters() -> None:
    assert feed_all([b"~x"]) == [Send(b"~x")]


def test_escape_split_across_reads() -> None:
    parser = EscapeParser()
    assert parser.feed(b"~") == []
    assert parser.pending
    assert parser.feed(b".") == [Command.HANGUP]


def test_bytes_after_hangup_are_kept_unparsed() -> None:
    parser = EscapeParser()
    assert parser.feed(b"bye\r~.~sATI3\n") == [Send(b"bye\r"), Command.HANGUP]
    assert parser.unconsumed == b"~sATI3\n"
    assert parser.feed(b"x") == [Send(b"x")] and parser.unconsumed == b""


def test_line_start_again_after_a_command() -> None:
    assert feed_all([b"~?~s"]) == [Command.HELP, Command.SECURE]


def test_dangling_tilde_at_end_of_input_is_sent() -> None:
    assert sent(feed_all([b"x\r~"])) == b"x\r~"


def test_tilde_then_cr_is_sent_and_next_line_can_escape() -> None:
    assert feed_all([b"~\r~."]) == [Send(b"~\r"), Command.HANGUP]


@pytest.mark.parametrize("control", [b"\x03", b"\x04", b"\x15"])
def test_control_characters_reset_the_line_like_cu(control: bytes) -> None:
    assert feed_all([b"abc" + control + b"~."])[-1] == Command.HANGUP


def test_arbitrary_bytes_without_escapes_are_preserved() -> None:
    data = bytes(b for b in range(256) if b != ord("~"))
    assert sent(feed_all([data[:100], data[100:]])) == data


def test_no_escape_character_passes_every_byte() -> None:
    parser = EscapeParser(None)
    data = b"\n~.\n~~x~s~?"
    assert parser.feed(data) == [Send(data)] and parser.finish() == []


def test_another_escape_character() -> None:
    parser = EscapeParser(ord("%"))
    assert parser.feed(b"a~.\r%%\r%.rest") == [Send(b"a~.\r%\r"), Command.HANGUP]
    assert parser.unconsumed == b"rest"
