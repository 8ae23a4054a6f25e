"""ccf.toml: the example, defaults, every problem reported with where and
how to fix it, secrets only from the environment, and `ccf config check`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from ccf_cli import ccf
from jsonschema import Draft202012Validator

from ccdsl.runtime.asterisk.config import ConfigError, load_config, schema
from ccdsl.runtime.core.crm.config import HttpConfig, SqliteConfig

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "iws" / "ccf.toml"
SECRET = "s3cr3t-value-never-shown"


def write(tmp_path: Path, text: str, name: str = "ccf.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path, environ: dict | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=environ or {})
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def test_the_schema_is_valid_json_schema():
    Draft202012Validator.check_schema(schema())


def test_the_iws_example_loads_with_paths_beside_it():
    config = load_config(EXAMPLE, environ={"CCF_AMI_SECRET": SECRET})
    here = EXAMPLE.parent
    assert (config.ami.host, config.ami.port, config.ami.user) == ("127.0.0.1", 5038, "ccf")
    assert config.ami.secret == SECRET and SECRET not in repr(config)
    assert (config.fastagi.host, config.fastagi.port) == ("127.0.0.1", 4573)
    assert config.flows_dir == str(here / "deployed")
    assert config.store_path == str(here / "calls.db")
    assert config.sounds_dir == str(here / "sounds")
    assert isinstance(config.crm, SqliteConfig) and config.crm.path == str(here / "crm.db")
    assert [a.id for a in config.agents.agents] == ["zhang", "li", "wang", "chen"]
    assert config.agents.interface == "PJSIP/{extension}"
    assert config.numbers == {"4008001234": "hotline"}
    assert config.shutdown_grace_s == 30.0
    assert config.fallback is not None and config.fallback.goto == "ccf-transfer,+862150001234,1"
    assert config.tts_command == ("espeak-ng", "-b", "1", "-v", "{voice}", "-w", "{out}",
                                  "--stdin")


def test_an_empty_file_works_with_defaults(tmp_path):
    config = load_config(write(tmp_path, ""), environ={})
    assert (config.ami.host, config.ami.port, config.ami.user) == ("127.0.0.1", 5038, "ccf")
    assert config.ami.secret_env == "CCF_AMI_SECRET" and config.ami.secret is None
    assert config.fastagi.url("hotline") == "agi://127.0.0.1:4573/hotline"
    assert config.flows_dir == str(tmp_path / "flows")
    assert config.store_path == str(tmp_path / "calls.db")
    assert config.tts_command is None and config.agents.agents == ()
    assert config.numbers == {} and config.fallback is None
    assert config.outbound_interface == "PJSIP/{number}@trunk"


def test_the_secret_comes_from_the_variable_the_file_names(tmp_path):
    path = write(tmp_path, """\
        [ami]
        secret_env = "PBX_SECRET"
        """)
    assert load_config(path, environ={"PBX_SECRET": SECRET}).ami.secret == SECRET
    assert load_config(path, environ={"CCF_AMI_SECRET": SECRET}).ami.secret is None


def test_a_secret_written_in_the_file_is_refused_without_echoing_it(tmp_path):
    path = write(tmp_path, f"""\
        [ami]
        user = "ccf"
        secret = "{SECRET}"
        secret_env = "PBX_SECRET"

        [crm]
        adapter = "http"
        base_url = "https://crm.example.com"
        token = "{SECRET}"
        [crm.operations.find_customer]
        url = "/c?phone={{phone}}"
        """)
    found = problems(path)
    assert len(found) == 2
    assert all(SECRET not in p for p in found)
    assert found[0].startswith(f"{path}: ami.secret: secrets are not written in the file")
    assert "environment variable PBX_SECRET" in found[0]
    assert found[1].startswith(f"{path}: crm.token:") and "crm.token_env" in found[1]


def test_every_problem_is_listed_with_where_and_how(tmp_path):
    path = write(tmp_path, """\
        [ami]
        port = 99999
        host = "bad host"
        colour = "blue"

        [fastagi]
        port = "4573"

        [numbers]
        "call-me" = "hotline"
        "4008001234" = "not a flow"

        [shutdown]
        grace = "soon"
        fallback = "0@bad context"

        [extras]
        x = 1
        """)
    found = problems(path)
    text = "\n".join(found)
    assert all(p.startswith(f"{path}: ") for p in found)
    assert "unknown section [extras]; the sections are [agents], [ami]" in text
    assert ("ami: unknown setting 'colour'; expected one of channel_idle, host, max_channels, "
            "port, secret_env, store_rate, timeout, user") in text
    assert "ami.port: 99999 is not valid; expected a whole number from 1 to 65535" in text
    assert "ami.host: 'bad host' is not valid; expected a host name or IP address" in text
    assert "fastagi.port: '4573' is not valid" in text
    assert "numbers: 'call-me' is not a phone number" in text
    assert "numbers.4008001234: 'not a flow' is not a flow name" in text
    assert "shutdown.grace: 'soon' is not valid; expected a duration such as \"30s\"" in text
    assert "shutdown.fallback: '0@bad context' is not valid; expected an extension" in text
    assert len(found) == 9


def test_not_toml_and_no_file(tmp_path):
    [bad] = problems(write(tmp_path, "[ami\nport = 1\n"))
    assert "not valid TOML" in bad and "fix the syntax" in bad
    [missing] = problems(tmp_path / "nope.toml")
    assert "no such file" in missing and "--config" in missing
    [folder] = problems(tmp_path)
    assert "is a directory" in folder


def test_tts_and_interface_templates_are_checked(tmp_path):
    path = write(tmp_path, """\
        [tts]
        command = ["say", "-o", "{output}"]

        [agents]
        interface = "PJSIP/fixed"

        [outbound]
        interface = "PJSIP/{extension}@trunk"
        """)
    text = "\n".join(problems(path))
    assert ("tts.command: unknown placeholder {output}; the placeholders are {language}, "
            "{out}, {text}, {voice}") in text
    assert "agents.interface: no {extension} placeholder" in text
    # the text as an argument and the sound on stdout: what runtime.asterisk.tts takes
    plain = write(tmp_path, '[tts]\ncommand = ["my-tts", "--lang", "{language}", "{text}"]\n',
                  name="plain.toml")
    assert load_config(plain, environ={}).tts_command == ("my-tts", "--lang", "{language}",
                                                          "{text}")
    assert "outbound.interface: unknown placeholder {extension}; the placeholders are {number}" \
        in text


def test_agents_file_problems(tmp_path):
    missing = write(tmp_path, """\
        [agents]
        file = "people.toml"
        """)
    [found] = problems(missing)
    assert f"{tmp_path / 'people.toml'} does not exist" in found
    write(tmp_path, """\
        [[agents]]
        id = "li"
        extension = "80,02"

        [[agents]]
        id = "wang"
        extension = "80|03"
        """, name="people.toml")
    found = problems(missing)
    assert len(found) == 2
    assert "agent 'li': '80,02' is not a phone number" in found[0]
    assert "agent 'wang': '80|03' is not a phone number" in found[1]
    # an id Asterisk cannot name is refused as the file is read (ccdsl/agent_ids.py),
    # by ccf simulate as by ccf serve
    write(tmp_path, """\
        [[agents]]
        id = "zhang wei"
        extension = "8001"
        """, name="people.toml")
    [found] = problems(missing)
    assert "agent id `zhang wei` may only use ASCII letters, digits, `_` and `-`" in found
    write(tmp_path, "agents = 3\n", name="people.toml")
    [found] = problems(missing)
    assert "agents.file:" in found and "needs a list `agents`" in found


def test_crm_is_checked_by_the_crm_schema(tmp_path):
    path = write(tmp_path, """\
        [crm]
        adapter = "http"
        base_url = "crm.example.com"
        """)
    found = problems(path)
    assert f"{path}: crm: missing setting: 'operations'" in found
    assert any("crm.base_url: 'crm.example.com' is not an http:// or https:// URL" in p
               for p in found)
    ok = write(tmp_path, """\
        [crm]
        adapter = "http"
        base_url = "https://crm.example.com"
        token_env = "CRM_TOKEN"
        [crm.operations.find_customer]
        url = "/c?phone={phone}"
        """)
    config = load_config(ok, environ={})
    assert isinstance(config.crm, HttpConfig) and config.crm_token_env == "CRM_TOKEN"


def test_fallback_without_context_goes_through_the_transfer_context(tmp_path):
    config = load_config(write(tmp_path, '[shutdown]\nfallback = "0@operators"\n'), environ={})
    assert config.fallback.goto == "operators,0,1" and str(config.fallback) == "0@operators"
    config = load_config(write(tmp_path, '[shutdown]\nfallback = "8001"\ngrace = "1.5m"\n'),
                         environ={})
    assert config.fallback.goto == "ccf-transfer,8001,1" and config.shutdown_grace_s == 90.0


def test_ipv6_fastagi_host_is_bracketed_in_urls(tmp_path):
    config = load_config(write(tmp_path, '[fastagi]\nhost = "::1"\nport = 4600\n'), environ={})
    assert config.fastagi.url("x") == "agi://[::1]:4600/x"


# -- ccf config check ---------------------------------------------------------------------


def test_config_check_shows_the_effective_settings_never_the_secret():
    result = ccf("config", "check", "--config", str(EXAMPLE), env={"CCF_AMI_SECRET": SECRET})
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert f"{EXAMPLE}: OK" in result.output
    assert "ami secret          set ($CCF_AMI_SECRET)" in result.output
    assert "numbers             4008001234 -> hotline" in result.output
    assert "agents              4 from" in result.output


def test_config_check_shows_the_crm_file_as_the_server_opens_it(monkeypatch):
    # run from the config's own folder with a relative --config, as an operator
    # would: every path, the CRM's included, is printed absolute
    monkeypatch.chdir(EXAMPLE.parent)
    result = ccf("config", "check", "--config", "ccf.toml", env={"CCF_AMI_SECRET": SECRET})
    assert result.exit_code == 0, result.output
    assert f"config              {EXAMPLE}" in result.output
    assert f"crm                 sqlite {EXAMPLE.parent / 'crm.db'}" in result.output


def test_config_check_warns_about_a_missing_secret():
    result = ccf("config", "check", "-c", str(EXAMPLE), env={"CCF_AMI_SECRET": ""})
    assert result.exit_code == 0
    assert "missing ($CCF_AMI_SECRET)" in result.output
    assert "warning: the AMI secret is missing: set the environment variable CCF_AMI_SECRET" \
        in result.output


def test_config_check_lists_problems_and_exits_1(tmp_path):
    path = write(tmp_path, f'[ami]\nport = 0\nsecret = "{SECRET}"\n')
    result = ccf("config", "check", "--config", str(path))
    assert result.exit_code == 1
    assert SECRET not in result.output
    assert f"error: {path}: ami.port: 0 is not valid" in result.output
    assert f"{path}: 2 problems" in result.output


def test_config_check_json(tmp_path):
    result = ccf("config", "check", "-c", str(EXAMPLE), "--format", "json",
                 env={"CCF_AMI_SECRET": SECRET})
    data = json.loads(result.output)
    assert data["ok"] is True and data["settings"]["ami secret"] == "set ($CCF_AMI_SECRET)"
    assert SECRET not in result.output
    bad = write(tmp_path, "[ami]\nport = 0\n")
    result = ccf("config", "check", "-c", str(bad), "-f", "json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False and "ami.port" in data["problems"][0]


def test_config_check_reads_ccf_config_from_the_environment(tmp_path):
    result = ccf("config", "check", env={"CCF_CONFIG": str(EXAMPLE)})
    assert result.exit_code == 0 and f"{EXAMPLE}: OK" in result.output


def test_config_help():
    result = ccf("config", "--help")
    assert result.exit_code == 0 and "check" in result.output
    result = ccf("config", "check", "--help")
    assert result.exit_code == 0
    assert "Check a ccf.toml and show the settings in effect" in result.output
    assert "--config" in result.output and "CCF_CONFIG" in result.output


def test_an_api_beyond_this_machine_without_a_token_is_warned_about(tmp_path):
    from ccdsl.runtime.asterisk.config import load_config, warnings

    path = tmp_path / "ccf.toml"
    path.write_text('[api]\nhost = "0.0.0.0"\n', encoding="utf-8")
    notes = warnings(load_config(path, environ={}))
    assert any("beyond this machine, with no token" in n for n in notes)
    assert not any("beyond this machine" in n
                   for n in warnings(load_config(path, environ={"CCF_API_TOKEN": "t"})))
    path.write_text('[api]\nhost = "127.0.0.1"\n', encoding="utf-8")
    assert not any("beyond this machine" in n for n in warnings(load_config(path, environ={})))
