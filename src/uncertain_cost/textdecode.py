"""Decode a text file's bytes as UTF-8, naming a bad byte by its real value and position."""

from __future__ import annotations

import codecs

__all__ = ["decode_utf8", "describe_bad_utf8"]


def describe_bad_utf8(raw: bytes, offset: int) -> str:
    """Describe the undecodable byte at ``offset`` of ``raw``: value, line, column, byte offset.

    Parameters
    ----------
    raw : bytes
        The whole file.
    offset : int
        Offset of the bad byte in ``raw`` (not in a BOM-stripped copy).

    Returns
    -------
    str
        ``"line 5, column 12: byte 0xe9 (offset 301)"``; the column counts bytes from the
        start of the line, 1-based.
    """
    line_start = raw.rfind(b"\n", 0, offset) + 1
    line = raw.count(b"\n", 0, offset) + 1
    return f"line {line}, column {offset - line_start + 1}: byte 0x{raw[offset]:02x} (offset {offset})"


def decode_utf8(raw: bytes, *, bom: bool = True) -> tuple[str | None, str]:
    """Decode ``raw`` as UTF-8 (an initial BOM skipped when ``bom``).

    Parameters
    ----------
    raw : bytes
    bom : bool, default True
        Accept and drop a UTF-8 byte-order mark at the start.

    Returns
    -------
    text : str or None
        The text, or None when ``raw`` is not UTF-8.
    problem : str
        Empty on success, else :func:`describe_bad_utf8` of the first bad byte.
    """
    skip = len(codecs.BOM_UTF8) if bom and raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[skip:].decode("utf-8"), ""
    except UnicodeDecodeError as exc:
        return None, describe_bad_utf8(raw, exc.start + skip)
