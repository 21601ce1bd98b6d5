"""Email delivery backends implementing the `Mailer` protocol.

- `mime.build_mime` renders an OutgoingEmail (stable Message-ID, text + HTML alternative).
- `smtp.SmtpMailer` delivers over SMTP and classifies failures as temporary, permanent or
  unknown (connection lost after the content was sent: never resend).
- `file.FileMailer` writes `.eml` files (demo, development); `file.list_outbox` reads them back.
- `factory.build_mailer` picks one by EMAIL_BACKEND (importing aiosmtplib only for SMTP).

Import the modules directly: this package imports none of them.
"""
