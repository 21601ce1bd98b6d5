"""Settings: environment variables, optionally a `dunbot.toml`; the environment wins.

Built once by the CLI or `create_app()` and passed down; nothing reads the environment at import.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from recovery.customers.facts import RatingConfig

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./dunbot.db"
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _toml_path() -> Path:
    return Path(os.environ.get("DUNBOT_CONFIG", "dunbot.toml"))


class Settings(BaseSettings):
    """Every setting of the contract in docs/architecture.md, validated once."""

    model_config = SettingsConfigDict(
        env_ignore_empty=True, extra="ignore", case_sensitive=False, env_file=None
    )

    environment: Literal["development", "production", "test", "demo"] = "development"
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"

    database_url: str = DEFAULT_DATABASE_URL

    stripe_api_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = None
    stripe_webhook_tolerance_s: int = 300

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_approvals_channel: str | None = None
    slack_vip_channel: str | None = None
    # Bursts: more than this many new drafts within the window are reviewed in batch messages
    # (one per group, Approve all N) instead of one card each; 0 turns batch review off.
    batch_review_threshold: int = Field(default=10, ge=0, le=100_000)
    batch_review_window_s: float = Field(default=300.0, gt=0, le=86_400)
    finance_approvers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    account_managers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    vip_claim_sla: float = 7200.0  # seconds; accepts '2h', '90m', '1d'

    vip_ltv_threshold: int = 500000
    vip_ltv_thresholds: dict[str, int] = Field(default_factory=dict)
    vip_invoice_threshold: int = 50000
    vip_plans: Annotated[list[str], NoDecode] = Field(default_factory=list)
    vip_tenure_months: int | None = Field(default=None, ge=1)
    vip_tenure_min_invoice: int = Field(default=0, ge=0)

    llm_provider: Literal["openai", "anthropic", "template"] = "template"
    llm_model: str | None = None
    llm_timeout_s: float = 30.0
    llm_concurrency: int = Field(default=8, ge=1, le=256)  # LLM calls in flight per process
    llm_requests_per_minute: int = Field(default=0, ge=0)  # shared by all workers; 0: no budget
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None

    email_backend: Literal["smtp", "file"] = "file"
    email_outbox_dir: Path = Path("./outbox")
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: Literal["starttls", "tls", "false"] = "starttls"
    email_from: str = "billing@example.com"
    email_reply_to: str | None = None
    company_name: str = "Example Inc."

    max_emails_per_invoice: int = 3
    min_days_between_emails: float = 3.0

    playbooks_file: Path | None = None  # default: ./playbooks.toml when present
    playbooks_dry_run: bool = False  # every rule posts "would have …" instead of acting
    stripe_read_only: bool | None = None  # None: rk_ keys count as read-only
    slack_alerts_channel: str | None = None  # default: the approvals channel
    slack_collections_channel: str | None = None  # default: the alerts channel
    team_email: str | None = None
    # Payment rating A–D: upper bounds for A, B, C (docs/playbooks.md, "Customer facts").
    customer_rating_delay_days: str = "5,15,30"
    customer_rating_failed_payments: str = "0,1,3"
    cancellation_survey_url: str | None = None  # https:// link in cancellation confirmations

    dashboard_token: SecretStr | None = None
    api_docs: bool = False  # serve /openapi.json, /docs and /redoc (off: they map the API)

    public_url: str | None = None  # where customers and Twilio reach dunbot
    dunning_channels: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["email"])
    sms_consent_field: str = "sms_consent"
    company_timezone: str = "UTC"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base: str = "https://api.twilio.com"
    teams_webhook_url: SecretStr | None = None
    task_webhook_url: str | None = None
    task_webhook_secret: SecretStr | None = None
    pay_link: Literal["invoice", "portal"] = "invoice"
    pay_link_secret: SecretStr | None = None  # signs /r/<token>; derived from STRIPE_API_KEY

    job_lease_s: float = 10.0  # a killed worker's job is taken over within seconds
    worker_poll_s: float = 0.5
    # Jobs one worker process runs at once; a job that waits (pacing, Retry-After) frees its slot.
    worker_concurrency: int = Field(default=16, ge=1, le=256)
    # `dunbot serve`'s worker: a supervised child process (the webhook keeps its CPU), or
    # `inline` in the web process (one process, less memory; as `dunbot demo` runs it)
    serve_worker: Literal["process", "inline"] = "process"

    @property
    def customer_rating(self) -> RatingConfig:
        """The payment rating's bounds (checked when the settings are read)."""
        return RatingConfig.parse(
            delay_days=self.customer_rating_delay_days,
            failed_payments=self.customer_rating_failed_payments,
        )

    @model_validator(mode="after")
    def _rating_bounds_read(self) -> Settings:
        self.customer_rating  # noqa: B018 - raises ValueError saying what to write
        return self

    @property
    def playbooks_path(self) -> Path | None:
        """PLAYBOOKS_FILE, else ./playbooks.toml when it exists, else none."""
        if self.playbooks_file is not None:
            return self.playbooks_file
        default = Path("playbooks.toml")
        return default if default.is_file() else None

    @property
    def alerts_channel(self) -> str | None:
        return self.slack_alerts_channel or self.slack_approvals_channel

    @property
    def collections_channel(self) -> str | None:
        return self.slack_collections_channel or self.alerts_channel

    @field_validator("finance_approvers", "account_managers", "vip_plans", mode="before")
    @classmethod
    def _split_user_ids(cls, value: Any) -> Any:
        """Accept 'U1, U2' from the environment as well as a list from the TOML file."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("dunning_channels", mode="before")
    @classmethod
    def _parse_channels(cls, value: Any) -> Any:
        """`DUNNING_CHANNELS=email,sms`: each one known, at least one."""
        names = value.split(",") if isinstance(value, str) else value
        names = [str(name).strip().lower() for name in names if str(name).strip()]
        if not names or any(name not in {"email", "sms"} for name in names):
            raise ValueError("DUNNING_CHANNELS must be email, sms or email,sms")
        return list(dict.fromkeys(names))

    @field_validator("company_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """An IANA zone name such as Europe/Berlin."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"COMPANY_TIMEZONE={value!r} is not an IANA time zone") from error
        return value

    @field_validator("vip_ltv_thresholds")
    @classmethod
    def _lowercase_currencies(cls, value: dict[str, int]) -> dict[str, int]:
        """Stripe's currency codes are lower case; accept `EUR = …` in dunbot.toml too."""
        return {currency.lower(): amount for currency, amount in value.items()}

    @field_validator("vip_claim_sla", mode="before")
    @classmethod
    def _parse_duration(cls, value: Any) -> Any:
        """`VIP_CLAIM_SLA=2h` / `90m` / `1d` / `7200` (seconds)."""
        if isinstance(value, str) and value.strip()[-1:].lower() in _DURATION_UNITS:
            number, unit = value.strip()[:-1], value.strip()[-1].lower()
            return float(number) * _DURATION_UNITS[unit]
        return value

    @field_validator("smtp_tls", mode="before")
    @classmethod
    def _normalise_tls(cls, value: Any) -> Any:
        """`SMTP_TLS=true` means STARTTLS, `false`/`0`/`no` means none."""
        if isinstance(value, bool):
            return "starttls" if value else "false"
        if isinstance(value, str) and value.lower() in {"true", "1", "yes"}:
            return "starttls"
        if isinstance(value, str) and value.lower() in {"0", "no", "off", "none"}:
            return "false"
        return value

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        """Use the async drivers for the plain URLs operators tend to paste."""
        for plain, driver in (
            ("postgres://", "postgresql+asyncpg://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("sqlite:///", "sqlite+aiosqlite:///"),
        ):
            if value.startswith(plain):
                return driver + value[len(plain) :]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Init kwargs, then environment, then `dunbot.toml` (environment wins)."""
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_toml_path())
        return (init_settings, env_settings, toml)
