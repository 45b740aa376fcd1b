#!/usr/bin/env python3
"""
A graphql-ws client that floods operations and does not read the answers.

Node cannot shrink a socket's receive buffer, and Linux's loopback buffers
then absorb tens of MB before a server sees a backlog; this client sets
SO_RCVBUF before connecting, so the answers pile up in the server almost at
once. It speaks WebSocket by hand (standard library only).

Usage: slow_reader.py <port> <token> [frames] [id_bytes]

1. Connects, sends connection_init, reads until connection_ack.
2. Sends <frames> subscribe messages as fast as the socket takes them, reading
   nothing, then lets the server work through them.
3. Prints {"flooded": ...} and waits for a line on stdin, so the caller can
   measure the server while the answers are still unread.
4. Reads until the server's close frame and prints one JSON line:
   {"sent", "answers", "answer_bytes", "close_code", "close_reason",
    "close_after_s", ...}; close_code is null when the connection ended, or
   went quiet, without one.

Every step is bounded by one deadline, so the program always exits.
"""
import base64
import json
import os
import select
import socket
import struct
import sys
import time

# The kernel doubles this and enforces its own minimum; either way a few KiB.
RECEIVE_BUFFER_BYTES = 4096
DEADLINE_S = 20.0
# Time for the server to work through the operations already in its receive buffer.
SETTLE_S = 1.0
# A server that sends nothing for this long after we start reading has nothing more to say.
QUIET_S = 2.0
SEND_CHUNK_BYTES = 64 * 1024
DEFAULT_FRAMES = 2_000
# Every answer echoes its operation's id, so long ids make long answers: a few hundred unread
# ones outgrow the server's kernel send buffer and the bound, where short answers would take
# tens of thousands of operations (and seconds of the server's time) to get there.
DEFAULT_ID_BYTES = 16 * 1024
# Refused at once (a syntax error, or the per-socket cap on operations once answers queue up).
QUERY = "{"

OPCODE_TEXT = 0x1
OPCODE_CLOSE = 0x8
OPCODE_PING = 0x9


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return max(0.0, self.end - time.monotonic())

    def passed(self):
        return self.left() == 0.0


def client_frame(opcode, payload):
    """A final frame, masked as every client-to-server frame must be."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    mask = os.urandom(4)
    repeated = (mask * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(length, "big")
    return header + mask + masked


def text_frame(message):
    return client_frame(OPCODE_TEXT, json.dumps(message).encode("utf-8"))


class FrameReader:
    """Server frames (never masked) from a socket, with the bytes left over from the handshake."""

    def __init__(self, sock, buffered=b""):
        self.sock = sock
        self.buffer = bytearray(buffered)
        self.ended = False

    def _fill(self, count, deadline, quiet_s=None):
        while len(self.buffer) < count:
            wait = deadline.left() if quiet_s is None else min(deadline.left(), quiet_s)
            if wait == 0.0:
                return False
            self.sock.settimeout(wait)
            try:
                chunk = self.sock.recv(256 * 1024)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if not chunk:
                self.ended = True
                return False
            self.buffer += chunk
        return True

    def _take(self, count):
        taken = bytes(self.buffer[:count])
        del self.buffer[:count]
        return taken

    def next(self, deadline, quiet_s=None):
        """(opcode, payload), or None when the connection ended, went quiet or the deadline passed."""
        if not self._fill(2, deadline, quiet_s):
            return None
        first, second = self.buffer[0], self.buffer[1]
        length = second & 0x7F
        header = 2 + (2 if length == 126 else 8 if length == 127 else 0)
        if not self._fill(header, deadline, quiet_s):
            return None
        if length == 126:
            length = struct.unpack("!H", self.buffer[2:4])[0]
        elif length == 127:
            length = struct.unpack("!Q", self.buffer[2:10])[0]
        if not self._fill(header + length, deadline, quiet_s):
            return None
        self._take(header)
        return first & 0x0F, self._take(length)


def handshake(sock, port, deadline):
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    request = (
        "GET /graphql HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: graphql-transport-ws\r\n"
        "\r\n"
    )
    sock.sendall(request.encode("ascii"))
    response = b""
    while b"\r\n\r\n" not in response:
        sock.settimeout(deadline.left() or 0.001)
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("connection ended during the handshake")
        response += chunk
    head, rest = response.split(b"\r\n\r\n", 1)
    status = head.split(b"\r\n", 1)[0]
    if b" 101 " not in status + b" ":
        raise RuntimeError(f"handshake refused: {status.decode('latin-1')}")
    return rest


def flood(sock, frames, deadline):
    """Sends the frames; returns (how many were sent whole, why sending stopped early or None)."""
    data = memoryview(b"".join(frames))
    frame_length = len(frames[0])
    offset = 0
    stopped = None
    sock.settimeout(2.0)
    while offset < len(data):
        if deadline.passed():
            stopped = "deadline"
            break
        try:
            offset += sock.send(data[offset : offset + SEND_CHUNK_BYTES])
        except socket.timeout:
            # The server stopped reading too (it closes the socket after a close it sent went unanswered).
            stopped = "server stopped reading"
            break
        except (BrokenPipeError, ConnectionResetError):
            stopped = "server closed"
            break
    return offset // frame_length, stopped


def main():
    port, token = int(sys.argv[1]), sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else DEFAULT_FRAMES
    id_bytes = int(sys.argv[4]) if len(sys.argv) > 4 else DEFAULT_ID_BYTES
    deadline = Deadline(DEADLINE_S)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Before connect: the window scale is agreed in the handshake and cannot grow afterwards.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
    sock.settimeout(deadline.left())
    sock.connect(("127.0.0.1", port))
    reader = FrameReader(sock, handshake(sock, port, deadline))

    sock.sendall(text_frame({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    while True:
        frame = reader.next(deadline)
        if frame is None:
            raise RuntimeError("no connection_ack")
        opcode, payload = frame
        if opcode == OPCODE_CLOSE:
            raise RuntimeError(f"closed before connection_ack: {payload!r}")
        if opcode == OPCODE_TEXT and json.loads(payload)["type"] == "connection_ack":
            break

    # Ids of equal length make every frame the same size, so bytes sent tell frames sent.
    frames = [
        text_frame({"id": f"{index:08d}".ljust(id_bytes, "-"), "type": "subscribe", "payload": {"query": QUERY}})
        for index in range(count)
    ]
    started = time.monotonic()
    sent, stopped = flood(sock, frames, deadline)
    flood_s = time.monotonic() - started
    time.sleep(min(SETTLE_S, deadline.left()))
    print(json.dumps({"flooded": sent}), flush=True)

    ready, _, _ = select.select([sys.stdin], [], [], deadline.left())
    if ready:
        sys.stdin.readline()

    answers = answer_bytes = 0
    close_code = close_reason = close_after_s = None
    while True:
        frame = reader.next(deadline, QUIET_S)
        if frame is None:
            break
        opcode, payload = frame
        if opcode == OPCODE_TEXT:
            answers += 1
            answer_bytes += len(payload)
        elif opcode == OPCODE_PING:
            continue
        elif opcode == OPCODE_CLOSE:
            close_after_s = time.monotonic() - started
            if len(payload) >= 2:
                close_code = struct.unpack("!H", payload[:2])[0]
                close_reason = payload[2:].decode("utf-8", "replace")
            try:
                sock.settimeout(1.0)
                sock.sendall(client_frame(OPCODE_CLOSE, payload[:2]))
            except OSError:
                pass
            break
    sock.close()
    print(
        json.dumps(
            {
                "sent": sent,
                "send_stopped": stopped,
                "flood_s": round(flood_s, 3),
                "answers": answers,
                "answer_bytes": answer_bytes,
                "close_code": close_code,
                "close_reason": close_reason,
                "close_after_s": None if close_after_s is None else round(close_after_s, 3),
                "connection_ended": reader.ended,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
