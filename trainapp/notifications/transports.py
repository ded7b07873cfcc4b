"""Ways to hand a finished email to the world: a folder of .eml files, or SMTP."""

import smtplib
from email.message import EmailMessage
from pathlib import Path

from flask import current_app


class FileTransport:
    """Writes each message as an .eml file a person can open in a mail program."""

    def __init__(self, directory: str):
        self.directory = Path(directory)

    def send(self, message: EmailMessage, message_id: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{message_id:08d}.eml"
        partial = target.with_suffix(".eml.part")
        partial.write_bytes(bytes(message))
        partial.replace(target)


class SmtpTransport:
    def __init__(self, host: str, port: int, username: str, password: str, starttls: bool):
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls = starttls

    def send(self, message: EmailMessage, message_id: int) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


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
