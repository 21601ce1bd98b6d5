"""uvicorn's httptools protocol, refusing a request head larger than `MAX_HEAD_BYTES` with 431."""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bot.server import MAX_HEAD_BYTES

_MESSAGE = b"Request header fields too large"
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: " + str(len(_MESSAGE)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + _MESSAGE
)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """Feeds the parser at most `MAX_HEAD_BYTES` of a request's head; past that, 431 and close.

    The bytes of a head are counted from the end of the previous message (or the connection's
    start) until the parser reports the headers complete; a body is never counted.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0

    def data_received(self, data: bytes) -> None:
        while data:
            if not self._in_head:
                super().data_received(data)
                return
            room = MAX_HEAD_BYTES - self._head_bytes
            if room <= 0:
                self._refuse_head()
                return
            if len(data) <= room:  # the usual case: the whole head (and body) in one read
                self._head_bytes += len(data)
                super().data_received(data)
                return
            piece, data = data[:room], data[room:]
            self._head_bytes += len(piece)
            super().data_received(piece)
            if self.transport.is_closing():
                return
            if self._in_head:
                self._refuse_head()
                return

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0

    def _refuse_head(self) -> None:
        self.logger.warning("Request head larger than %d bytes refused.", MAX_HEAD_BYTES)
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(_TOO_LARGE)  # no response under way: answer before closing
        self.transport.close()
