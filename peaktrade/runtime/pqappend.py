"""Append row groups to a Parquet file without re-encoding the ones it already holds.

A Parquet file is ``PAR1``, the column chunks of its row groups, a footer (Thrift compact-encoded
``FileMetaData``: schema, and per row group the byte offsets of its column chunks), the footer's
length and ``PAR1``. The new events are encoded by pyarrow as a small Parquet file in memory; its
column chunks are placed after the existing ones and its row groups, with their offsets shifted, are
added to the existing footer. The caller writes the result to a temporary file and renames it over
the old one, so a reader sees the old file or the new one, never a mix.

Only the handful of Thrift fields that hold file offsets (and the row counts and ordinals) are
rewritten; every other field is carried over byte for byte through a generic compact-protocol codec.
``splice`` returns None when a file is not one it understands (another schema, encryption, page
indexes, bloom filters); the caller then rewrites the file whole.
"""

from __future__ import annotations

import struct
from typing import Any

MAGIC = b"PAR1"

# compact protocol type ids
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(13)
_INTS = (_BYTE, _I16, _I32, _I64)

# FileMetaData / RowGroup / ColumnChunk / ColumnMetaData field ids (parquet.thrift)
_FMD_SCHEMA, _FMD_NUM_ROWS, _FMD_ROW_GROUPS, _FMD_ENCRYPTION = 2, 3, 4, 8
_RG_COLUMNS, _RG_NUM_ROWS, _RG_FILE_OFFSET, _RG_ORDINAL = 1, 3, 5, 7
_CC_FILE_PATH, _CC_FILE_OFFSET, _CC_META = 1, 2, 3
_CC_REFUSED = (4, 5, 6, 7, 8, 9)  # page index offsets/lengths, crypto: not produced by our writer
_CMD_OFFSETS = (9, 10, 11)  # data_page_offset, index_page_offset, dictionary_page_offset
_CMD_REFUSED = (14, 15)  # bloom filter offset/length


class Unsupported(ValueError):
    """The file holds something this module does not rewrite safely."""


class Encoded(bytes):
    """A struct already in its compact encoding (kept so that a footer of many row groups is not
    parsed and re-encoded on every append)."""


# --- a generic Thrift compact codec: a struct is a list of [field id, type, value] --------------


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise Unsupported("varint too long")


def _unzig(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def _read_value(buf: bytes, pos: int, t: int) -> tuple[Any, int]:
    if t in (_TRUE, _FALSE):  # a bool field: the value is in the type nibble
        return t == _TRUE, pos
    if t in _INTS:
        if t == _BYTE:
            return struct.unpack_from("b", buf, pos)[0], pos + 1
        n, pos = _varint(buf, pos)
        return _unzig(n), pos
    if t == _DOUBLE:
        return struct.unpack_from("<d", buf, pos)[0], pos + 8
    if t == _BINARY:
        n, pos = _varint(buf, pos)
        return bytes(buf[pos: pos + n]), pos + n
    if t in (_LIST, _SET):
        head = buf[pos]
        pos += 1
        size, et = head >> 4, head & 0x0F
        if size == 15:
            size, pos = _varint(buf, pos)
        items = []
        for _ in range(size):
            if et in (_TRUE, _FALSE):  # bools inside a list are one byte each
                items.append(buf[pos] == _TRUE)
                pos += 1
            else:
                v, pos = _read_value(buf, pos, et)
                items.append(v)
        return (et, items), pos
    if t == _MAP:
        size, pos = _varint(buf, pos)
        if size == 0:
            return (0, 0, []), pos
        kv = buf[pos]
        pos += 1
        kt, vt = kv >> 4, kv & 0x0F
        pairs = []
        for _ in range(size):
            k, pos = _read_value(buf, pos, kt)
            v, pos = _read_value(buf, pos, vt)
            pairs.append((k, v))
        return (kt, vt, pairs), pos
    if t == _STRUCT:
        return _read_struct(buf, pos)
    raise Unsupported(f"unknown thrift type {t}")


def _read_struct(buf: bytes, pos: int) -> tuple[list[list[Any]], int]:
    fields: list[list[Any]] = []
    last = 0
    while True:
        head = buf[pos]
        pos += 1
        t = head & 0x0F
        if t == _STOP:
            return fields, pos
        delta = head >> 4
        if delta:
            fid = last + delta
        else:
            n, pos = _varint(buf, pos)
            fid = _unzig(n)
        value, pos = _read_value(buf, pos, t)
        fields.append([fid, t, value])
        last = fid


def _put_varint(out: bytearray, n: int) -> None:
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _zig(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def _write_value(out: bytearray, t: int, v: Any) -> None:
    if t in (_TRUE, _FALSE):
        return  # in the field header
    if t == _BYTE:
        out += struct.pack("b", v)
    elif t in _INTS:
        _put_varint(out, _zig(v))
    elif t == _DOUBLE:
        out += struct.pack("<d", v)
    elif t == _BINARY:
        _put_varint(out, len(v))
        out += v
    elif t in (_LIST, _SET):
        et, items = v
        if len(items) < 15:
            out.append((len(items) << 4) | et)
        else:
            out.append(0xF0 | et)
            _put_varint(out, len(items))
        for item in items:
            if isinstance(item, Encoded):  # a struct already encoded (row groups of a footer)
                out += item
            elif et in (_TRUE, _FALSE):
                out.append(_TRUE if item else _FALSE)
            else:
                _write_value(out, et, item)
    elif t == _MAP:
        kt, vt, pairs = v
        _put_varint(out, len(pairs))
        if pairs:
            out.append((kt << 4) | vt)
            for k, val in pairs:
                _write_value(out, kt, k)
                _write_value(out, vt, val)
    elif t == _STRUCT:
        _write_struct(out, v)
    else:
        raise Unsupported(f"unknown thrift type {t}")


def _write_struct(out: bytearray, fields: list[list[Any]]) -> None:
    last = 0
    for fid, t, v in fields:
        if t in (_TRUE, _FALSE):
            t = _TRUE if v else _FALSE
        if 0 < fid - last <= 15:
            out.append(((fid - last) << 4) | t)
        else:
            out.append(t)
            _put_varint(out, _zig(fid))
        _write_value(out, t, v)
        last = fid
    out.append(_STOP)


def _field(fields: list[list[Any]], fid: int) -> list[Any] | None:
    for f in fields:
        if f[0] == fid:
            return f
    return None


# --- Parquet files --------------------------------------------------------------------------


def read_footer(tail: bytes, size: int) -> tuple[list[list[Any]], int]:
    """Parse the footer from the last bytes ``tail`` of a Parquet file of ``size`` bytes (``tail`` must
    hold the whole footer; see ``footer_length``). Returns (FileMetaData with each row group encoded
    back to bytes, offset where the footer starts = end of the column chunks)."""
    if size < 12 or tail[-4:] != MAGIC:
        raise Unsupported("not a Parquet file (magic bytes)")
    length = footer_length(tail)
    start = size - 8 - length
    if start < 4 or length + 8 > len(tail):
        raise Unsupported("footer length out of range")
    base = len(tail) - 8 - length
    meta, end = _read_struct(tail, base)
    if end != len(tail) - 8:
        raise Unsupported("footer does not end where its length says")
    if _field(meta, _FMD_ENCRYPTION) is not None:
        raise Unsupported("encrypted file")
    if _field(meta, _FMD_NUM_ROWS) is None or _field(meta, _FMD_SCHEMA) is None:
        raise Unsupported("footer without row count or schema")
    rgs = _field(meta, _FMD_ROW_GROUPS)
    if rgs is None:
        rgs = [_FMD_ROW_GROUPS, _LIST, (_STRUCT, [])]
        meta.append(rgs)
        meta.sort(key=lambda f: f[0])
    groups = rgs[2][1]
    for i, rg in enumerate(groups):
        _shift_row_group(rg, 0, i)
        groups[i] = _encoded(rg)
    return meta, start


def footer_length(tail: bytes) -> int:
    return struct.unpack_from("<I", tail, len(tail) - 8)[0]


def _encoded(fields: list[list[Any]]) -> Encoded:
    out = bytearray()
    _write_struct(out, fields)
    return Encoded(out)


def _shift_row_group(rg: list[list[Any]], delta: int, ordinal: int) -> None:
    cols = _field(rg, _RG_COLUMNS)
    if cols is None:
        raise Unsupported("row group without columns")
    for cc in cols[2][1]:
        for f in cc:
            if f[0] in _CC_REFUSED:
                raise Unsupported("page index or encryption in a column chunk")
            if f[0] == _CC_FILE_PATH:
                raise Unsupported("column chunk in another file")
            if f[0] == _CC_FILE_OFFSET and f[2]:
                f[2] += delta
            elif f[0] == _CC_META:
                for m in f[2]:
                    if m[0] in _CMD_REFUSED:
                        raise Unsupported("bloom filter")
                    if m[0] in _CMD_OFFSETS and m[2]:
                        m[2] += delta
    for f in rg:
        if f[0] == _RG_FILE_OFFSET and f[2]:
            f[2] += delta
    ordinal_field = _field(rg, _RG_ORDINAL)
    if ordinal_field is not None:
        if ordinal > 32767:  # an i16 in the format: leave the field out rather than overflow it
            rg.remove(ordinal_field)
        else:
            ordinal_field[2] = ordinal


def encode_footer(meta: list[list[Any]]) -> bytes:
    """The footer as it ends a file: FileMetaData, its length, ``PAR1``."""
    out = bytearray()
    _write_struct(out, meta)
    return bytes(out) + struct.pack("<I", len(out)) + MAGIC


def num_rows(meta: list[list[Any]]) -> int:
    return int(_field(meta, _FMD_NUM_ROWS)[2])


def num_row_groups(meta: list[list[Any]]) -> int:
    return len(_field(meta, _FMD_ROW_GROUPS)[2][1])


def splice(meta: list[list[Any]], data_end: int, new: bytes) -> tuple[list[list[Any]], bytes, bytes] | None:
    """Append the row groups of the Parquet file ``new`` to a file whose footer is ``meta`` (from
    ``read_footer``) and whose column chunks end at ``data_end``. Returns (the combined footer's
    FileMetaData, the column chunks to write at ``data_end``, the footer bytes to write after them);
    ``meta`` itself is not changed. None if the schemas differ or ``new`` holds something not
    handled here."""
    try:
        new_meta, new_data_end = read_footer(new, len(new))
    except (Unsupported, IndexError, struct.error):
        return None
    if _field(meta, _FMD_SCHEMA) != _field(new_meta, _FMD_SCHEMA):
        return None
    chunks = new[len(MAGIC): new_data_end]
    delta = data_end - len(MAGIC)
    old_groups = _field(meta, _FMD_ROW_GROUPS)[2][1]
    groups = list(old_groups)
    for raw in _field(new_meta, _FMD_ROW_GROUPS)[2][1]:
        rg, _ = _read_struct(raw, 0)
        _shift_row_group(rg, delta, len(groups))
        groups.append(_encoded(rg))
    combined = []
    for f in meta:
        if f[0] == _FMD_ROW_GROUPS:
            f = [f[0], f[1], (_STRUCT, groups)]
        elif f[0] == _FMD_NUM_ROWS:
            f = [f[0], f[1], f[2] + num_rows(new_meta)]
        combined.append(f)
    return combined, chunks, encode_footer(combined)
