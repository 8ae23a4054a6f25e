"""`ccf console user` in-process: adding, listing, removing users and setting passwords in
the users file ccf.toml names; what bad input gets; and that no password or hash is shown."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from ccf_cli import ccf
from ops.peer_thread import AGENTS  # agents li and wang

from ccdsl.cli.console import PASSWORD_ENV, Role
from ccdsl.runtime.operations.console_users import ROLES, load_users, password_ok

PASSWORD = "correct horse 42"


@pytest.fixture
def centre(tmp_path: Path) -> Path:
    (tmp_path / "agents.toml").write_text(AGENTS, encoding="utf-8")
    config = tmp_path / "ccf.toml"
    config.write_text('[agents]\nfile = "agents.toml"\n\n[console]\n'
                      'users = "private/console-users.json"\n', encoding="utf-8")
    return config


def _users_file(centre: Path) -> Path:
    return centre.parent / "private" / "console-users.json"


def _run(centre: Path, *args: str, password: str | None = PASSWORD, input: str | None = None):
    return ccf("console", "user", *args, "--config", str(centre), input=input,
               env={PASSWORD_ENV: password, "CCF_CONFIG": None})


def _shows_no_secret(result, users_file: Path) -> None:
    output = result.output
    assert PASSWORD not in output and "scrypt" not in output
    if users_file.exists():
        for user in load_users(users_file).values():
            assert user.password.split("$")[-1] not in output


def test_the_roles_are_the_users_files() -> None:
    assert tuple(r.value for r in Role) == ROLES


def test_help_says_what_it_is_for() -> None:
    result = ccf("console", "user", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "log in to the console" in text and PASSWORD_ENV in text
    assert "never give it on the command line" in text
    add_help = " ".join(ccf("console", "user", "add", "--help").stdout.split())
    assert "--password" not in add_help and "--role" in add_help


def test_add_an_agent_and_a_supervisor(centre: Path) -> None:
    result = _run(centre, "add", "li", "--role", "agent", "--name", "Li Na")
    assert result.exit_code == 0, result.output
    users_file = _users_file(centre)
    assert f"console user li (agent) added to {users_file}" in result.stdout
    result2 = _run(centre, "add", "boss", "--role", "supervisor", password="another pw 7")
    assert result2.exit_code == 0, result2.output
    users = load_users(users_file)
    assert {u.id: (u.role, u.name) for u in users.values()} == {
        "li": ("agent", "Li Na"), "boss": ("supervisor", "")}
    assert password_ok(users["li"], PASSWORD) and not password_ok(users["li"], "another pw 7")
    assert password_ok(users["boss"], "another pw 7")
    assert PASSWORD not in users_file.read_text(encoding="utf-8")
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    _shows_no_secret(result, users_file)


def test_the_password_is_asked_for_twice_without_echo(centre: Path) -> None:
    result = _run(centre, "add", "root", "--role", "admin", password=None,
                  input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1 and "Repeat for confirmation" in result.output
    assert password_ok(load_users(_users_file(centre))["root"], PASSWORD)
    _shows_no_secret(result, _users_file(centre))


def test_two_different_passwords_add_nobody(centre: Path) -> None:
    result = _run(centre, "add", "root", "--role", "admin", password=None,
                  input=f"{PASSWORD}\nsomething else\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert not _users_file(centre).exists()


def test_list_shows_id_role_name_and_never_the_hash(centre: Path) -> None:
    assert _run(centre, "add", "li", "--role", "agent", "--name", "Li Na").exit_code == 0
    assert _run(centre, "add", "root", "--role", "admin").exit_code == 0
    result = _run(centre, "list", password=None)
    assert result.exit_code == 0, result.output
    li = next(line for line in result.stdout.splitlines() if " li " in line)
    assert "agent" in li and "Li Na" in li
    assert "root" in result.stdout and "admin" in result.stdout
    _shows_no_secret(result, _users_file(centre))
    result = _run(centre, "list", "--format", "json", password=None)
    doc = json.loads(result.stdout)
    assert doc["users"] == [{"id": "li", "role": "agent", "name": "Li Na"},
                            {"id": "root", "role": "admin", "name": ""}]
    _shows_no_secret(result, _users_file(centre))


def test_list_without_a_users_file(centre: Path) -> None:
    result = _run(centre, "list")
    assert result.exit_code == 0
    assert "no console users" in result.stdout


def test_a_short_password_is_refused(centre: Path) -> None:
    result = _run(centre, "add", "root", "--role", "admin", password="short")
    assert result.exit_code == 2
    assert "error: a password needs at least 8 characters" in result.output
    assert not _users_file(centre).exists()


def test_an_agent_user_must_be_an_agent(centre: Path) -> None:
    result = _run(centre, "add", "zhou", "--role", "agent")
    assert result.exit_code == 2
    assert "'zhou' is not an agent" in result.output and "li, wang" in result.output
    assert not _users_file(centre).exists()
    # a supervisor need not be one
    assert _run(centre, "add", "zhou", "--role", "supervisor").exit_code == 0


@pytest.mark.parametrize(("args", "message"), [
    (("add", "root", "--role", "owner"), "'owner' is not one of"),
    (("add", "bad id!", "--role", "admin"), "is not a user id"),
    (("add", "root", "--role", "admin", "--password", PASSWORD), "No such option"),
])
def test_bad_input(centre: Path, args: tuple[str, ...], message: str) -> None:
    result = _run(centre, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not _users_file(centre).exists()


def test_adding_a_user_twice(centre: Path) -> None:
    assert _run(centre, "add", "li", "--role", "agent").exit_code == 0
    result = _run(centre, "add", "li", "--role", "agent", password="another pw 7")
    assert result.exit_code == 1
    assert "already a console user 'li'" in result.output
    assert password_ok(load_users(_users_file(centre))["li"], PASSWORD)


def test_remove(centre: Path) -> None:
    assert _run(centre, "add", "li", "--role", "agent").exit_code == 0
    assert _run(centre, "add", "wang", "--role", "agent").exit_code == 0
    result = _run(centre, "remove", "li", password=None)
    assert result.exit_code == 0, result.output
    assert "console user li removed" in result.stdout
    assert list(load_users(_users_file(centre))) == ["wang"]
    assert stat.S_IMODE(_users_file(centre).stat().st_mode) == 0o600
    result = _run(centre, "remove", "li")
    assert result.exit_code == 2 and "no console user 'li'" in result.output
    assert "`ccf console user list` lists them" in result.output


def test_password(centre: Path) -> None:
    assert _run(centre, "add", "li", "--role", "agent", "--name", "Li Na").exit_code == 0
    result = _run(centre, "password", "li", password="a new password")
    assert result.exit_code == 0, result.output
    user = load_users(_users_file(centre))["li"]
    assert password_ok(user, "a new password") and not password_ok(user, PASSWORD)
    assert (user.role, user.name) == ("agent", "Li Na")
    assert "a new password" not in result.output and "scrypt" not in result.output
    short = _run(centre, "password", "li", password="short")
    assert short.exit_code == 2 and "at least 8 characters" in short.output
    assert password_ok(load_users(_users_file(centre))["li"], "a new password")
    unknown = _run(centre, "password", "nobody")
    assert unknown.exit_code == 2 and "no console user 'nobody'" in unknown.output


def test_a_broken_users_file(centre: Path) -> None:
    _users_file(centre).parent.mkdir()
    _users_file(centre).write_text("{not json", encoding="utf-8")
    result = _run(centre, "list")
    assert result.exit_code == 2  # an input the command cannot use, as a broken ccf.toml
    assert "is not valid JSON" in result.output and "Traceback" not in result.output


def test_a_missing_config(tmp_path: Path) -> None:
    result = ccf("console", "user", "list", "--config", str(tmp_path / "nowhere.toml"),
                 env={"CCF_CONFIG": None})
    assert result.exit_code == 2
    assert "error:" in result.output


def test_a_bad_id_is_refused_before_the_password_is_asked_for(centre: Path) -> None:
    # no password in the environment and no input: a prompt would abort instead
    result = _run(centre, "add", "bad id!", "--role", "admin", password=None, input="")
    assert result.exit_code == 2 and "is not a user id" in result.output
    assert "Password" not in result.output


def test_the_users_files_path_and_the_user_id_are_escaped_on_the_terminal(tmp_path: Path) -> None:
    """A folder named with a terminal control sequence is shown escaped, never acted on."""
    folder = tmp_path / "centre\x1b]0;owned\x07"
    folder.mkdir()
    (folder / "agents.toml").write_text(AGENTS, encoding="utf-8")
    config = folder / "ccf.toml"
    config.write_text('[agents]\nfile = "agents.toml"\n\n[console]\n'
                      'users = "private/console-users.json"\n', encoding="utf-8")
    outputs = [_run(config, "list").output]
    outputs.append(_run(config, "add", "boss", "--role", "supervisor").output)
    outputs.append(_run(config, "list").output)
    outputs.append(_run(config, "password", "boss").output)
    outputs.append(_run(config, "remove", "boss").output)
    for output in outputs:
        assert "\x1b" not in output and "\x07" not in output, output
        assert "\\x1b]0;owned\\x07" in output, output
