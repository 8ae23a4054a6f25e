"""The VS Code extension folder and the .vsix that `make vsix` packs with @vscode/vsce."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
import zipfile

from tests.editors.conftest import GRAMMAR, ROOT, VSCODE


def manifest() -> dict:
    return json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))


def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"]


def test_the_manifest_contributes_the_language_the_grammar_and_the_settings():
    m = manifest()
    assert (m["name"], m["publisher"], m["version"]) == ("ccdsl-ccf", "ccdsl", version())
    assert m["engines"]["vscode"].startswith("^1.")
    [language] = m["contributes"]["languages"]
    assert language["id"] == "ccf" and language["extensions"] == [".ccf"]
    assert (VSCODE / language["configuration"]).is_file()
    [tm] = m["contributes"]["grammars"]
    assert (tm["language"], tm["scopeName"]) == ("ccf", "source.ccf")
    assert (VSCODE / tm["path"]).resolve() == GRAMMAR
    assert json.loads(GRAMMAR.read_text(encoding="utf-8"))["scopeName"] == "source.ccf"
    settings = m["contributes"]["configuration"]["properties"]
    assert settings["ccf.path"]["default"] == "ccf"
    assert settings["ccf.trace.server"]["enum"] == ["off", "messages", "verbose"]
    assert "vscode-languageclient" in m["dependencies"]
    # the client is what `main` names, and starts `ccf lsp` with the ccf.path setting
    client = (VSCODE / m["main"]).read_text(encoding="utf-8")
    assert 'getConfiguration("ccf").get("path")' in client
    assert 'args: ["lsp"]' in client


def test_the_language_configuration_comments_and_indents_as_ccf_does():
    conf = json.loads((VSCODE / "language-configuration.json").read_text(encoding="utf-8"))
    assert conf["comments"]["lineComment"] == "#"
    increase = re.compile(conf["indentationRules"]["increaseIndentPattern"])
    assert increase.search("step main:")
    assert increase.search("  menu retries 3 timeout 5s:  # the main menu")
    assert not increase.search("  reason: text")
    assert not increase.search("# a comment:")
    decrease = re.compile(conf["indentationRules"]["decreaseIndentPattern"])
    assert decrease.search("  else:") and decrease.search("  elif x > 1:")
    assert not decrease.search("  else -> goto main")


def test_the_client_is_valid_javascript(node_modules):
    done = subprocess.run(["node", "--check", "extension.js"], cwd=VSCODE,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_make_vsix_packs_the_extension_with_the_language_client(node_modules):
    target = VSCODE / f"ccdsl-ccf-{version()}.vsix"
    target.unlink(missing_ok=True)
    done = subprocess.run(["make", "-s", "vsix"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    with zipfile.ZipFile(target) as vsix:
        names = set(vsix.namelist())
        packed = json.loads(vsix.read("extension/package.json"))
        grammar = vsix.read("extension/syntaxes/ccf.tmLanguage.json")
        vsixmanifest = vsix.read("extension.vsixmanifest").decode()
    assert {"extension/extension.js", "extension/command.js",
            "extension/language-configuration.json",
            "extension/LICENSE.txt", "extension/readme.md",
            "extension/node_modules/vscode-languageclient/package.json",
            "extension/node_modules/vscode-languageclient/node.js"} <= names
    assert packed["version"] == version() and packed["name"] == "ccdsl-ccf"
    assert grammar == GRAMMAR.read_bytes()
    assert f'Version="{version()}"' in vsixmanifest and 'Publisher="ccdsl"' in vsixmanifest
    # the test harness and the packaging tools stay out
    assert not any(n.startswith(("extension/test/", "extension/node_modules/@vscode/vsce",
                                 "extension/node_modules/vscode-textmate")) for n in names)


def _node(script: str, *args: str) -> dict:
    done = subprocess.run(["node", script, *args], cwd=VSCODE, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_missing_ccf_is_one_readable_message(node_modules, tmp_path):
    """The extension activated (with the real language client, in Node) for a ccf.path that
    names nothing: one message that says what is missing and what to do, and no client
    started (whose own "couldn't create connection to server" came first before)."""
    missing = tmp_path / "venv" / "bin" / "ccf"
    got = _node("test/activate.js", json.dumps({"ccf.path": str(missing)}))
    assert [m["severity"] for m in got["shown"]] == ["error"]
    message = got["shown"][0]["message"]
    assert f"cannot find `{missing}`" in message
    assert "`ccf.path`" in message and "`make demo` in its checkout" in message


def _executable(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_ccf_path_is_found_as_vs_code_users_write_it(node_modules, tmp_path):
    folder, home, bin_dir = tmp_path / "flows", tmp_path / "home", tmp_path / "bin"
    in_venv = _executable(folder / ".venv" / "bin" / "ccf")
    in_home = _executable(home / "tools" / "ccf")
    on_path = _executable(bin_dir / "ccf")
    (bin_dir / "not-executable").write_text("", encoding="utf-8")

    def found(setting: str) -> str | None:
        return _node("test/command.js", setting, str(folder), str(home),
                     f"{tmp_path / 'empty'}:{bin_dir}")["found"]

    assert found("${workspaceFolder}/.venv/bin/ccf") == str(in_venv)
    assert found(".venv/bin/ccf") == str(in_venv)  # from the folder, where the server runs
    assert found("~/tools/ccf") == str(in_home)
    assert found("ccf") == str(on_path)
    assert found("") == str(on_path)  # the setting's default
    assert found("not-executable") is None
    assert found("~/missing/ccf") is None
