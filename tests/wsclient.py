"""The websocket client for tests and benches: simple_websocket's Client, minus its one race.

Our /ws sends `hello` the moment the handshake is done. When the client's first read comes late (a busy
machine), the server's 101 answer and that first frame arrive in ONE recv(): simple_websocket's
Client.handshake hands both bytes to wsproto, takes the AcceptConnection and returns, leaving the
frame parsed-but-unread inside wsproto. Its reader thread then blocks in recv() and only looks at
wsproto's events again after the NEXT bytes arrive: the hello "does not arrive" until the client sends
something or the server's ping comes 25 s later (seen in CI as a 5 s / 15 s wait for hello timing out).
Browsers do not have this problem; only this test client does. Here the handshake hands whatever came
with the 101 to the message buffer before the reader thread starts.
"""

from __future__ import annotations

import simple_websocket


class Client(simple_websocket.Client):
    def handshake(self):
        super().handshake()
        # Before the reader thread exists, so nothing else touches wsproto yet. Frames that came with
        # the 101 land in input_buffer (and a close or ping is answered) as if the reader had read them.
        self._handle_events()


def connect(url: str, **kw) -> Client:
    return Client.connect(url, **kw)
