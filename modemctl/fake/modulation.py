"""``+MS`` modulation selection: which carrier a modem may train with, and the rate cap.

Conexant syntax (100722B §3.2.4, 102184B p.3-57):
``+MS=[<carrier>[,<automode>[,<min_tx_rate>[,<max_tx_rate>[,<min_rx_rate>[,<max_rx_rate>]]]]]]``;
subparameters left out keep their value (MultiTech MT5600, Zoom ComStar: "Subparameters
that are not entered retain their current value"), a rate of 0 means "as the carrier
allows" (Toshiba/Agere V.92 manual: ``+MS=V92,1,0,0`` is the default).  The carriers a
personality has, each with the rates it can run at, are data in its TOML file.

What the fake models: a call connects at the lower of both ends' caps, and a modem's
cap is the highest rate of its carrier no higher than its ``max`` rates and the
personality's analog top rate (two analog modems never exceed V.34's 33600, so ``V90``
and ``V92`` cap at 33600 too).  ``automode`` and the minimum rates are kept and
reported but do not refuse a call (simplification).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

MS_FIELDS = 6
"""carrier, automode, min_tx, max_tx, min_rx, max_rx."""


class ModulationError(ValueError):
    """A ``+MS`` value this modem does not take (unknown carrier, bad rate)."""


@dataclass(frozen=True)
class Modulation:
    """The ``+MS`` setting of one modem."""

    carrier: str
    automode: int = 1
    min_tx: int = 0
    max_tx: int = 0
    min_rx: int = 0
    max_rx: int = 0

    def text(self) -> str:
        """The ``+MS?`` reply body: the six subparameters, comma-separated."""
        return (f"{self.carrier},{self.automode},{self.min_tx},{self.max_tx},"
                f"{self.min_rx},{self.max_rx}")


def set_modulation(value: str, current: Modulation,
                   carriers: dict[str, tuple[int, ...]]) -> Modulation:
    """Apply ``+MS=<value>`` to ``current``; raise :class:`ModulationError` if invalid."""
    parts = [p.strip() for p in value.split(",")]
    if len(parts) > MS_FIELDS:
        raise ModulationError(f"+MS takes at most {MS_FIELDS} subparameters")
    carrier = parts[0].upper() or current.carrier
    if carrier not in carriers:
        raise ModulationError(f"unknown carrier {carrier!r}")
    rates = carriers[carrier]
    numbers: list[int | None] = []
    for part in parts[1:]:
        if not part:
            numbers.append(None)
        elif part.isdigit():
            numbers.append(int(part))
        else:
            raise ModulationError(f"not a number: {part!r}")
    numbers += [None] * (MS_FIELDS - 1 - len(numbers))
    automode, *limits = numbers
    if automode is not None and automode not in (0, 1):
        raise ModulationError("automode is 0 or 1")
    for rate in limits:
        if rate is not None and rate != 0 and rate not in rates:
            raise ModulationError(f"{rate} is not a {carrier} rate")
    old = (current.min_tx, current.max_tx, current.min_rx, current.max_rx)
    new = [o if n is None else n for n, o in zip(limits, old, strict=True)]
    return replace(current, carrier=carrier,
                   automode=current.automode if automode is None else automode,
                   min_tx=new[0], max_tx=new[1], min_rx=new[2], max_rx=new[3])


def rate_cap(mod: Modulation, carriers: dict[str, tuple[int, ...]], top: int) -> int:
    """The highest rate ``mod`` lets this modem connect at (``top``: the analog top rate).

    A carrier that needs a digital far end (V.90, V.92: rates above ``top``) falls
    back, as automode does, to the fastest analog carrier's rates."""
    pool = carriers[mod.carrier]
    if max(pool) > top:
        pool = tuple(r for rates in carriers.values() if max(rates) <= top for r in rates)
    limit = min([top] + [r for r in (mod.max_tx, mod.max_rx) if r])
    usable = [r for r in pool if r <= limit]
    return max(usable) if usable else min(pool)


def supported_text(carriers: dict[str, tuple[int, ...]]) -> str:
    """The ``+MS=?`` reply body: carriers, automode values, then the rate ranges.

    Assumption: the manuals say ``+MS=?`` lists the supported values of each
    subparameter but print no example for these chipsets; this is V.250's
    range notation."""
    rates = sorted({r for rs in carriers.values() for r in rs})
    span = f"(0,{rates[0]}-{rates[-1]})"
    return f"({','.join(carriers)}),(0,1),{span},{span},{span},{span}"
