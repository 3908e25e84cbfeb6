"""The byte port of an ISA's run loop: what every ``fast_run`` body receives as its last
three arguments (``inp``, ``out``, ``state``) and the host side that services it.

A body that does I/O (classic's address -1) reads input bytes from ``inp`` and appends
output bytes to ``out``, keeping its positions in ``state``; when the input runs dry it
suspends with ``NEED_INPUT`` (or reads -1 once the input has ended), and when ``out`` is
full it suspends with ``OUTPUT_FULL`` (or drops the byte when output is discarded). A
body without I/O ignores the three. The runtimes only create a port and let it service a
suspension; they do not know the slots.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# state slots shared by the body and the host: input position and length, output length,
# whether the input has ended (else suspend with NEED_INPUT when it runs dry), and whether
# to drop output that does not fit (else suspend with OUTPUT_FULL).
IO_IN_POS, IO_IN_LEN, IO_OUT_LEN, IO_EOF, IO_DISCARD = range(5)
IO_SLOTS = 5
OUTPUT_CHUNK = 1 << 12


class BytePort:
    """The three port arrays of one run, and the host side of a suspension."""

    def __init__(self, io: Any = None) -> None:
        """``io``: an object with ``read_chunk() -> bytes`` (b"" at end of input) and
        ``write_bytes(bytes)``; None gives no input (reads give -1) and discards the output."""
        self.io = io
        self.inp = np.zeros(0, np.int64)
        self.out = np.zeros(OUTPUT_CHUNK if io is not None else 0, np.int64)
        self.state = np.zeros(IO_SLOTS, dtype=np.int64)
        if io is None:
            self.state[IO_EOF] = 1
            self.state[IO_DISCARD] = 1

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(inp, out, state)``, as the body takes them."""
        return self.inp, self.out, self.state

    def flush(self) -> None:
        """Hand the bytes written so far to ``io``."""
        if self.io is not None and self.state[IO_OUT_LEN]:
            self.io.write_bytes(bytes(self.out[: self.state[IO_OUT_LEN]].astype(np.uint8)))
            self.state[IO_OUT_LEN] = 0

    def refill(self) -> None:
        """The body asked for input: the next chunk, or the end of input."""
        chunk = self.io.read_chunk() if self.io is not None else b""
        if chunk:
            self.inp = np.frombuffer(chunk, dtype=np.uint8).astype(np.int64)
            self.state[IO_IN_POS] = 0
            self.state[IO_IN_LEN] = self.inp.size
        else:
            self.state[IO_EOF] = 1

    @property
    def output(self) -> bytes:
        """What ``io`` collected, if it collects (runtime.io.BufferIO does)."""
        return getattr(self.io, "output", b"") if self.io is not None else b""


def no_port() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The port arrays for batch runs: no input (reads give -1), output discarded. Never written."""
    return BytePort().arrays
