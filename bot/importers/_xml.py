"""Safe parsing of the XML formats (GPX, TCX), and small helpers for walking the tree.

Uploads come from anyone in a chat, so XML is parsed with defusedxml: a document that
declares entities (the "billion laughs" bomb, quadratic blow-up) or refers to external
resources (XXE: reading server files or URLs) is refused before anything is expanded.
Real GPX and TCX files never need either.

The bytes go to the parser as they are, so expat applies the BOM or the declared
encoding itself (some older devices write ISO-8859-1 GPX). Everything after parsing
works on the tree, never on the text again: a second parse of the same text by another
library (gpxpy's own parser, for one) could interpret it differently, or slowly.
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

import defusedxml
import defusedxml.ElementTree as SafeET

from bot.importers._model import ImportRefused

if TYPE_CHECKING:  # only for annotations; parsing always goes through defusedxml
    from xml.etree.ElementTree import Element

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def looks_like_xml(data: bytes) -> bool:
    """Cheap content sniff: does the file start (after a BOM and blanks) with a tag?"""
    if data.startswith(_UTF16_BOMS):
        return True
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    return data[:1024].lstrip().startswith(b"<")


def sniff_label(data: bytes) -> str | None:
    """Guess GPX/TCX from the first bytes, to word errors for files too broken to parse."""
    head = data[:4096]
    if b"<TrainingCenterDatabase" in head or b":TrainingCenterDatabase" in head:
        return "TCX"
    if b"<gpx" in head or b":gpx" in head:
        return "GPX"
    return None


def parse(data: bytes, label: str) -> Element:
    """Parse with entity declarations and external references forbidden."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise ImportRefused(
            "This file declares XML entities or outside references, which activity files "
            "never need, so it was not read."
        ) from exc
    except MemoryError:  # the worker's memory limit (bot/importers/pool.py) says so itself
        raise
    except Exception as exc:  # ParseError; also LookupError for an unknown encoding
        raise ImportRefused(
            f"This {label} file is damaged — it is not well-formed XML; "
            "export it again from your app."
        ) from exc
    return root


def local_name(tag: object) -> str:
    """`{namespace}name` → `name`, so TCX/GPX files with odd or missing namespaces match."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def children(element: Element, name: str) -> list[Element]:
    """Direct children with the given local name, whatever their namespace."""
    return [child for child in element if local_name(child.tag) == name]


def child_text(element: Element, name: str) -> str | None:
    """Stripped text of the first direct child with that local name, or None."""
    for child in children(element, name):
        text = (child.text or "").strip()
        return text or None
    return None
