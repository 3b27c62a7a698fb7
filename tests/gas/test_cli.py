"""The ``gas`` command's account operations, against a real database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
from click.testing import CliRunner

from app.jobs.lifecycle import JOB_REQUESTS, RESTORE_COMPLETE
from gas.cli import main
from tests.stripe_standin import PRICE, StripeStandIn, running_standin


def _gas(database_url: str, data_dir: Path, *args: str) -> str:
    env = {"GAS_DATABASE_URL": database_url, "GAS_DATA_DIR": str(data_dir)}
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _query(database_url: str, sql: str, *args: object) -> object:
    async def run() -> object:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_operator_upgrade_restores_like_a_payment(database_url: str, tmp_path: Path) -> None:
    """`gas users role E premium` records a subscription and announces user-upgraded once,
    so the restorer brings the user's archived results back; repeating it changes nothing."""
    made = json.loads(_gas(database_url, tmp_path, "users", "create", "op@example.org",
                           "--password", "correct-horse"))
    assert made["role"] == "free"
    assert _gas(database_url, tmp_path, "users", "role", "op@example.org", "premium").strip() == (
        "op@example.org: premium"
    )
    assert "already" in _gas(database_url, tmp_path, "users", "role", "op@example.org", "premium")
    user_id = made["user_id"]
    assert _query(database_url, "SELECT role FROM users WHERE user_id = $1::uuid", user_id) == "premium"
    assert _query(database_url, "SELECT count(*) FROM subscriptions WHERE user_id = $1::uuid"
                  " AND provider = 'operator' AND announced_at IS NOT NULL", user_id) == 1
    upgraded = ("SELECT count(*) FROM queue_messages"
                " WHERE queue = 'user-upgraded' AND body::jsonb->>'user_id' = $1")
    assert _query(database_url, upgraded, user_id) == 1
    _gas(database_url, tmp_path, "users", "role", "op@example.org", "free")
    assert _query(database_url, "SELECT role FROM users WHERE user_id = $1::uuid", user_id) == "free"


def test_operator_downgrade_cancels_in_stripe(database_url: str, tmp_path: Path) -> None:
    """`gas users role E free` for a user who pays through Stripe cancels the subscription in
    Stripe (no further charge) and ends Premium as a cancelled subscription does: free, the
    downgrade's time kept for the retention clock, the subscription marked ended."""
    made = json.loads(_gas(database_url, tmp_path, "users", "create", "payer@example.org",
                           "--password", "correct-horse", "--role", "premium"))
    _query(database_url, "INSERT INTO subscriptions (subscription_id, user_id, provider, reference,"
           " customer) VALUES (gen_random_uuid(), $1::uuid, 'stripe', 'sub_cli', 'cus_1')", made["user_id"])
    StripeStandIn.requests.clear()
    with running_standin() as stripe_api:
        env = {"GAS_DATABASE_URL": database_url, "GAS_DATA_DIR": str(tmp_path),
               "GAS_STRIPE_SECRET_KEY": "sk_test_standin", "GAS_STRIPE_PRICE_ID": PRICE,
               "GAS_STRIPE_API_BASE": stripe_api}
        result = CliRunner().invoke(main, ["users", "role", "payer@example.org", "free"], env=env,
                                    catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert [path for path, _ in StripeStandIn.requests] == ["/v1/subscriptions/sub_cli"]
    assert _query(database_url, "SELECT role FROM users WHERE user_id = $1::uuid", made["user_id"]) == "free"
    assert _query(database_url, "SELECT downgraded_at IS NOT NULL FROM users WHERE user_id = $1::uuid",
                  made["user_id"]) is True
    assert _query(database_url, "SELECT ended_at IS NOT NULL FROM subscriptions WHERE reference = 'sub_cli'"
                  ) is True


def test_queues_list_and_redrive(database_url: str, tmp_path: Path) -> None:
    """`gas queues list` shows dead letters; `gas queues redrive` sends them back; an
    unknown queue is refused with the names to choose from."""
    sent = ("INSERT INTO queue_messages (message_id, queue, body)"
            f" VALUES (gen_random_uuid(), '{RESTORE_COMPLETE}-dlq', $1)")
    _gas(database_url, tmp_path, "queues", "list")  # creates the queues
    _query(database_url, sent, json.dumps({"user_id": "x"}))
    listed = _gas(database_url, tmp_path, "queues", "list")
    assert any(line.split() == [RESTORE_COMPLETE, "0", "1"] for line in listed.splitlines())
    assert _gas(database_url, tmp_path, "queues", "redrive", RESTORE_COMPLETE).strip() == (
        f"1 message back on {RESTORE_COMPLETE}")
    listed = _gas(database_url, tmp_path, "queues", "list")
    assert any(line.split() == [RESTORE_COMPLETE, "1", "0"] for line in listed.splitlines())
    result = CliRunner().invoke(main, ["queues", "redrive", "nope"],
                                env={"GAS_DATABASE_URL": database_url, "GAS_DATA_DIR": str(tmp_path)})
    assert result.exit_code != 0 and JOB_REQUESTS in result.output


def test_annotator_roles_refuse_to_start_without_a_reference(tmp_path: Path) -> None:
    """`gas annotator` and `gas serve` (which runs the annotator) exit non-zero at once
    naming what to run, instead of starting and failing every job."""
    env = {"GAS_DATA_DIR": str(tmp_path), "GAS_REFERENCE_DIR": str(tmp_path / "no-reference")}
    for args in (["annotator"], ["serve", "--port", "1"]):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 1, result.output
        assert "the GRCh37 reference is not installed: run `gas reference install`" in result.stderr


def test_reference_install_refusal_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    """`gas reference install` with an operator's [[sequence]] it cannot use (a URL without
    its sha256) exits 1 with the reason, before downloading anything."""
    root = tmp_path / "reference"
    root.mkdir()
    (root / "tracks.toml").write_text('[[sequence]]\nbuild = "GRCh37"\nurl = "https://example.org/hg19.fa.gz"\n')
    env = {"GAS_DATA_DIR": str(tmp_path), "GAS_REFERENCE_DIR": str(root)}
    result = CliRunner().invoke(main, ["reference", "install"], env=env)
    assert result.exit_code == 1, result.output
    assert "a url needs its sha256" in result.stderr
    assert "Traceback" not in result.output
    assert not (root / "downloads").exists()
