"""In-memory fakes of dunbot's own protocols (Drafter, Mailer, Notifier) for domain tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from recovery.domain import DraftRequest, DraftResult, OutgoingEmail
from recovery.protocols import MailError


@dataclass
class StaticDrafter:
    """Returns the same safe draft; records every request."""

    requests: list[DraftRequest] = field(default_factory=list)

    async def draft(self, request: DraftRequest) -> DraftResult:
        self.requests.append(request)
        return DraftResult(
            subject="Your recent payment did not go through",
            body="We could not process your latest payment. Please update your card when you can.",
            source="template",
            provider="template",
            prompt_version="test",
        )


@dataclass
class ScriptedMailer:
    """Records sent emails; raises the scripted errors first, one per send."""

    sent: list[OutgoingEmail] = field(default_factory=list)
    errors: list[MailError] = field(default_factory=list)

    async def send(self, email: OutgoingEmail) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(email)


@dataclass
class RecordingNotifier:
    """Records each Notifier call as (method, id)."""

    calls: list[tuple[str, object]] = field(default_factory=list)

    async def sync_approval_card(self, *, draft_id: int) -> None:
        self.calls.append(("sync_approval_card", draft_id))

    async def sync_vip_task_card(self, *, task_id: int) -> None:
        self.calls.append(("sync_vip_task_card", task_id))

    async def sync_case_cards(self, *, case_id: int) -> None:
        self.calls.append(("sync_case_cards", case_id))

    async def escalate(self, *, case_id: int, note: str) -> None:
        self.calls.append(("escalate", case_id))

    async def remind_vip_task(self, *, task_id: int) -> None:
        self.calls.append(("remind_vip_task", task_id))

    async def sync_batch(self, *, batch_id: int) -> None:
        self.calls.append(("sync_batch", batch_id))

    async def sync_digest(self, *, digest_id: int) -> None:
        self.calls.append(("sync_digest", digest_id))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]
