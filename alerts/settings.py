"""Process settings: environment (``ALERTS_*``, nested with ``__``) over a YAML file.

The YAML file is ``$ALERTS_CONFIG``, else ``./alerts.yaml`` when it exists. Channel URLs may
hold ``${ENV_VAR}`` references so secrets stay in the environment; they are kept as
``SecretStr`` and never logged except in Apprise's privacy form.

Each package owns its section (``delivery.settings``, ``notify.settings``, ``ingest.settings``,
...); this model composes them, and the processes hand each package only its part.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import redis
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from alerts.api.console.settings import ConsoleSettings
from alerts.delivery.settings import DeliverySettings
from alerts.envsecret import EnvSecret, resolving
from alerts.errors import ConfigError
from alerts.hints import did_you_mean, keys_beside
from alerts.ingest.health import SourceHealthSettings
from alerts.ingest.settings import NAME, SourceSettings
from alerts.notify.settings import NotifySettings
from alerts.observe.settings import LogFormat, LogSetup, MetricsSettings
from alerts.redis_conn import REDIS_SCHEMES, Durability, connect, is_sentinel
from alerts.rules.yamlsafe import YamlProblem, read_yaml
from alerts.settings_check import warn_unknown_variables

BROKER_SCHEMES = ("amqp://", "amqps://", "pyamqp://")


def _yaml_file() -> Path | None:
    explicit = os.environ.get("ALERTS_CONFIG")
    if explicit:
        return Path(explicit)
    default = Path("alerts.yaml")
    return default if default.exists() else None


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the settings file; lowest priority after the environment."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            data, _ = read_yaml(self.path.read_bytes())  # no aliases, no tags, a size cap
        except OSError as exc:
            raise ConfigError([f"{self.path}: cannot read settings file: {exc.strerror}"]) from exc
        except YamlProblem as exc:
            raise ConfigError([f"{self.path}:{exc.line}:{exc.col}: {exc.message}"]) from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ConfigError([f"{self.path}: the settings file must be a mapping"])
        return data


class WorkerSettings(BaseModel):
    """Celery/kombu tuning; production defaults, the tests lower them (see README, Reliability)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    concurrency: int = Field(
        default=2, ge=1, description="Processes per worker (solo workers, or prefork children)."
    )
    pool: Literal["solo", "prefork"] = Field(
        default="solo",
        description=(
            "solo: `alerts worker` runs `concurrency` one-process Celery workers under a"
            " supervisor that requeues a dead one's task at once; prefork: one Celery worker"
            " with `concurrency` pool children."
        ),
    )
    visibility_timeout: float = Field(
        default=900.0, gt=0, description="Seconds before an unacked task is redelivered."
    )
    restore_interval: int = Field(default=10, ge=1, description="Seconds between restore sweeps.")
    poll_tick: float = Field(default=10.0, gt=0, description="Seconds between source poll checks.")
    digest_tick: float = Field(default=30.0, gt=0, description="Seconds between digest checks.")
    reconcile_tick: float = Field(default=30.0, gt=0, description="Seconds between reconciles.")
    match_batch: int = Field(default=50, ge=1, description="Items per match task.")
    ingest_chunk: int = Field(
        default=500, ge=1, description="New items one ingest task hands on; a follow-up does more."
    )
    inline_deliveries: int = Field(
        default=4,
        ge=0,
        description="Deliveries a match step sends itself before queueing the rest (0: queue all).",
    )
    inline_budget_seconds: float = Field(
        default=2.0,
        ge=0,
        description="Seconds a match step spends on its own sends before queueing the rest "
        "(a slow channel holds matching up by one send at most).",
    )
    shards: int = Field(default=1, ge=1, le=64, description="Watch shards, one queue each.")
    item_languages: list[str] = Field(
        default_factory=list,
        description="Item languages (ISO 639-1) whose matcher views are built when rules load; "
        "another language's view is built by its first item (about 1.5 s at 100k watches).",
    )
    beat_lock_seconds: float = Field(
        default=60.0, gt=0, description="How long a dead beat's lock keeps the standby waiting."
    )
    word_cache_mib: float = Field(
        default=128.0,
        gt=0,
        description="MiB of keyed words each matching process remembers (all languages and "
        "compound parts together); a full cache starts over. A big shard may lower it "
        "(16 keeps a 250k-watch shard under 500 MB; items then cost more: docs/operations.md).",
    )


class Settings(BaseSettings):
    """Everything a process needs; validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="ALERTS_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    redis_url: str | None = Field(default=None, description="Unset: an embedded Redis (run).")
    broker_url: str | None = Field(default=None, description="Unset: the redis_url.")
    sentinel_master: str | None = Field(
        default=None, description="The Sentinel service name of sentinel:// URLs."
    )
    redis_replicas: int = Field(
        default=0,
        ge=0,
        le=16,
        description="Replicas that must hold an accepted bulletin and a delivery's claim before "
        "the API answers 202 or the message is sent (Redis WAIT): 1 with a Sentinel set.",
    )
    redis_replica_wait_ms: int = Field(
        default=500, ge=1, le=60_000, description="How long to WAIT for those replicas."
    )
    rules_from: Literal["dir", "redis"] = Field(
        default="dir", description="dir: rules_dir; redis: the set `alerts rules push` published."
    )
    rules_dir: Path = Field(default=Path("rules"), description="The watch rules' directory.")
    api_token: SecretStr | None = Field(
        default=None, description="Bearer token of the API (`alerts run` makes one when unset)."
    )
    api_host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    api_port: int = Field(default=8080, ge=0, le=65535, description="Port the API listens on.")
    max_body_bytes: int = Field(
        default=5 * 1024 * 1024, gt=0, description="Largest bulletin the API accepts."
    )
    max_bulletin_items: int = Field(
        default=5000, gt=0, description="Items one POST may carry; more is a 413."
    )
    api_publish_linger_ms: float = Field(
        default=40.0,
        ge=0,
        le=1000,
        description="Under load, small bulletins POSTed within this many ms of the API's last "
        "intake write share the next one and one ingest task (0: one task each), each POST "
        "waiting up to this long for it. A POST that comes when the API was quiet that long, or "
        "one from a connection back within 5 ms of its last answer, is written at once.",
    )
    api_publish_batch: int = Field(
        default=16, ge=1, le=500, description="Most bulletins one such write and task carry."
    )
    api_docs: bool = Field(default=False, description="Serve /docs and /openapi.json.")
    item_retention_days: float = Field(
        default=7.0, gt=0, description="How long item ids (and archived items) are remembered."
    )
    rules_reload_seconds: float = Field(
        default=2.0, gt=0, description="Seconds between checks of the rules directory."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level of the service processes."
    )
    log_format: LogFormat = Field(default="text", description="text or json (one object a line).")
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    source_health: SourceHealthSettings = Field(default_factory=SourceHealthSettings)
    channels: dict[str, list[EnvSecret]] = Field(
        default_factory=dict,
        description="Channel name to Apprise URLs; `${ENV}` references are expanded.",
    )
    sources: list[SourceSettings] = Field(
        default_factory=list, description="Sources the beat scheduler polls (see below)."
    )
    notify: NotifySettings = Field(default_factory=NotifySettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(REDIS_SCHEMES):
            raise ValueError("must start with " + ", ".join(REDIS_SCHEMES))
        return value

    @field_validator("broker_url")
    @classmethod
    def _broker_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(REDIS_SCHEMES + BROKER_SCHEMES):
            raise ValueError("must start with " + ", ".join(REDIS_SCHEMES + BROKER_SCHEMES))
        return value

    @model_validator(mode="after")
    def _sentinel_needs_master(self) -> Settings:
        urls = (self.redis_url or "", self.broker_url or "")
        if any(is_sentinel(u) for u in urls) and not self.sentinel_master:
            raise ValueError("a sentinel:// URL needs sentinel_master (the service name)")
        return self

    @field_validator("channels", mode="before")
    @classmethod
    def _channels(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[str, list[Any]] = {}
        for name, urls in value.items():
            if not isinstance(name, str) or not NAME.match(name):
                raise ValueError(f"channel name {name!r} must be letters, digits, '_', '.', '-'")
            items = [urls] if isinstance(urls, str) else urls
            if (
                not isinstance(items, list)
                or not items
                or not all(isinstance(u, str) for u in items)
            ):
                raise ValueError(f"channel {name!r} needs one or more Apprise URLs (strings)")
            out[name] = items
        return out

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, value: list[SourceSettings]) -> list[SourceSettings]:
        seen: set[str] = set()
        for src in value:
            if src.id in seen:
                raise ValueError(f"duplicate source id {src.id!r}")
            seen.add(src.id)
        return value

    @model_validator(mode="after")
    def _ops_channel(self) -> Settings:
        ops = self.source_health.channel
        if ops is not None and ops not in self.channels:
            raise ValueError(f"source_health.channel {ops!r} is not one of the channels")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls, _yaml_file()))

    def source(self, source_id: str) -> SourceSettings | None:
        """The configured source with this id, if any."""
        return next((src for src in self.sources if src.id == source_id), None)

    def solo_broker(self) -> str | None:
        """The broker's URL where workers run solo (a plain Redis: ``redis://``, ``rediss://``,
        whose transport is ours: its QoS notes each held message for the supervisor's requeue),
        else None. On Sentinel (kombu's own transport) a dead solo worker's task would wait for
        the visibility timeout, and on RabbitMQ a solo worker sends no heartbeats while a task
        runs: both keep the prefork pool."""
        url = self.broker_url or self.redis_url or ""
        return url if url.startswith(("redis://", "rediss://")) else None

    def redis_client(self, **options: Any) -> redis.Redis:
        """A client on our stores' Redis (the Sentinel set's master for ``sentinel://``)."""
        if not self.redis_url:
            raise ConfigError(["setting redis_url: needed here (ALERTS_REDIS_URL)"])
        return connect(self.redis_url, sentinel_master=self.sentinel_master, **options)

    def durability(self) -> Durability:
        """The replicas a write must reach before we promise anything on it (see redis_conn)."""
        return Durability(self.redis_replicas, self.redis_replica_wait_ms)

    def channel_urls(self, name: str) -> list[str]:
        """The secret Apprise URLs of one channel (never log these)."""
        return [u.get_secret_value() for u in self.channels[name]]

    def channel_map(self) -> dict[str, list[str]]:
        """Every channel's secret Apprise URLs, by name (what the notifier is built from)."""
        return {name: self.channel_urls(name) for name in self.channels}

    def all_channel_urls(self) -> tuple[str, ...]:
        """Every channel URL (what delivery scrubs from the errors it stores)."""
        return tuple(url for urls in self.channel_map().values() for url in urls)

    def log_setup(self) -> LogSetup:
        """What the log set-up needs: level, format and every secret no line may show."""
        password = urlsplit(self.redis_url or "").password
        keys = [src.secret.get_secret_value() for src in self.sources if src.secret]
        token = self.api_token.get_secret_value() if self.api_token else ""
        return LogSetup(
            level=self.log_level,
            format=self.log_format,
            secret_urls=self.all_channel_urls(),
            secrets=tuple(s for s in (*keys, token, password or "") if s),
        )


# ALERTS_* variables read outside the settings model, and what reads them.
OTHER_VARIABLES = {
    "ALERTS_CONFIG": "the settings file to read (default `./alerts.yaml` when it exists)",
    "ALERTS_PURE_PYTHON": "`setup.py`: `1` skips building the matcher's compiled parts",
    "ALERTS_REQUIRE_EXTENSION": "the tests: `1` fails them when the compiled matcher is missing",
    "ALERTS_REQUIRE_RABBITMQ": "the tests: `1` fails (not skips) them when no RabbitMQ answers",
    "ALERTS_SHARD": "`alerts worker --shard K` sets it: the watch shard this worker holds",
    "ALERTS_TEST_AMQP_PORT": "the tests: the RabbitMQ port (default 5672)",
    "ALERTS_TEST_REDIS_URL": "the tests: the Redis database they may flush; under "
    "`make test`'s two pytest-xdist workers, the second flushes the database below it too",
    "ALERTS_UPDATE_GOLDEN": "the tests: `1` rewrites the golden files",
}


def load_settings(*, resolve_secrets: bool = True, **overrides: Any) -> Settings:
    """Build and validate the settings, or raise ``ConfigError`` with one line per problem.

    ``resolve_secrets=False`` leaves ``${ENV}`` references unexpanded (channel names suffice).
    Unknown ``ALERTS_*`` variables are logged as warnings, with a "did you mean".
    """
    warn_unknown_variables(os.environ, Settings, OTHER_VARIABLES)
    try:
        with resolving(resolve_secrets):
            return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_problems(exc)) from None


def _problems(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"]) or "settings"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key" + did_you_mean(
                str(err["loc"][-1]), keys_beside(Settings, err["loc"])
            )
        lines.append(f"setting {loc}: {msg}")
    return lines
