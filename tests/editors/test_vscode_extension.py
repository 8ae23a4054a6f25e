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
    assert {"extension/extension.js", "extension/language-configuration.json",
            "extension/LICENSE.txt", "extension/readme.md",
            "extension/node_modules/vscode-languageclient/package.json",
            "extension/node_modules/vscode-languageclient/node.js"} <= names
    assert packed["version"] == version() and packed["name"] == "ccdsl-ccf"
    assert grammar == GRAMMAR.read_bytes()
    assert f'Version="{version()}"' in vsixmanifest and 'Publisher="ccdsl"' in vsixmanifest
    # the test harness and the packaging tools stay out
    assert not any(n.startswith(("extension/test/", "extension/node_modules/@vscode/vsce",
                                 "extension/node_modules/vscode-textmate")) for n in names)
