"""Typed settings. Built by the caller (never at import time); every field reads ``BOT_<NAME>``.

``BOT_DATA_DIR`` moves every piece of state (index generations, the SQLite log store, caches), which is how tests point
the whole bot at ``tmp_path``.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOT_", extra="ignore")

    data_dir: Path = Field(ROOT / ".data", description="Where the index, the log database and caches live.")
    knowledge_dir: Path = Field(ROOT / "knowledge", description="Markdown procedures, forms.yaml and offices.yaml.")
    db_url: str | None = Field(None, description="SQLAlchemy URL of the log store; default sqlite in data_dir.")

    embedder: str = Field("use-multilingual", description="Registered embedder name.")
    embedder_model: str | None = Field(
        None, description="Model name or local path for the sentence-transformers backend."
    )
    embedder_threads: int = Field(1, ge=1, le=64, description="CPU threads one embedding call may use.")
    embedder_query_prefix: str = Field("", description="Prefix added to queries (e.g. '検索クエリ: ' for ruri-v3).")
    embedder_document_prefix: str = Field("", description="Prefix added to documents (e.g. '検索文書: ').")
    second_embedder: str = Field(
        "e5-small",
        description="Registered embedder for the languages the first covers poorly (empty: none); it ranks their "
        "questions against each document's names and summaries.",
    )
    second_embedder_langs: list[str] = Field(
        ["ko", "vi", "ne", "ne-Latn", "tl", "pt"], description="Message languages ranked by the second embedder."
    )

    chroma_host: str | None = Field(
        None,
        validation_alias=AliasChoices("BOT_CHROMA_HOST", "CHROMA_HOST"),
        description="Chroma server host; unset means embedded Chroma on disk.",
    )
    chroma_port: int = Field(8000, validation_alias=AliasChoices("BOT_CHROMA_PORT", "CHROMA_PORT"))

    stale_days: int = Field(365, ge=1, description="A document whose `checked` date is older than this is 'stale'.")
    dense_weight: float = Field(0.35, ge=0.0, le=1.0, description="Weight of the dense leg in score fusion.")
    chunk_tokens: int = Field(400, ge=50, description="Maximum tiktoken tokens per indexed chunk.")
    knowledge_poll_seconds: float = Field(
        10.0, gt=0, description="How often a node checks the database for knowledge published on another node."
    )
    keep_generations: int = Field(2, ge=1, description="Index generations kept on disk after a swap.")
    today: date | None = Field(None, description="Override today's date (tests, previews).")
    timezone: str = Field(
        "Asia/Tokyo", description="The ward's time zone: every date and time staff or parents see is in this zone."
    )

    # Web (used by web/, documented here so one class holds all configuration)
    host: str = Field("127.0.0.1", description="Web server bind address.")
    port: int = Field(8000, ge=1, le=65535, description="Web server port.")
    workers: int = Field(
        1, ge=1, le=64, description="Web server processes (each loads the bot; use one per core under load)."
    )
    forwarded_allow_ips: str = Field(
        "", description="Comma-separated proxy addresses whose X-Forwarded-For is believed; empty: none."
    )
    header_timeout: float = Field(10.0, gt=0, description="Seconds a connection may take to send a request's headers.")
    body_timeout: float = Field(15.0, gt=0, description="Seconds one chunk of a request body may take to arrive.")
    max_connections: int = Field(1000, ge=10, description="Concurrent connections per worker before 503.")
    rate_limit_per_minute: int = Field(30, ge=1, description="Chat requests per client per minute.")
    login_attempts_per_5min: int = Field(
        10, ge=1, description="Admin sign-in attempts per client address in 5 minutes."
    )
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed to call the API from a browser.")
    frame_ancestors: list[str] = Field(
        default_factory=lambda: ["*"], description="Origins allowed to embed /embed in an iframe (CSP frame-ancestors)."
    )
    secure_cookies: bool = Field(False, description="Mark admin cookies Secure (set when served over HTTPS).")
    curated_threshold: float = Field(
        0.6, gt=0.0, le=1.0, description="How similar a question must be to a curated answer's pattern to use it."
    )
    minutes_per_call: float = Field(6.0, ge=0, description="Staff minutes saved per answered question (EBPM estimate).")

    # Optional LINE channel (web/routes/line.py): POST /line/webhook exists only when both the token and secret are set
    line_channel_access_token: str | None = Field(
        None, description="LINE Messaging API channel access token (with the secret, enables POST /line/webhook)."
    )
    line_channel_secret: str | None = Field(
        None, description="LINE channel secret: checks X-Line-Signature and keys the hash LINE user ids are stored as."
    )
    line_api_base: str = Field(
        "https://api.line.me", description="LINE Messaging API base URL (tests point it at a local stub)."
    )

    # Optional LLM (OpenAI-compatible)
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint; unset means no LLM.")
    llm_model: str | None = Field(None, description="Model name at that endpoint.")
    llm_api_key: str | None = Field(None, description="API key for the endpoint.")
    llm_azure_endpoint: str | None = Field(None, description="Azure OpenAI endpoint (instead of base_url).")
    llm_azure_deployment: str | None = Field(None, description="Azure OpenAI deployment name.")
    llm_azure_api_version: str = Field("2024-10-21", description="Azure OpenAI API version.")
    llm_timeout: float = Field(
        20.0, gt=0, description="Seconds one request may wait for the LLM, whole stream included."
    )
    llm_max_concurrent: int = Field(
        4, ge=1, le=64, description="LLM streams at once; more requests get the composed answer at once."
    )
    llm_context_tokens: int = Field(8000, ge=1000, description="Token budget for the numbered sources.")

    @field_validator("data_dir", "knowledge_dir")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        return Path(v).expanduser().resolve()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"BOT_TIMEZONE={v!r} is not an IANA time zone name (for example 'Asia/Tokyo')") from e
        return v

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.embedder == "sentence-transformers" and not self.embedder_model:
            raise ValueError("BOT_EMBEDDER=sentence-transformers needs BOT_EMBEDDER_MODEL (a model name or local path)")
        if bool(self.line_channel_access_token) != bool(self.line_channel_secret):
            raise ValueError("BOT_LINE_CHANNEL_ACCESS_TOKEN and BOT_LINE_CHANNEL_SECRET must be set together")
        if self.llm_base_url and not self.llm_model:
            raise ValueError("BOT_LLM_BASE_URL is set but BOT_LLM_MODEL is not")
        return self

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.data_dir / 'bot.db'}"

    @property
    def llm_enabled(self) -> bool:
        return bool((self.llm_base_url or self.llm_azure_endpoint) and (self.llm_model or self.llm_azure_deployment))

    @property
    def line_enabled(self) -> bool:
        return bool(self.line_channel_access_token and self.line_channel_secret)

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    def now(self) -> datetime:
        """The ward's wall-clock time (aware). The host usually runs UTC; the ward does not."""
        return datetime.now(self.tz)

    def current_date(self) -> date:
        """Today in the ward's time zone, not the host's: at 20:00 UTC it is already tomorrow in Tokyo."""
        return self.today or self.now().date()
