"""``modemctl identity add|list|remove|show``: identities for authenticated sessions.

Settings go into the config file's ``[identity.NAME]`` section, secrets into
the system keyring (recommended backends only) or the 0600 file store; see
:mod:`modemctl.session.identities`.  Nothing here ever prints a secret:
``show`` prints our *public* key, the one to give the far end.
"""

from __future__ import annotations

import sys

import click

from modemctl.cli.config import config_path
from modemctl.errors import CredentialError
from modemctl.session.credentials import PATTERN_NAMES
from modemctl.session.identities import (
    PROMPT_POLICIES,
    IdentityConfig,
    add_to_config,
    check_name,
    load_identities,
    psk_from_passphrase,
    read_password_stdin,
    remove_from_config,
    tty_prompt,
)
from modemctl.session.noise import generate_private_key, public_key
from modemctl.session.secrets import open_store

STORES = ("auto", "keyring", "file")


def _hex_key(value: str, what: str) -> bytes:
    try:
        key = bytes.fromhex(value)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise click.BadParameter(f"{what} must be 64 hex digits (a 32-byte public key)")
    return key


@click.group("identity")
def command() -> None:
    """Manage identities for authenticated, encrypted sessions (dial/answer --session)."""


@command.command("add")
@click.argument("name")
@click.option("--pattern", type=click.Choice(PATTERN_NAMES), default="KKpsk0",
              show_default=True, help="Noise handshake: pre-shared key, static keys, or both.")
@click.option("--line", metavar="LINE", help="The [line.NAME] this identity is for.")
@click.option("--peer-public", metavar="HEX", help="The far end's public key (KK patterns).")
@click.option("--pin", "pins", multiple=True, metavar="HEX",
              help="A public key the far end may present (XX; repeatable).")
@click.option("--caller-id", "caller_ids", multiple=True, metavar="NUMBER",
              help="Answering: accept this identity only from NUMBER (repeatable).")
@click.option("--dialback", metavar="NUMBER", help="Answering: call NUMBER back once "
              "authenticated.")
@click.option("--prompt", type=click.Choice(PROMPT_POLICIES), default="when-missing",
              show_default=True, help="When to ask for the passphrase.")
@click.option("--store", type=click.Choice(STORES), default="auto", show_default=True,
              help="Where the secret goes (auto: the keyring if it is a safe one).")
@click.option("--password-stdin", is_flag=True,
              help="Read the passphrase from the first line of stdin (for scripts).")
def add(name: str, pattern: str, line: str | None, peer_public: str | None,
        pins: tuple[str, ...], caller_ids: tuple[str, ...], dialback: str | None, prompt: str,
        store: str, password_stdin: bool) -> None:
    """Add identity NAME: its settings to the config file, its secret to the store."""
    try:
        check_name(name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    if pattern.startswith("KK") and not peer_public:
        raise click.UsageError(f"{pattern} needs --peer-public (the far end's public key)")
    if pattern == "XX" and not pins:
        raise click.UsageError("XX needs at least one --pin (a key the far end may present)")
    cfg = IdentityConfig(
        name=name, pattern=pattern, line=line,
        peer_public=_hex_key(peer_public, "--peer-public") if peer_public else None,
        pinned=tuple(_hex_key(p, "--pin") for p in pins), caller_ids=caller_ids,
        dialback=dialback, prompt=prompt)  # type: ignore[arg-type]
    path = config_path()
    if name in load_identities(path):
        raise click.UsageError(f"identity {name!r} already exists; remove it first")
    secrets = open_store(store)
    if cfg.needs_psk:
        if password_stdin:
            passphrase = read_password_stdin(sys.stdin)
        else:
            passphrase = tty_prompt(f"Passphrase for identity {name}: ")
            if tty_prompt("Again: ") != passphrase:
                raise CredentialError("the passphrases differ")
        secrets.set(cfg.secret_name("psk"), psk_from_passphrase(passphrase, name))
    if cfg.needs_static:
        secrets.set(cfg.secret_name("static"), generate_private_key())
    add_to_config(path, cfg)
    click.echo(f"identity {name} added ({pattern}); secret in the {secrets.description}")
    if cfg.needs_static:
        static = secrets.get(cfg.secret_name("static"))
        assert static is not None
        click.echo(f"our public key (give it to the far end): {public_key(static).hex()}")


@command.command("list")
@click.option("--store", type=click.Choice(STORES), default="auto", show_default=True)
def list_(store: str) -> None:
    """List identities, their pattern, line and whether their secrets are stored."""
    identities = load_identities(config_path())
    if not identities:
        click.echo("no identities (add one with `modemctl identity add NAME`)")
        return
    secrets = open_store(store)
    for cfg in identities.values():
        kinds = (["psk"] if cfg.needs_psk else []) + (["static"] if cfg.needs_static else [])
        stored = all(secrets.get(cfg.secret_name(k)) is not None for k in kinds)  # type: ignore[arg-type]
        click.echo(f"{cfg.name}\t{cfg.pattern}\tline={cfg.line or '*'}\t"
                   f"secret={'stored' if stored else 'missing'}")


def _identity(name: str) -> IdentityConfig:
    """Identity ``name`` from the config file; a usage error when there is none."""
    cfg = load_identities(config_path()).get(name)
    if cfg is None:
        raise click.UsageError(f"no identity {name!r}")
    return cfg


@command.command("show")
@click.argument("name")
@click.option("--store", type=click.Choice(STORES), default="auto", show_default=True)
def show(name: str, store: str) -> None:
    """Show identity NAME's settings and our public key (never the secret)."""
    cfg = _identity(name)
    click.echo(f"identity:    {cfg.name}\npattern:     {cfg.pattern}\nline:        "
               f"{cfg.line or '*'}\nprompt:      {cfg.prompt}")
    if cfg.peer_public:
        click.echo(f"peer public: {cfg.peer_public.hex()}")
    for pin in cfg.pinned:
        click.echo(f"pinned:      {pin.hex()}")
    if cfg.caller_ids:
        click.echo(f"caller IDs:  {', '.join(cfg.caller_ids)}")
    if cfg.dialback:
        click.echo(f"dial-back:   {cfg.dialback}")
    secrets = open_store(store)
    if cfg.needs_static:
        static = secrets.get(cfg.secret_name("static"))
        click.echo("our public:  " + (public_key(static).hex() if static else "(missing)"))
    if cfg.needs_psk:
        present = secrets.get(cfg.secret_name("psk")) is not None
        click.echo(f"psk:         {'stored' if present else 'missing'} "
                   f"({secrets.description})")


@command.command("remove")
@click.argument("name")
@click.option("--store", type=click.Choice(STORES), default="auto", show_default=True)
def remove(name: str, store: str) -> None:
    """Remove identity NAME: its config section and its secrets."""
    cfg = _identity(name)
    secrets = open_store(store)
    for kind in ("psk", "static"):
        secrets.delete(cfg.secret_name(kind))
    remove_from_config(config_path(), name)
    click.echo(f"identity {name} removed")
