"""The one mechanism that declares and checks config sections: keys, types, defaults, bounds.

Every section of a config is declared once, as a :class:`Section` of :class:`Key` objects
(name, checker, default, description), next to the code that owns it: ``[run]``, ``[data]``,
``[report]`` and ``[execution]`` in :mod:`uncertain_cost.config.sections`, ``[selection]`` in
:mod:`uncertain_cost.data.selection`, ``[growth]``/``[forecast]`` in
:mod:`uncertain_cost.growth.settings`, ``[sensitivity]`` in
:mod:`uncertain_cost.sensitivity.settings`. Sections whose keys are not a fixed set
(``[inputs]``: distribution families; ``[development]``: a table per model;
``[correlations]``: pairs of inputs) register a parse function with :func:`register_stage`
and raise the same :class:`~uncertain_cost.errors.ConfigError`.

The config layer sits below the domain packages: it imports none of them. Each package
registers its section with :func:`register_stage` when imported; the package's top level
(``uncertain_cost.SECTION_OWNERS``, the application wiring, a tuple of module names) names
those modules once, and :func:`stage_parsers` imports them by name the first time a config is
parsed (so ``import uncertain_cost`` and ``--help`` stay light).

Why a small in-house mechanism and not pydantic v2 (installed, but not a dependency of the
package): the error text is an interface (``<file>: <dotted.key>: <what was expected>, got
<what>``; tests and users match it), and pydantic's messages and its lax coercions
(``"10"`` -> 10, ``1`` -> True) would each need a translation; two sections are not
records at all (a table per model in ``[development]``, distribution families in
``[inputs]``); scenario errors prefix every key with ``scenarios.NAME``. A checker here is a
plain function ``value -> value`` that raises :class:`Invalid`; a section is a tuple of keys;
the whole mechanism is this module.
"""

from __future__ import annotations

import importlib
import json
import math
import re
import reprlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from uncertain_cost.errors import ConfigError, bounded

__all__ = ["Invalid", "Key", "Section", "StageParser", "show", "clip", "shown_key", "integer", "number",
           "positive", "boolean", "choice", "text", "month", "day", "string_list",
           "register_stage", "declare_owners", "stage_parsers", "MAX_DEPTH", "check_depth"]

#: deepest nesting of tables and arrays a config may have (the deepest real one has 6)
MAX_DEPTH = 64
#: longest ``repr`` of a value or key shown in an error line
SHOWN_CHARACTERS = 60


class Invalid(Exception):
    """A value breaks its key's rule.

    Parameters
    ----------
    problem : str
        What was expected and what was given (``"expected an integer, got 'many'"``).
    key : str, optional
        Key inside the section when a rule spans several keys (the key to blame).
    """

    def __init__(self, problem: str, key: str | None = None):
        super().__init__(problem)
        self.problem = problem
        self.key = key


_REPR = reprlib.Repr()
_REPR.maxstring = SHOWN_CHARACTERS
_REPR.maxother = SHOWN_CHARACTERS
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6
_REPR.maxlevel = 3


def show(value: Any, limit: int = SHOWN_CHARACTERS) -> str:
    """Return ``repr(value)`` bounded for an error line, stating the length of what was cut.

    Parameters
    ----------
    value : object
    limit : int
        Characters of the value shown.

    Returns
    -------
    str
        ``'aaaa…' (10,000,000 characters)`` for a long string, ``[1, 2, ...] (5,000
        items)`` for a long list, the plain ``repr`` otherwise.
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{repr(value[:limit])[:-1]}…{repr(value)[0]} ({len(value):,} characters)"
    if isinstance(value, list | tuple | dict):
        text = _REPR.repr(value)
        if len(value) > 6 or len(text) > 4 * limit:
            return f"{text[:4 * limit]} ({len(value):,} items)"
        return text
    text = repr(value)
    return text if len(text) <= 4 * limit else f"{text[:4 * limit]}… ({len(text):,} characters)"


def clip(message: str, limit: int = 4 * SHOWN_CHARACTERS) -> str:
    """Bound a text for an error line (no quotes added), stating its length when cut."""
    return bounded(message, limit)


def shown_key(key: Any) -> str:
    """Write a key as in a dotted path, bounded like :func:`show` (quoted when not a bare TOML key)."""
    key = str(key)
    if len(key) > SHOWN_CHARACTERS:
        return f'"{key[:SHOWN_CHARACTERS]}…" ({len(key):,} characters)'
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def check_depth(document: Any, limit: int = MAX_DEPTH) -> int | None:
    """Return the first nesting level above ``limit`` (tables and arrays), or None.

    Iterative, so a document nested thousands of levels deep is measured without recursion.
    """
    stack = [(document, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return depth
        if isinstance(node, Mapping):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list | tuple):
            stack.extend((v, depth + 1) for v in node)
    return None


# -- checkers: value -> value (converted), or raise Invalid ------------------------------------

Checker = Callable[[Any], Any]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def integer(minimum: int | None = None, maximum: int | None = None, *, power_of_two: bool = False) -> Checker:
    """Check for an integer (not a bool) within ``[minimum, maximum]``, optionally a power of two."""
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"expected an integer, got {show(value)}")
        if minimum is not None and value < minimum:
            raise Invalid(f"must be >= {minimum}, got {show(value)}")
        if maximum is not None and value > maximum:
            raise Invalid(f"must be <= {maximum}, got {show(value)}")
        if power_of_two and value & (value - 1):
            raise Invalid(f"must be a power of two, got {value}")
        return value

    return check


def number(low: float = -math.inf, high: float = math.inf, *, low_open: bool = False,
           high_open: bool = False) -> Checker:
    """Check for a finite number (int or float, not a bool) in an interval; return it as float."""
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"

    def check(value: Any) -> float:
        if not _is_number(value) or not math.isfinite(value):
            raise Invalid(f"expected a finite number in {interval}, got {show(value)}")
        if value < low or value > high or (low_open and value == low) or (high_open and value == high):
            raise Invalid(f"expected a number in {interval}, got {show(value)}")
        return float(value)

    return check


def positive(value: Any) -> float:
    """Check for a finite number > 0; return it as float."""
    if not _is_number(value) or not 0 < value < math.inf:
        raise Invalid(f"expected a finite positive number, got {show(value)}")
    return float(value)


def boolean(value: Any) -> bool:
    """Check for ``true`` or ``false``."""
    if not isinstance(value, bool):
        raise Invalid(f"expected true or false, got {show(value)}")
    return value


def choice(*options: Any) -> Checker:
    """One of ``options`` (compared with ``==``; a bool never matches a string)."""
    def check(value: Any) -> Any:
        if not isinstance(value, str | bool) or value not in options:
            raise Invalid(f"expected one of {', '.join(repr(o) for o in options)}, got {show(value)}")
        return value

    return check


def text(value: Any) -> str:
    """Check for a non-empty string."""
    if not isinstance(value, str) or not value:
        raise Invalid(f"expected a non-empty string, got {show(value)}")
    return value


_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def month(value: Any) -> str:
    """Check for a month ``"YYYY-MM"``."""
    if not isinstance(value, str) or not _MONTH.match(value):
        raise Invalid(f"expected a month as \"YYYY-MM\", got {show(value)}")
    return value


def day(value: Any) -> date:
    """Check for a date (a TOML date or a ``"YYYY-MM-DD"`` string); return a date."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) <= 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise Invalid(f"expected a date YYYY-MM-DD, got {show(value)}")


def string_list(*, what: str = "strings", nonempty: bool = False, among: Iterable[str] | None = None) -> Checker:
    """Check for a list of strings (returned as a tuple), optionally non-empty and from a fixed set."""
    allowed = tuple(among) if among is not None else None

    def check(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise Invalid(f"expected a list of {what}, got {show(value)}")
        if (nonempty and not value) or (allowed is not None and set(value) - set(allowed)):
            among_text = f" among {', '.join(allowed)}" if allowed is not None else ""
            raise Invalid(f"expected a non-empty list{among_text}, got {show(value)}")
        return tuple(value)

    return check


# -- sections ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    """One key of a section.

    Attributes
    ----------
    name : str
    check : callable
        ``value -> value`` (converted), raising :class:`Invalid`.
    default : object
        Value when the key is absent (documentation; the settings class holds the same).
    doc : str
    field : str, optional
        Attribute of the settings object it fills (default: ``name``).
    """

    name: str
    check: Checker
    default: Any = None
    doc: str = ""
    field: str | None = None


@dataclass(frozen=True)
class Section:
    """A config table with a fixed set of keys, each checked by its :class:`Key`.

    Attributes
    ----------
    name : str
        Section name as written in the file (``"run"``).
    keys : tuple of Key
        In the order listed in messages.
    rules : callable, optional
        Cross-key rules on the checked values (``dict -> None``), raising :class:`Invalid`
        with the key to blame.
    settings : type, optional
        The dataclass the checked values fill; each key's default must equal its field's.
    """

    name: str
    keys: tuple[Key, ...]
    rules: Callable[[dict], None] | None = None
    settings: type | None = None

    def __post_init__(self) -> None:
        """Refuse a declaration whose defaults disagree with its settings class (the defaults are stated once)."""
        if self.settings is None:
            return
        defaults = {f.name: f.default for f in fields(self.settings)}
        for key in self.keys:
            name = key.field or key.name
            if name not in defaults or defaults[name] != key.default:
                raise TypeError(f"[{self.name}] {key.name}: default {key.default!r} differs from "
                                f"{self.settings.__name__}.{name} = {defaults.get(name)!r}")

    @property
    def names(self) -> tuple[str, ...]:
        """Key names in declaration order."""
        return tuple(k.name for k in self.keys)

    def check(self, table: Any, source: str | None = None) -> dict:
        """Check a table: unknown keys, each value, then the cross-key rules.

        Parameters
        ----------
        table : mapping
            The section as given (absent keys are not filled in).
        source : str, optional
            File name for messages.

        Returns
        -------
        dict
            Field name (``Key.field`` or the key) -> checked, converted value, for the
            given keys only.

        Raises
        ------
        ConfigError
            ``<source>: <section>.<key>: <problem>`` for the first mistake.
        """
        if not isinstance(table, Mapping):
            raise ConfigError(self.name, f"expected a table [{self.name}], got {show(table)}", source)
        by_name = {k.name: k for k in self.keys}
        for name in table:
            if name not in by_name:
                raise ConfigError(f"{self.name}.{shown_key(name)}", f"unknown key; valid keys: {', '.join(by_name)}",
                                  source)
        values: dict[str, Any] = {}
        for name, value in table.items():
            key = by_name[name]
            try:
                values[key.field or name] = key.check(value)
            except Invalid as exc:
                raise ConfigError(f"{self.name}.{name}", exc.problem, source) from None
        if self.rules is not None:
            try:
                self.rules(values)
            except Invalid as exc:
                raise ConfigError(f"{self.name}.{exc.key}" if exc.key else self.name, exc.problem, source) from None
        return values


# -- the registry of sections parsed by the domain packages ------------------------------------

@dataclass(frozen=True)
class StageParser:
    """A section (or sections) parsed by a domain package into its settings object.

    Attributes
    ----------
    attr : str
        Name on ``Config.stages`` (``config.stages.growth``).
    sections : tuple of str
        Config sections it reads (``("growth", "forecast")``).
    parse : callable
        ``(tables, context) -> settings``: ``tables`` maps each of ``sections`` to its
        table ({} when absent); ``context`` has ``source``, ``path`` and ``inputs``.
    owner : str
        Module that registered it.
    """

    attr: str
    sections: tuple[str, ...]
    parse: Callable[[Mapping[str, Mapping], Any], Any]
    owner: str


_OWNERS: list[str] = []
_PARSERS: dict[str, StageParser] = {}


def declare_owners(*modules: str) -> None:
    """Name the modules that register sections (in parse order); called once by the package's top level."""
    for module in modules:
        if module not in _OWNERS:
            _OWNERS.append(module)


def register_stage(attr: str, sections: Iterable[str], parse: Callable[[Mapping[str, Mapping], Any], Any],
                   owner: str) -> None:
    """Register the parser of a domain package's section(s); called at the owning module's import.

    Parameters
    ----------
    attr : str
        Name on ``Config.stages``.
    sections : iterable of str
        The config sections it reads.
    parse : callable
        ``(tables, context) -> settings``, raising ConfigError.
    owner : str
        The registering module's ``__name__``.
    """
    _PARSERS[attr] = StageParser(attr, tuple(sections), parse, owner)


def stage_parsers() -> tuple[StageParser, ...]:
    """Every registered stage parser, importing the declared owner modules first, in their declared order."""
    from uncertain_cost import SECTION_OWNERS

    declare_owners(*SECTION_OWNERS)
    for module in _OWNERS:
        importlib.import_module(module)
    order = {m: i for i, m in enumerate(_OWNERS)}
    return tuple(sorted(_PARSERS.values(), key=lambda p: order.get(p.owner, len(order))))
