"""``dial --session`` / ``answer --session``: the terminal over an authenticated session.

Once the call is up, the session is established (the caller authenticates
as its identity; the answering side runs access control: caller ID,
handshake, dial-back), and the terminal is bridged to the session instead
of the raw call.  ``~s`` has nothing to do here (the modem's escape is off
while a session is up) and says so.
"""

from __future__ import annotations

from modemctl.cli.calls import Progress, settle
from modemctl.cli.config import SecureSetting, config_path
from modemctl.cli.context import Settings
from modemctl.cli.exitcodes import ExitCode, for_reason
from modemctl.cli.render import enum_name
from modemctl.cli.terminal import SessionEnd, raw_terminal, run_session, std_streams
from modemctl.errors import ConfigError, ModemctlError
from modemctl.line import Call, CallState, Line
from modemctl.session import SecureChannel, connect
from modemctl.session.access import AccessRefused, Account, answer_secured
from modemctl.session.identities import IdentityConfig, credentials_for, load_identities
from modemctl.session.secrets import open_store


def identity_configs(names: tuple[str, ...]) -> dict[str, IdentityConfig]:
    """The named identities from the config file; an unknown name is an error."""
    path = config_path()
    known = load_identities(path)
    missing = [n for n in names if n not in known]
    if missing:
        raise ConfigError(str(path), f"no [identity.{missing[0]}] section "
                                     "(add it with `modemctl identity add`)")
    return {n: known[n] for n in names}


async def _bridge(channel: SecureChannel, call: Call, settings: Settings,
                  progress: Progress) -> ExitCode:
    async def secure() -> None:
        progress("the session already protects this call; the modem's escape is off")

    progress(f"session up as {channel.peer_identity!r}; type ~? for help, ~. to hang up")
    stdin, stdout = std_streams()
    with raw_terminal(stdin):
        end = (await run_session(channel, stdin=stdin, stdout=stdout, secure=secure)).end
    if end is not SessionEnd.REMOTE:
        progress(f"{end.value}: closing the session")
    await channel.close()
    await settle()
    reason = call.disconnect_reason
    progress(f"call ended: {enum_name(reason) if reason is not None else 'NORMAL'}")
    return for_reason(reason)


async def dial_session(call: Call, identity: str, settings: Settings,
                       progress: Progress) -> ExitCode:
    """Authenticate the connected ``call`` as ``identity``, then the terminal."""
    if call.state is not CallState.CONNECTED:
        reason = call.disconnect_reason
        progress(f"call not connected: {enum_name(reason)}")
        return for_reason(reason) if reason is not None else ExitCode.ERROR
    cfg = identity_configs((identity,))[identity]
    creds = credentials_for(cfg, open_store())
    progress(f"authenticating as {identity} ({cfg.pattern})")
    channel = await connect(call, creds)
    return await _bridge(channel, call, settings, progress)


async def answer_session(call: Call, line: Line, identities: tuple[str, ...],
                         settings: Settings, progress: Progress,
                         secure: SecureSetting = False) -> ExitCode:
    """Access control on the offered ``call`` for ``identities``, then the terminal."""
    store = open_store()
    accounts = {name: Account(cfg, credentials_for(cfg, store))
                for name, cfg in identity_configs(identities).items()}
    progress(f"answering for {', '.join(identities)} (caller ID, handshake"
             + (", dial-back" if any(a.config.dialback for a in accounts.values()) else "")
             + ")")
    try:
        channel = await answer_secured(call, accounts, line=line, secure=secure)
    except AccessRefused as exc:
        progress(f"refused: {exc.reason}")
        return ExitCode.REJECTED
    except ModemctlError:
        await call.drop()
        raise
    session_call = channel.call if isinstance(channel.call, Call) else call
    return await _bridge(channel, session_call, settings, progress)
