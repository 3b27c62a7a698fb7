"""Settings: one object, every field an environment variable (``GAS_*``).

README's "Settings" table lists them with their defaults; keep the two in step.
"""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GAS_", extra="ignore", populate_by_name=True)

    data_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("GAS_DATABASE_URL", "DATABASE_URL")
    )
    backend: Literal["local", "aws"] = "local"
    host: str = "127.0.0.1"
    port: int = 5000
    public_url: str = "http://127.0.0.1:5000"
    secret_key: str | None = None
    cookie_secure: bool = Field(
        default=True,
        validation_alias=AliasChoices("GAS_COOKIE_SECURE", "QUART_AUTH_COOKIE_SECURE"),
    )
    # How long a log-in lasts (the cookie, and the session row behind it).
    session_days: int = Field(default=30, ge=1)
    # Failed log-ins allowed in a sliding window, per account from one client address and
    # per client address; past the per-account ceiling (from anywhere) the account takes
    # one attempt every login_slowdown_seconds instead (app/accounts/login_limits.py).
    login_failures_per_account_and_ip: int = Field(default=10, ge=1)
    login_failures_per_ip: int = Field(default=50, ge=1)
    login_failures_per_account: int = Field(default=100, ge=1)
    login_slowdown_seconds: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    # How long a mailed link works: confirming an address (sign-up, a new email), and
    # resetting a password (short: it opens the account). Links a person may be sent
    # per purpose and hour, so that no one can fill an inbox from the forms.
    verify_link_seconds: int = Field(default=24 * 3600, ge=60)
    reset_link_seconds: int = Field(default=3600, ge=60)
    links_per_hour: int = Field(default=5, ge=1)
    # Proxies in front that append to X-Forwarded-For and set X-Forwarded-Proto: 1
    # behind the AWS load balancer. 0 trusts none: without a proxy those headers are
    # whatever the client chose to send. The client's address (log-in limits) and the
    # request's scheme follow from it; links are made from public_url alone.
    trusted_proxy_hops: int = Field(default=0, ge=0)
    # Live-event streams (/events) one user may hold open in one web process: a few
    # tabs in a few browsers. A new one beyond it closes that user's oldest.
    max_event_streams_per_user: int = Field(default=20, ge=1)
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"

    free_max_input_bytes: int = 153_600
    max_input_bytes: int = 5 * 1024**3
    # What the annotator reads of one input, per plan, enforced while it streams: a
    # small upload can be a bomb (145 KB of gzip held 3M records; 153 KB, a 150 MiB
    # header line). Free limits are a small multiple of the 150 KB upload; Premium
    # ones are large but finite, so no file can hold an annotator for ever.
    # Inflated bytes. Free: 10x the upload, more than gzip makes of real VCF text
    # (4-8x). Premium: ~13x the 5 GiB upload, as far as a scratch disk that holds
    # the output (as large, uncompressed) should go.
    free_max_decompressed_bytes: int = Field(default=1_536_000, ge=1)
    premium_max_decompressed_bytes: int = Field(default=64 * 1024**3, ge=1)
    # Records. Free: what 1,536,000 bytes of the shortest real records (~30 bytes)
    # hold. Premium: above the ~85M sites of 1000 Genomes phase 3 (a 5M-variant job
    # takes ~35 s here: 100M, ~12 min).
    free_max_records: int = Field(default=50_000, ge=1)
    premium_max_records: int = Field(default=100_000_000, ge=1)
    # One line, in bytes. 1000 Genomes lines (2,504 samples) are ~20-80 KB. Free:
    # 3x the widest. Premium: room for ~500,000 samples with a few FORMAT fields.
    free_max_line_bytes: int = Field(default=256 * 1024, ge=1)
    premium_max_line_bytes: int = Field(default=32 * 1024**2, ge=1)
    # The header (meta lines and #CHROM). A GRCh38 analysis-set header (~3,400
    # ##contig lines) is ~200 KB, a #CHROM line of 2,504 samples ~20 KB. Free:
    # 5x that. Premium: a #CHROM line of 500,000 sample names is ~5 MB.
    free_max_header_bytes: int = Field(default=1024**2, ge=1)
    premium_max_header_bytes: int = Field(default=64 * 1024**2, ge=1)
    # Header lines: 3x and 30x the GRCh38 analysis set's ~3,400 contigs; every
    # line is kept in memory until the output's header is written.
    free_max_header_lines: int = Field(default=10_000, ge=1)
    premium_max_header_lines: int = Field(default=100_000, ge=1)
    # Wall time of the engine on one job. Free: 50,000 records take under a second
    # here, so 60 s is room for a machine 50x busier. Premium: 100M records (~12 min)
    # or 64 GiB of wide genotype lines, with room for a busy machine.
    free_max_job_seconds: float = Field(default=60, gt=0)
    premium_max_job_seconds: float = Field(default=2 * 3600, gt=0)
    upload_expiry_seconds: int = 3600
    # Local store: an upload that has not become a job this long after its policy's
    # lifetime is deleted (on S3 a lifecycle rule does it, a day after the upload).
    upload_sweep_margin_seconds: int = Field(default=3600, ge=0)
    # Upload policies one user may be given an hour (each may store one object until
    # it expires). Free: 60 x 150 KB; the upload page asks for one per view and per
    # change of its options. Premium: ten times that.
    free_max_uploads_per_hour: int = Field(default=60, ge=1)
    premium_max_uploads_per_hour: int = Field(default=600, ge=1)
    download_expiry_seconds: int = 300

    reference_dir: Path | None = None
    default_build: str = "auto"
    annotator_processes: int = 1
    annotator_concurrency: int = 2
    # The small lane (queue job-requests-small): inputs of up to small_job_bytes (unset:
    # free_max_input_bytes) have engine processes and job slots of their own, so a
    # small job never waits for an engine busy with a large one.
    small_job_bytes: int | None = Field(default=None, ge=0)
    annotator_small_processes: int = Field(default=1, ge=1)
    # One more than premium_max_running_jobs: a user at their cap cannot fill every slot.
    annotator_small_concurrency: int = Field(default=3, ge=1)
    # Per user and plan: unfinished jobs (pending + running), checked at submission,
    # and running jobs, checked by the annotator when it would start one.
    free_max_queued_jobs: int = Field(default=5, ge=1)
    premium_max_queued_jobs: int = Field(default=100, ge=1)
    free_max_running_jobs: int = Field(default=1, ge=1)
    premium_max_running_jobs: int = Field(default=2, ge=1)
    # A request whose user has their most jobs running goes back to its queue this late.
    annotator_defer_seconds: int = Field(default=5, ge=0, le=900)
    # On an auto-scaling group (deploy/gas.yaml turns it on): an annotator instance is
    # protected from scale-in while it has a job in hand (annotator/protection.py); its
    # id and group come from the instance metadata service (IMDSv2) at this address.
    annotator_scale_in_protection: bool = False
    instance_metadata_url: str = "http://169.254.169.254"

    queue_visibility_seconds: int = 60
    queue_max_receives: int = 5
    queue_wait_seconds: float = 20.0

    smtp_url: str | None = Field(
        default=None, validation_alias=AliasChoices("GAS_SMTP_URL", "SMTP_URL")
    )
    mail_from: str = "GAS <gas@localhost>"

    inputs_bucket: str = "gas-inputs"
    results_bucket: str = "gas-results"

    # The aws backend (GAS_BACKEND=aws). Credentials come from AWS's own chain
    # (AWS_* variables, instance role). Names match deploy/data-plane.yaml's defaults.
    aws_region: str = "us-east-1"
    # One endpoint for every service (moto, LocalStack); unset on real AWS.
    aws_endpoint_url: str | None = None
    jobs_table: str = "gas-jobs"
    # Topics and queues are "<prefix><name>", e.g. gas-job-requests and gas-job-requests-dlq.
    aws_name_prefix: str = "gas-"
    # Create and update topics, queues and subscriptions at start-up. Off: the
    # stack (`gas aws provision`) makes them, and processes need no rights to.
    aws_ensure_queues: bool = False
    # Where the cold tier puts free users' results: DEEP_ARCHIVE or GLACIER.
    aws_cold_storage_class: Literal["DEEP_ARCHIVE", "GLACIER"] = "DEEP_ARCHIVE"

    free_retention_seconds: int = 600
    local_restore_expedited_seconds: int = 60
    local_restore_standard_seconds: int = 300
    local_expedited_available: bool = True

    stripe_secret_key: str | None = Field(
        default=None, validation_alias=AliasChoices("GAS_STRIPE_SECRET_KEY", "STRIPE_SECRET_KEY")
    )
    stripe_webhook_secret: str | None = Field(
        default=None, validation_alias=AliasChoices("GAS_STRIPE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET")
    )
    stripe_price_id: str | None = Field(
        default=None, validation_alias=AliasChoices("GAS_STRIPE_PRICE_ID", "STRIPE_PRICE_ID")
    )
    # Another address for Stripe's API (stripe-mock, a test stand-in); unset = Stripe itself.
    stripe_api_base: str | None = None
    # What /subscribe says Premium costs in test mode (with Stripe, the Price's own amount):
    # in the currency's smallest unit, per interval ("" for a one-off payment).
    test_price_amount: int = 1000
    test_price_currency: str = "usd"
    test_price_interval: str = "month"

    # Sign-in with an OpenID Connect provider (Globus Auth, Google, Keycloak…) beside
    # local accounts; off while the issuer is unset.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid email profile"
    # The button's label: "Sign in with <name>".
    oidc_name: str = "OpenID Connect"

    @property
    def data_path(self) -> Path:
        return self.data_dir.resolve()

    def plan_max(self, name: str, premium: bool) -> Any:
        """A per-plan limit: ``plan_max("records", True)`` is ``premium_max_records``."""
        return getattr(self, f"{'premium' if premium else 'free'}_max_{name}")

    @property
    def small_job_limit(self) -> int:
        """The largest input that goes to the small lane."""
        return self.free_max_input_bytes if self.small_job_bytes is None else self.small_job_bytes

    @property
    def reference_path(self) -> Path:
        return (self.reference_dir or self.data_dir / "reference").resolve()

    @cached_property
    def secret(self) -> bytes:
        """The signing key for cookies and presigned URLs.

        Kept under the data dir when not given, so that a restart keeps sessions and
        outstanding upload/download links valid.
        """
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_path / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip().encode()
