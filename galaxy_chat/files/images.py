"""Checking that an image is what its magic number says, cheaply: the header parses and its size is sane.

A file that starts like a PNG but whose header chunk is broken (or a GIF header glued to a page of HTML)
is refused rather than kept as an image. Dimensions are capped so a vision model or a browser is never
handed a decompression bomb.
"""

from __future__ import annotations

import struct
import zlib

from galaxy_chat.files.errors import FileRefused
from galaxy_chat.vocabulary.widgets import image_type

MAX_PIXELS = 100_000_000  # 10,000 x 10,000
JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _png(data: bytes) -> tuple[int, int]:
    if len(data) < 33 or data[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise ValueError("no IHDR chunk")
    if zlib.crc32(data[12:29]) != struct.unpack(">I", data[29:33])[0]:
        raise ValueError("IHDR checksum wrong")
    return struct.unpack(">II", data[16:24])


def _jpeg(data: bytes) -> tuple[int, int]:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise ValueError("not a JPEG marker")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            at += 2
            continue
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        if length < 2:
            raise ValueError("bad segment length")
        if marker in JPEG_SOF:
            if at + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return width, height
        if marker == 0xDA:  # start of scan before any frame header
            break
        at += 2 + length
    raise ValueError("no frame header")


def _gif(data: bytes) -> tuple[int, int]:
    if len(data) < 14:
        raise ValueError("too short")
    width, height = struct.unpack("<HH", data[6:10])
    flags, at = data[10], 13
    if flags & 0x80:
        at += 3 << ((flags & 7) + 1)
    while at < len(data):  # the blocks must chain up to the trailer
        block = data[at]
        if block == 0x3B:
            return width, height
        if block == 0x21:
            at += 2
        elif block == 0x2C:
            if at + 10 > len(data):
                break
            local = data[at + 9]
            at += 10 + ((3 << ((local & 7) + 1)) if local & 0x80 else 0) + 1  # + LZW minimum code size
        else:
            raise ValueError(f"unknown block {block:#x}")
        while at < len(data) and data[at]:  # sub-blocks up to the zero terminator
            at += data[at] + 1
        at += 1
    raise ValueError("no trailer")


def _webp(data: bytes) -> tuple[int, int]:
    if struct.unpack("<I", data[4:8])[0] + 8 > len(data) or len(data) < 30:
        raise ValueError("RIFF size larger than the file")
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    raise ValueError("no VP8 chunk")


PARSERS = {"image/png": _png, "image/jpeg": _jpeg, "image/gif": _gif, "image/webp": _webp}


def check_image(data: bytes) -> tuple[str, int, int]:
    """(mime, width, height) of a PNG, JPEG, GIF or WebP; FileRefused when it does not parse or is huge."""
    mime = image_type(data)
    if mime is None:
        raise FileRefused("This is not a PNG, JPEG, GIF or WebP image.")
    try:
        width, height = PARSERS[mime](data)
    except (ValueError, struct.error, IndexError):
        raise FileRefused(f"This file starts like a {mime.split('/')[1].upper()} image but is damaged.") from None
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise FileRefused(f"This image is {width} x {height} pixels; at most {MAX_PIXELS // 1_000_000} million "
                          "pixels are accepted.")
    return mime, width, height
