"""Users, passwords, tokens, sessions, the login limits and the audit log (rollout.web.accounts,
logins, audit), the migration to schema version 3 on both backends, and ``rollout users``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from rollout.cli import cli
from rollout.config import load_config
from rollout.register.store import open_register
from rollout.web.accounts import AccountError, add_user, issue_token, list_users, reset_password, revoke_tokens, set_disabled, token_user
from rollout.web.audit import audit, audit_entries
from rollout.web.logins import check_login, close_session, open_session, session_user
from rollout.web.settings import WebSettings

SETTINGS = WebSettings(lockout_after=3, ip_attempts=6)


@pytest.fixture
def register(data_dir: Path, register_db: str):
    with open_register(load_config(data_dir), register_db, create=True) as opened:
        yield opened


def test_users_roles_and_organisations(data_dir: Path, register) -> None:
    config = load_config(data_dir)
    street_user, one_time = add_user(register, config, "zhang", "street", street="长寿路")
    assert street_user.street_code == "310107015000" and one_time and len(one_time) >= 16 and street_user.must_change_password
    operator_user, none = add_user(register, config, "li", "operator", operator="中国移动", password="a-long-password")
    assert operator_user.operator == "cmcc" and none is None and not operator_user.must_change_password
    for args, key in [
        (("zhang", "viewer"), "web.account.exists"),
        (("x y", "viewer"), "web.account.bad_name"),
        (("x", "boss"), "web.account.bad_role"),
        (("x", "street"), "web.account.street_needed"),
        (("x", "operator"), "web.account.operator_needed"),
    ]:
        with pytest.raises(AccountError) as caught:
            add_user(register, config, *args)
        assert caught.value.key == key
    with pytest.raises(AccountError, match="China Tower users have --role tower"):
        add_user(register, config, "t", "operator", operator="铁塔")
    with pytest.raises(AccountError, match="at least 10"):
        add_user(register, config, "v", "viewer", password="short")
    table = list_users(register)
    assert table["name"].tolist() == ["li", "zhang"] and table["role"].tolist() == ["operator", "street"]
    with register.read() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM users WHERE name = 'li'")).scalar()
    assert stored.startswith("$argon2id$") and "a-long-password" not in stored


def test_password_checks_lockout_and_rate_limit(data_dir: Path, register) -> None:
    config = load_config(data_dir)
    add_user(register, config, "zhang", "street", street="长寿路", password="right-password")
    assert check_login(register, SETTINGS, "zhang", "right-password", ip="10.0.0.1").user.name == "zhang"
    assert check_login(register, SETTINGS, "nobody", "whatever-pass", ip="10.0.0.1").reason == "wrong"
    for _ in range(2):
        assert check_login(register, SETTINGS, "zhang", "wrong-password", ip="10.0.0.2").reason == "wrong"
    locked = check_login(register, SETTINGS, "zhang", "wrong-password", ip="10.0.0.2")
    assert locked.reason == "locked" and locked.until > dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert check_login(register, SETTINGS, "zhang", "right-password", ip="10.0.0.3").reason == "locked"  # even the right one
    reset_password(register, "zhang", password="right-password")
    assert check_login(register, SETTINGS, "zhang", "right-password", ip="10.0.0.3").user is not None
    # One address with too many failures waits, whichever the names.
    for n in range(6):
        check_login(register, SETTINGS, f"guess{n}", "x" * 10, ip="10.9.9.9")
    assert check_login(register, SETTINGS, "zhang", "right-password", ip="10.9.9.9").reason == "too_many"
    set_disabled(register, "zhang", True)
    assert check_login(register, SETTINGS, "zhang", "right-password", ip="10.0.0.4").reason == "disabled"


def test_sessions_end_on_logout_disable_and_reset(data_dir: Path, register) -> None:
    config = load_config(data_dir)
    user, _ = add_user(register, config, "zhang", "street", street="长寿路", password="right-password")
    secret, session = open_session(register, SETTINGS, user, ip="127.0.0.1")
    assert session_user(register, secret).user.name == "zhang" and session_user(register, secret).csrf_token == session.csrf_token
    with register.read() as conn:
        assert conn.execute(sa.text("SELECT session_hash FROM sessions")).scalar() != secret  # only a hash is kept
    close_session(register, secret)
    assert session_user(register, secret) is None
    secret, _ = open_session(register, SETTINGS, user, ip="127.0.0.1")
    set_disabled(register, "zhang", True)
    assert session_user(register, secret) is None
    set_disabled(register, "zhang", False)
    secret, _ = open_session(register, SETTINGS, user, ip="127.0.0.1")
    reset_password(register, "zhang")
    assert session_user(register, secret) is None
    assert session_user(register, "forged") is None


def test_tokens_expire_and_are_revoked(data_dir: Path, register) -> None:
    config = load_config(data_dir)
    add_user(register, config, "sync", "operator", operator="电信", password="right-password")
    token, expires = issue_token(register, "sync", days=30)
    assert token.startswith("rlt_") and (expires - dt.datetime.now(dt.UTC).replace(tzinfo=None)).days in (29, 30)
    assert token_user(register, token)[0].operator == "ctc"
    with register.read() as conn:
        assert conn.execute(sa.text("SELECT token_hash FROM api_tokens")).scalar() != token
    assert token_user(register, token + "x") == (None, "unknown")
    with register.write() as conn:
        conn.execute(sa.text("UPDATE api_tokens SET expires_at = :t"), {"t": dt.datetime(2020, 1, 1)})
    assert token_user(register, token) == (None, "expired")
    second, _ = issue_token(register, "sync", days=1)
    set_disabled(register, "sync", True)
    assert token_user(register, second) == (None, "disabled")
    set_disabled(register, "sync", False)
    assert revoke_tokens(register, "sync") == 2
    assert token_user(register, second) == (None, "revoked")


def test_audit_log(data_dir: Path, register) -> None:
    audit(register, "wang", "publish", target="2024-W26", ip="10.1.1.1", detail={"folder": "maps/2024-W26"})
    audit(register, "zhang", "edit", target="garage/PT-GA-013", detail={"fields": ["status"]})
    entries = audit_entries(register)
    assert entries[["user_name", "action", "target"]].values.tolist() == [
        ["zhang", "edit", "garage/PT-GA-013"],
        ["wang", "publish", "2024-W26"],
    ]
    assert entries["detail"].iloc[1] == '{"folder": "maps/2024-W26"}'
    assert audit_entries(register, action="publish")["user_name"].tolist() == ["wang"]
    with pytest.raises(ValueError, match="unknown audit action"):
        audit(register, "x", "hack")


def test_migration_from_schema_2(data_dir: Path, register_db: str) -> None:
    from rollout.register.db import connect, resolve_target
    from rollout.register.schema import SCHEMA_VERSION, create_schema

    target = resolve_target(data_dir, register_db)
    engine = connect(target, write=True, timeout_s=5)
    with engine.begin() as conn:
        create_schema(conn, version=2, postgres=target.is_postgres)
        names = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert "users" not in names and "snapshots" in names
    with open_register(load_config(data_dir), register_db) as register:
        with register.read() as conn:
            assert conn.execute(sa.text("SELECT MAX(version) FROM schema_version")).scalar() == SCHEMA_VERSION == 3
            tables = set(sa.inspect(conn).get_table_names())
        assert {"users", "api_tokens", "sessions", "login_attempts", "audit_log", "staged_uploads"} <= tables
        add_user(register, load_config(data_dir), "wang", "district", password="right-password")
        assert list_users(register)["name"].tolist() == ["wang"]


def test_users_command(data_dir: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "register.sqlite")

    def run(*args: str, stdin: str | None = None):
        return CliRunner().invoke(cli, ["--data", str(data_dir), "--db", db, "--lang", "zh", "users", *args], input=stdin)

    added = run("add", "zhang", "--role", "street", "--street", "长寿路")
    assert added.exit_code == 0, added.output
    assert "已添加用户 zhang（街道）" in added.output and "一次性密码：" in added.output
    assert run("add", "li", "--role", "operator", "--operator", "移动", "--password-stdin", stdin="a-long-password\n").exit_code == 0
    listing = run("list")
    assert "zhang" in listing.output and "310107015000" in listing.output and "运营商" in listing.output
    token = run("token", "li", "--days", "7")
    assert token.exit_code == 0 and token.stdout.strip().startswith("rlt_")
    assert "只显示这一次" in token.stderr
    assert "已吊销 li 的 1 个令牌" in run("token", "li", "--revoke").output
    assert "已停用 zhang" in run("disable", "zhang").output
    assert "已启用 zhang" in run("enable", "zhang").output
    reset = run("reset", "zhang")
    assert "一次性密码：" in reset.output
    unknown = run("disable", "nobody")
    assert unknown.exit_code == 2 and "没有用户 nobody" in unknown.output
    bad = run("add", "x", "--role", "street")
    assert bad.exit_code == 2 and "--street" in bad.output
    with open_register(load_config(data_dir), db) as register:
        actions = audit_entries(register)["action"].tolist()
    assert actions == ["password_reset", "user_enabled", "user_disabled", "token_revoked", "token_issued"]


def test_web_settings(data_dir: Path) -> None:
    from rollout.errors import ConfigError
    from rollout.web.settings import load_web_settings

    config = load_config(data_dir)
    assert load_web_settings(config) == WebSettings()
    with (data_dir / "rollout.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[web]\npacks = "out/packs"\nupload_max_mb = 5\nlockout_after = 3\n')
    settings = load_web_settings(config)
    assert settings.packs == Path("out/packs") and settings.upload_max_bytes == 5 * 1024 * 1024 and settings.lockout_after == 3
    assert dataclasses.replace(settings, packs=Path("x")).packs == Path("x")
    with (data_dir / "rollout.toml").open("a", encoding="utf-8") as handle:
        handle.write("sessions = 3\n")
    with pytest.raises(ConfigError, match="unknown settings: sessions"):
        load_web_settings(config)
