"""Byte input and output for the classic ISA's port.

The reference interpreter asks for one byte at a time (``read``/``write``); the compiled
runtimes suspend when their input buffer runs dry and ask for a chunk (``read_chunk``),
so a program such as eForth can be used interactively from a terminal.
"""

from __future__ import annotations

import os
import sys


class BufferIO:
    """Input from a bytes object; output collected in ``output``."""

    def __init__(self, data: bytes = b"") -> None:
        self._data = bytes(data)
        self._pos = 0
        self._out = bytearray()

    def read(self) -> int:
        if self._pos >= len(self._data):
            return -1
        self._pos += 1
        return self._data[self._pos - 1]

    def read_chunk(self) -> bytes:
        chunk = self._data[self._pos :]
        self._pos = len(self._data)
        return chunk

    def write(self, byte: int) -> None:
        self._out.append(byte & 0xFF)

    def write_bytes(self, data: bytes) -> None:
        self._out.extend(data)

    @property
    def output(self) -> bytes:
        return bytes(self._out)


class StdIO:
    """Standard input and output, unbuffered in the sense that matters: output is flushed
    before the program waits for input, and input is taken as soon as a line arrives."""

    def __init__(self) -> None:
        try:
            self._in_fd = sys.stdin.fileno()
        except (AttributeError, OSError, ValueError):  # no stdin, or not a real file (embedded)
            self._in_fd = -1
        self._pending = b""
        self._out = bytearray()
        self._all = bytearray()

    def read(self) -> int:
        if not self._pending:
            self.flush()
            self._pending = self.read_chunk()
            if not self._pending:
                return -1
        byte, self._pending = self._pending[0], self._pending[1:]
        return byte

    def read_chunk(self) -> bytes:
        if self._pending:
            chunk, self._pending = self._pending, b""
            return chunk
        if self._in_fd < 0:
            return b""
        self.flush()
        try:
            return os.read(self._in_fd, 65536)
        except OSError:
            return b""

    def write(self, byte: int) -> None:
        self._out.append(byte & 0xFF)
        self._all.append(byte & 0xFF)
        if byte == 10 or len(self._out) >= 4096:
            self.flush()

    def write_bytes(self, data: bytes) -> None:
        self._out.extend(data)
        self._all.extend(data)
        self.flush()

    def flush(self) -> None:
        if self._out:
            out = sys.stdout.buffer
            out.write(bytes(self._out))
            out.flush()
            self._out.clear()

    @property
    def output(self) -> bytes:
        return bytes(self._all)
