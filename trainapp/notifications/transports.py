"""Ways to hand a finished email to the world: a folder of .eml files, or SMTP."""

import smtplib
from email.message import EmailMessage
from pathlib import Path

from flask import current_app


class TransportUnavailable(Exception):
    """The mail server could not be reached or would not start a session: the next message
    would fare the same, so a batch stops here and tries again on its next run."""


def failure_text(error: BaseException) -> str:
    """'ConnectionRefusedError: [Errno 111] Connection refused', from the cause when wrapped."""
    if isinstance(error, TransportUnavailable) and error.__cause__ is not None:
        error = error.__cause__
    return f"{type(error).__name__}: {error}"


class FileTransport:
    """Writes each message as an .eml file a person can open in a mail program."""

    def __init__(self, directory: str):
        self.directory = Path(directory)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def send(self, message: EmailMessage, message_id: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{message_id:08d}.eml"
        partial = target.with_suffix(".eml.part")
        partial.write_bytes(bytes(message))
        partial.replace(target)


class SmtpTransport:
    """One connection for a whole batch: opened when first needed, reused, opened afresh
    after a failure, closed at the end.

    ``send`` returns as soon as the server has accepted the message (250 after DATA); saying
    goodbye happens in ``close``, whose failures are nobody's business, so a server that is rude
    at QUIT cannot make an accepted message look unsent.
    """

    TIMEOUT_SECONDS = 30

    def __init__(self, host: str, port: int, username: str, password: str, starttls: bool):
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls = starttls
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def send(self, message: EmailMessage, message_id: int) -> None:
        smtp = self._connection()
        try:
            smtp.send_message(message)
        except BaseException:
            # After a refusal or a dropped line the session's state is unknown: start afresh.
            self._discard()
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            smtp.close()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None and self._still_open(self._smtp):
            return self._smtp
        self._discard()
        try:
            self._smtp = self._open()
        except (smtplib.SMTPException, OSError) as error:
            raise TransportUnavailable(failure_text(error)) from error
        return self._smtp

    def _open(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.TIMEOUT_SECONDS)
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls()
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    @staticmethod
    def _still_open(smtp: smtplib.SMTP) -> bool:
        """A server may close a connection left idle; find out before handing it a message."""
        try:
            return smtp.noop()[0] == 250
        except (smtplib.SMTPException, OSError):
            return False

    def _discard(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()


def configured_transport():
    """The transport named by MAIL_TRANSPORT."""
    config = current_app.config
    name = config["MAIL_TRANSPORT"]
    if name == "file":
        return FileTransport(config["MAIL_DIR"])
    if name == "smtp":
        return SmtpTransport(
            config["SMTP_HOST"],
            config["SMTP_PORT"],
            config["SMTP_USERNAME"],
            config["SMTP_PASSWORD"],
            config["SMTP_STARTTLS"],
        )
    raise ValueError(f"MAIL_TRANSPORT must be 'file' or 'smtp', not {name!r}")
