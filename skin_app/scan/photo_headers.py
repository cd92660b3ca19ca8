"""What a photo file's structure will cost before Pillow opens it, read from its bytes alone.

Pillow trusts a file's structure: it decodes every scan of a progressive JPEG (a 452 KB file of many
tiny scans took 40 s), and it reads every entry of a TIFF directory (the TIFF itself, a JPEG's EXIF
and multi-picture segments) into memory at open, each entry a fresh copy of the bytes it points to,
so 20,000 entries aimed at one 128 KB block cost 2.5 GB. This module only counts, in linear time and
without copying: ``imaging.py`` compares the counts with its limits and refuses in words.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass

EXIF_PREFIX = b"Exif\x00\x00"
_SOS = b"\xff\xda"
# TIFF field types: bytes per value, as Pillow reads them (TiffImagePlugin._load_dispatch).
_TYPE_BYTES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}
_BYTES_TYPES = {1, 2, 6, 7}          # kept as one bytes object; every other type unpacks to Python numbers
PYTHON_NUMBER_BYTES = 48             # one unpacked value: its object and its slot in a tuple (a rational more)
_HEVC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_AVIF_BRANDS = {b"avif", b"avis"}


@dataclass(frozen=True)
class Directory:
    """A TIFF directory (IFD) as Pillow would load it: how many entries, and the memory they take."""
    entries: int = 0
    cost: int = 0                    # bytes: every entry's data copied, numbers unpacked


@dataclass(frozen=True)
class JpegStructure:
    scans: int                       # start-of-scan markers (progressive JPEGs have one per pass)
    exif: bytes | None               # the EXIF Pillow assembles from APP1 segments (and parses at open)
    mpf: bytes | None                # the multi-picture directory (APP2 "MPF"), also parsed at open


def jpeg_structure(data: bytes) -> JpegStructure:
    """The segments before the first scan, read by their lengths, and every scan marker after it (inside
    entropy-coded data a 0xFF byte is always followed by 0x00 or a restart marker, so ``FF DA`` there is
    a real marker). EXIF is assembled as Pillow does: the first ``Exif`` APP1 whole, later ones appended
    without their prefix."""
    pos, exif, mpf = 2, None, None
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xFF:                     # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):
            pos += 2
            continue
        if marker == 0xDA:
            return JpegStructure(1 + data.count(_SOS, pos + 2), exif, mpf)
        length = struct.unpack_from(">H", data, pos + 2)[0]
        body = data[pos + 4:pos + 2 + length]
        if marker == 0xE1 and body[:6] == EXIF_PREFIX:
            exif = body if exif is None else exif + body[6:]
        elif marker == 0xE2 and body[:4] == b"MPF\x00":
            mpf = body[4:]
        pos += 2 + max(length, 2)
    return JpegStructure(0, exif, mpf)


def exif_prefixes(exif: bytes) -> int:
    """How many ``Exif\\0\\0`` prefixes the block starts with (Pillow strips them one copy at a time)."""
    n = 0
    while exif.startswith(EXIF_PREFIX, n * 6):
        n += 1
    return n


def _tiff_layout(tiff: bytes, start: int = 0) -> tuple[str, bool, int] | None:
    """(byte order, BigTIFF?, first directory's offset) of a TIFF header at ``start``, or None."""
    order = {b"II": "<", b"MM": ">"}.get(tiff[start:start + 2])
    if order is None or len(tiff) < start + 8:
        return None
    magic = struct.unpack_from(order + "H", tiff, start + 2)[0]
    if magic == 43 and len(tiff) >= start + 16:
        return order, True, struct.unpack_from(order + "Q", tiff, start + 8)[0]
    return order, False, struct.unpack_from(order + "I", tiff, start + 4)[0]


def first_directory(tiff: bytes, start: int = 0, max_entries: int = 1_000) -> Directory:
    """The first directory of the TIFF structure at ``tiff[start:]`` (a TIFF file, or EXIF after its
    prefix), as Pillow's ``ImageFileDirectory_v2.load`` would read it: an entry whose data lies outside
    the file is skipped, as Pillow skips it. Stops counting cost past ``max_entries`` + 1 entries."""
    layout = _tiff_layout(tiff, start)
    if layout is None:
        return Directory()
    order, big, offset = layout
    at = start + offset
    head, entry_size, inline = (8, 20, 8) if big else (2, 12, 4)
    if at + head > len(tiff):
        return Directory()
    count = struct.unpack_from(order + ("Q" if big else "H"), tiff, at)[0]
    entry_fmt = order + ("HHQQ" if big else "HHII")
    cost = 0
    for i in range(min(count, max_entries + 1)):
        pos = at + head + i * entry_size
        if pos + entry_size > len(tiff):
            break
        _tag, kind, n, where = struct.unpack_from(entry_fmt, tiff, pos)
        size = n * _TYPE_BYTES.get(kind, 0)
        if size == 0 or (size > inline and start + where + size > len(tiff)):
            continue
        cost += size + (0 if kind in _BYTES_TYPES else n * PYTHON_NUMBER_BYTES)
    return Directory(int(count), cost)


def orientation(exif: bytes | None) -> int | None:
    """The EXIF orientation (tag 0x0112 in the first directory), None when absent; reads the directory's
    entries only (never the data they point to)."""
    if not exif:
        return None
    start = exif_prefixes(exif) * 6
    layout = _tiff_layout(exif, start)
    if layout is None or layout[1]:
        return None
    order, _big, offset = layout
    at = start + offset
    if at + 2 > len(exif):
        return None
    for i in range(struct.unpack_from(order + "H", exif, at)[0]):
        pos = at + 2 + i * 12
        if pos + 12 > len(exif):
            break
        tag, kind, n = struct.unpack_from(order + "HHI", exif, pos)
        if tag == 0x0112:
            return struct.unpack_from(order + "H", exif, pos + 8)[0] if kind == 3 and n == 1 else 1
    return None


_XMP_ORIENTATION = re.compile(r'tiff:Orientation(="|>)([0-9])')


def xmp_orientation(xmp: str | None) -> int | None:
    """The orientation an XMP packet names (as ``Image.getexif`` reads it from a PNG), or None."""
    match = _XMP_ORIENTATION.search(xmp) if isinstance(xmp, str) else None
    return int(match[2]) if match else None


def heif_brands(data: bytes) -> set[bytes]:
    """The major and compatible brands of an ISO media file's ``ftyp`` box (what it says it holds)."""
    if data[4:8] != b"ftyp" or len(data) < 16:
        return set()
    size = min(struct.unpack_from(">I", data, 0)[0], len(data), 4096)
    brands = {data[8:12]}
    brands.update(data[i:i + 4] for i in range(16, size - 3, 4))
    return brands


def heif_coding(data: bytes) -> str | None:
    """"HEIF" for HEVC-coded pictures (what phones write), "AVIF" for AV1, None when the brands name
    neither (a bare ``mif1`` says only that it is some image in a HEIF box)."""
    brands = heif_brands(data)
    if brands & _AVIF_BRANDS:
        return "AVIF"
    if brands & _HEVC_BRANDS:
        return "HEIF"
    return None
