"""ccf.toml's [api] and [screen_pop] sections: defaults, port 0, tokens
only from the environment and never shown, and each mistake reported with
how to fix it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from ccf_cli import ccf

from ccdsl.runtime.asterisk.config import ConfigError, load_config, summary, warnings

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "api-token-never-shown"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ccf.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_without_the_sections_the_api_listens_on_8573_and_no_webhook(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[numbers]\n\"1\" = \"x\"\n"), environ={})
    assert (config.api.host, config.api.port, config.api.token_env) == (
        "127.0.0.1", 8573, "CCF_API_TOKEN")
    assert config.api.token is None and config.screen_pop.url is None
    assert config.screen_pop.timeout_s == 3.0


def test_the_sections_are_read_with_tokens_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        [api]
        host = "127.0.0.1"
        port = 0
        token_env = "MY_API_TOKEN"
        [screen_pop]
        url = "https://desk.example.com/ccf/pop?key=abc"
        token_env = "MY_POP_TOKEN"
        timeout = "1500ms"
        """)
    config = load_config(path, environ={"MY_API_TOKEN": TOKEN, "MY_POP_TOKEN": TOKEN + "2"})
    assert config.api.port == 0 and config.api.token == TOKEN
    assert config.screen_pop.url == "https://desk.example.com/ccf/pop?key=abc"
    assert config.screen_pop.token == TOKEN + "2" and config.screen_pop.timeout_s == 1.5
    assert TOKEN not in repr(config)
    rows = dict(summary(config))
    assert rows["api"] == "http://127.0.0.1:0"
    assert rows["api token"] == "set ($MY_API_TOKEN)"
    assert rows["screen pop"] == "webhook https://desk.example.com/ccf/pop, timeout 1.5s"
    assert rows["screen pop token"] == "set ($MY_POP_TOKEN)"
    assert TOKEN not in str(rows) and "key=abc" not in str(rows)
    missing = load_config(path, environ={})
    assert dict(summary(missing))["api token"] == "missing ($MY_API_TOKEN): requests need none"
    assert any("MY_POP_TOKEN" in w for w in warnings(missing))


@pytest.mark.parametrize(("text", "expected"), [
    ('[api]\nport = 70000\n', "api.port: 70000 is not valid; expected a whole number from 0"),
    ('[api]\nport = "x"\n', "api.port: 'x' is not valid"),
    ('[api]\ntoken_env = "not a name"\n', "api.token_env: 'not a name' is not valid; "
                                           "expected the NAME of an environment variable"),
    ('[api]\nlisten = 1\n', "api: unknown setting 'listen'"),
    ('[screen_pop]\nurl = "ftp://x"\n', "screen_pop.url: 'ftp://x' is not valid; expected an "
                                        "http:// or https:// URL"),
    ('[screen_pop]\ntimeout = "soon"\n', "screen_pop.timeout: 'soon' is not valid"),
    (f'[api]\ntoken = "{TOKEN}"\n', "api.token: secrets are not written in the file; remove "
                                    "it and put it in an environment variable such as "
                                    "CCF_API_TOKEN and name it with api.token_env"),
    (f'[screen_pop]\ntoken = "{TOKEN}"\n', "name it with screen_pop.token_env"),
])
def test_mistakes_are_reported_with_the_fix(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), environ={})
    assert any(expected in p for p in caught.value.problems), caught.value.problems
    assert TOKEN not in str(caught.value)


def test_the_example_ccf_toml_has_both_sections() -> None:
    config = load_config(ROOT / "examples" / "iws" / "ccf.toml", environ={})
    assert config.api.port == 8573 and config.api.token_env == "CCF_API_TOKEN"
    assert config.screen_pop.url and config.screen_pop.token_env == "CCF_SCREEN_POP_TOKEN"


def test_config_check_shows_the_api_and_the_screen_pop(tmp_path: Path) -> None:
    path = write(tmp_path, '[api]\nport = 9000\n[screen_pop]\nurl = "http://127.0.0.1:9/p"\n')
    result = ccf("config", "check", "--config", str(path), env={"CCF_API_TOKEN": TOKEN})
    assert "http://127.0.0.1:9000" in result.output
    assert "webhook http://127.0.0.1:9/p" in result.output
    assert TOKEN not in result.output
