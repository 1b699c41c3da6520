"""Match free-text accelerator names to the chip table.

The Epoch tables spell one chip several ways (``NVIDIA H100 SXM5 80GB`` in the 2025
models table, ``NVIDIA H100 SXM5`` in the 2024 price table, ``H100`` in papers). The
:class:`HardwareMatcher` resolves a name in this order:

1. exact chip name;
2. a curated alias of a chip (``chips.toml``), case-insensitive;
3. equal normalized tokens (vendor words dropped, ``80 GB`` -> ``80gb``);
4. soft match on the model token (``h100``, ``a100``, ``v4``...): the chip whose tokens
   are all in the query (the query is more specific), else the least specific chip that
   contains all the query's tokens (the query is a family name).

A name that matches nothing is reported, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from uncertain_cost.data.tables import ChipSpec

_VENDOR_WORDS = {"nvidia", "google", "amd", "tesla", "geforce", "huawei", "intel", "aws", "amazon"}


def name_tokens(name: str) -> tuple[str, ...]:
    """Return the normalized tokens of a hardware name.

    Lower-cases, joins memory sizes (``80 GB`` -> ``80gb``), drops vendor words.

    Parameters
    ----------
    name : str

    Returns
    -------
    tuple of str
    """
    s = name.lower().replace("-", " ").replace("_", " ")
    s = re.sub(r"(\d+)\s*gb\b", r"\1gb", s)
    tokens = [t for t in re.split(r"[^a-z0-9.]+", s) if t and t not in _VENDOR_WORDS]
    return tuple(tokens)


def model_token(tokens: Iterable[str]) -> str:
    """Return the model token (letters and digits, not a memory size), or ``""``."""
    for t in tokens:
        if re.search(r"[a-z]", t) and re.search(r"\d", t) and not t.endswith("gb"):
            return t
    return ""


class HardwareMatcher:
    """Resolve hardware names to chip names of a chip table.

    Parameters
    ----------
    chips : iterable of ChipSpec
        The chip table; curated ``aliases`` are honoured.
    """

    def __init__(self, chips: Iterable[ChipSpec]):
        self._names: list[str] = []
        self._alias: dict[str, str] = {}
        self._tokens: dict[tuple[str, ...], str] = {}
        self._by_model: dict[str, list[tuple[str, frozenset[str]]]] = {}
        for chip in chips:
            self._names.append(chip.name)
            for alias in chip.aliases:
                self._alias.setdefault(alias.lower(), chip.name)
            toks = name_tokens(chip.name)
            self._tokens.setdefault(toks, chip.name)
            mt = model_token(toks)
            if mt:
                self._by_model.setdefault(mt, []).append((chip.name, frozenset(toks)))
        self._name_set = set(self._names)
        self._cache: dict[str, str | None] = {}

    def match(self, name: str) -> str | None:
        """Return the chip name for ``name``, or None when nothing matches.

        Parameters
        ----------
        name : str

        Returns
        -------
        str or None
        """
        if name in self._cache:
            return self._cache[name]
        result = self._match(name.strip())
        self._cache[name] = result
        return result

    def _match(self, name: str) -> str | None:
        if name in self._name_set:
            return name
        hit = self._alias.get(name.lower())
        if hit:
            return hit
        toks = name_tokens(name)
        if toks in self._tokens:
            return self._tokens[toks]
        mt = model_token(toks)
        candidates = self._by_model.get(mt, [])
        if not candidates:
            return None
        q = frozenset(toks)
        # chip tokens all in the query: the query is a more specific spelling
        inside = [(len(t), n) for n, t in candidates if t <= q]
        if inside:
            return max(inside)[1]
        # query tokens all in the chip: the query is a family name; least specific chip
        outside = [(len(t), n) for n, t in candidates if q <= t]
        if outside:
            return min(outside)[1]
        return None

    def unmatched(self, names: Iterable[str]) -> list[str]:
        """Names from ``names`` that match no chip, sorted and unique."""
        return sorted({n for n in names if n and self.match(n) is None})
