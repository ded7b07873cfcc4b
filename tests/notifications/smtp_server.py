"""A real SMTP server in the test process that can be told to misbehave at any step.

Each fault is used once, in the order planned: ``server.plan("RCPT", "451 4.3.0 Try again later")``
makes the next RCPT TO get that answer and the one after it succeed. An action is a reply line
to send instead of the normal one (a 421 also closes the connection, as RFC 5321 says), or
DROP, which closes the connection without a word.

Steps: EHLO, MAIL, RCPT, DATA (the command, before any content), DATA-END (after the content,
before the reply: with DROP the server keeps the message but the client never hears so), QUIT.
"""

import socket
from collections import defaultdict, deque
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

DROP = "drop"


class Script:
    """What the server has been told to do, and what it has received."""

    def __init__(self):
        self._faults: dict[str, deque[str]] = defaultdict(deque)
        self.received = []
        self.greetings = 0

    def plan(self, step: str, *actions: str) -> None:
        self._faults[step].extend(actions)

    def take(self, step: str) -> str | None:
        faults = self._faults[step]
        return faults.popleft() if faults else None

    def message_ids(self) -> list[str]:
        return [email["Message-ID"] for email in self.received]

    def recipients(self) -> list[str]:
        return [email["To"] for email in self.received]


class _Handler:
    def __init__(self, script: Script):
        self.script = script

    async def handle_DATA(self, server, session, envelope):
        action = self.script.take("DATA-END")
        if action is None or action == DROP:
            self.script.received.append(message_from_bytes(envelope.original_content, policy=policy.default))
        if action == DROP:
            server.transport.close()
            return "250 OK"  # never reaches the client: the connection is closed
        if action is not None:
            if action.startswith("421"):
                server.transport.close()
            return action
        return "250 OK: queued"


class _MisbehavingSMTP(SMTP):
    def __init__(self, handler, script: Script, **kwargs):
        super().__init__(handler, **kwargs)
        self.script = script

    async def _misbehaved(self, step: str) -> bool:
        action = self.script.take(step)
        if action is None:
            return False
        if action != DROP:
            await self.push(action)
        if action == DROP or action.startswith("421"):
            self.transport.close()
        return True

    async def smtp_EHLO(self, arg):
        self.script.greetings += 1
        if not await self._misbehaved("EHLO"):
            await super().smtp_EHLO(arg)

    async def smtp_MAIL(self, arg):
        if not await self._misbehaved("MAIL"):
            await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg):
        if not await self._misbehaved("RCPT"):
            await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg):
        if not await self._misbehaved("DATA"):
            await super().smtp_DATA(arg)

    async def smtp_QUIT(self, arg):
        if not await self._misbehaved("QUIT"):
            await super().smtp_QUIT(arg)


class _Controller(Controller):
    def __init__(self, script: Script, port: int):
        super().__init__(_Handler(script), hostname="127.0.0.1", port=port)
        self.script = script

    def factory(self):
        return _MisbehavingSMTP(self.handler, self.script, **self.SMTP_kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer:
    """Start and stop a misbehaving server on one port; the script outlives restarts."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.script = Script()
        self._controller: _Controller | None = None

    def start(self) -> None:
        self._controller = _Controller(self.script, self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def plan(self, step: str, *actions: str) -> None:
        self.script.plan(step, *actions)

    @property
    def received(self):
        return self.script.received
