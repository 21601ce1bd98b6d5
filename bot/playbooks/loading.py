"""The configured rules file, loaded once at start-up, and the checks that refuse to start."""

from __future__ import annotations

from pathlib import Path

import bot.playbooks
from bot.settings import Settings
from recovery.playbooks.loader import PlaybookInvalid, Problem, load_playbook_file
from recovery.playbooks.rules import EMPTY_PLAYBOOK, Mode, Playbook


class PlaybookRefused(ValueError):
    """The rules file is valid but cannot run with this configuration (e.g. a read-only key)."""


def load_configured_playbook(settings: Settings) -> Playbook:
    """PLAYBOOKS_FILE (or ./playbooks.toml), checked; the empty playbook when there is none.

    Raises PlaybookInvalid (every problem with its line) or PlaybookRefused.
    """
    path = settings.playbooks_path
    if path is None:
        return EMPTY_PLAYBOOK
    if not path.is_file():
        raise PlaybookInvalid(
            [Problem("the file does not exist (check PLAYBOOKS_FILE)")], source=str(path)
        )
    playbook = load_playbook_file(path)
    refused = write_refusals(playbook, settings)
    if refused:
        raise PlaybookRefused("\n".join(refused))
    return playbook


def key_is_read_only(settings: Settings) -> bool:
    """STRIPE_READ_ONLY=true; unset, a restricted key (rk_…) counts as read-only (dunbot
    cannot see its permissions): STRIPE_READ_ONLY=false says it was given write access."""
    if settings.stripe_read_only is not None:
        return settings.stripe_read_only
    key = settings.stripe_api_key.get_secret_value() if settings.stripe_api_key else ""
    return key.startswith("rk_")


def required_write_permissions(playbook: Playbook) -> dict[str, list[str]]:
    """Stripe write permissions the enabled live rules need → the rules needing each."""
    needed: dict[str, list[str]] = {}
    for rule in playbook.rules:
        if not rule.enabled or rule.mode is Mode.DRY_RUN:
            continue
        for permission in rule.writes_to_stripe:
            needed.setdefault(permission, []).append(rule.name)
    return needed


def write_refusals(playbook: Playbook, settings: Settings) -> list[str]:
    """With a read-only key, one message per enabled rule that writes to Stripe."""
    if not key_is_read_only(settings) or settings.playbooks_dry_run:
        return []
    messages = []
    for permission, rules in sorted(required_write_permissions(playbook).items()):
        for name in rules:
            messages.append(
                f'rule "{name}" writes to Stripe ({permission}: write) but the Stripe key '
                "may only read: give the key that permission and set STRIPE_READ_ONLY=false, "
                'switch the rule off (enabled = false) or use mode = "dry-run"'
            )
    return messages


def playbook_check(settings: Settings) -> tuple[list[str], list[str]]:
    """For `dunbot check`: (notes, problems) about the rules file and the Stripe permissions
    its enabled rules need."""
    path = settings.playbooks_path
    if path is None:
        return ["playbooks: none (no PLAYBOOKS_FILE, no ./playbooks.toml)"], []
    try:
        playbook = load_playbook_file(path) if path.is_file() else None
    except PlaybookInvalid as invalid:
        return ["playbooks: FAILED"], [invalid.report()]
    if playbook is None:
        return ["playbooks: FAILED"], [f"PLAYBOOKS_FILE {path} does not exist."]
    enabled = sum(1 for rule in playbook.rules if rule.enabled)
    notes = [f"playbooks: {path}, {len(playbook.rules)} rule(s), {enabled} enabled"]
    needed = required_write_permissions(playbook)
    read_only = key_is_read_only(settings)
    for permission, names in sorted(needed.items()):
        state = "MISSING (read-only key)" if read_only else "needed"
        notes.append(f"  Stripe write permission {permission}: {state} — " + "; ".join(names))
    problems = write_refusals(playbook, settings)
    return notes, problems


def example_playbooks_path() -> Path | None:
    """`playbooks.example.toml`: packaged next to this module, or at the repository root."""
    here = Path(bot.playbooks.__file__).parent
    for candidate in (here / "playbooks.example.toml", here.parents[1] / "playbooks.example.toml"):
        if candidate.is_file():
            return candidate
    return None
