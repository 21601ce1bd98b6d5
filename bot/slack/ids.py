"""Action ids, callback ids and modal field ids, grouped per card or modal.

Handlers and builders share these members; a literal id string appears nowhere else.
"""

from __future__ import annotations

from enum import StrEnum


class ApprovalAction(StrEnum):
    """Buttons on an approval card (standard customer, draft email waiting for finance)."""

    APPROVE = "approval.approve"
    EDIT = "approval.edit"
    REGENERATE = "approval.regenerate"
    REJECT = "approval.reject"
    RETRY_SEND = "approval.retry_send"
    MARK_SENT = "approval.mark_sent"
    APPROVE_EMAIL = "approval.approve_email"  # with SMS on: this draft by email only
    APPROVE_SMS = "approval.approve_sms"  # with SMS on: this draft by SMS only


class VipAction(StrEnum):
    """Buttons on a VIP task card."""

    CLAIM = "vip.claim"
    RELEASE = "vip.release"
    DONE = "vip.done"


class BatchAction(StrEnum):
    """Buttons on a batch review message (a burst's drafts of one group)."""

    APPROVE_ALL = "batch.approve_all"
    REVIEW = "batch.review"
    REJECT_ALL = "batch.reject_all"
    # In the Review one by one modal: one draft of the batch, or another page of them.
    REVIEW_APPROVE = "batch.review.approve"
    REVIEW_EDIT = "batch.review.edit"
    REVIEW_REJECT = "batch.review.reject"
    REVIEW_PAGE = "batch.review.page"


class DeadJobAction(StrEnum):
    """Buttons on the alert of a dead job."""

    RETRY = "dead_job.retry"


class ModalCallback(StrEnum):
    """`callback_id` of each modal; the view_submission handler is registered on these."""

    EDIT_DRAFT = "modal.edit_draft"
    REGENERATE_DRAFT = "modal.regenerate_draft"
    REJECT_DRAFT = "modal.reject_draft"
    DONE_TASK = "modal.done_task"
    BATCH_REVIEW = "modal.batch_review"  # no submit: its buttons act, Close closes


class ModalField(StrEnum):
    """Base of modal input fields: the value is the `block_id`, `action_id` is derived."""

    @property
    def block_id(self) -> str:
        """The input block's `block_id` (the first key in `view.state.values`)."""
        return str(self.value)

    @property
    def action_id(self) -> str:
        """The input element's `action_id` (the second key in `view.state.values`)."""
        return f"{self.value}.input"


class EditDraftField(ModalField):
    """Inputs of the Edit modal."""

    SUBJECT = "edit_draft.subject"
    BODY = "edit_draft.body"


class RegenerateDraftField(ModalField):
    """Inputs of the Regenerate modal."""

    INSTRUCTION = "regenerate_draft.instruction"


class RejectDraftField(ModalField):
    """Inputs of the Reject modal."""

    REASON = "reject_draft.reason"


class DoneTaskField(ModalField):
    """Inputs of the VIP task Done modal."""

    NOTE = "done_task.note"


SLASH_COMMAND = "/dunning"
"""The one slash command (see slack-manifest.yml)."""
