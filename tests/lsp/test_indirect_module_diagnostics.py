"""An error in a module the flow reaches only through another module: the open flow says
so without naming a `use` that does not bring it in."""

from __future__ import annotations

import pytest

from tests.ccf_cli import ccf
from tests.lsp.conftest import open_file, uri

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_an_indirect_module_s_error_names_no_use_that_does_not_bring_it_in(
        client, tmp_path) -> None:
    flow = tmp_path / "desk.ccf"
    flow.write_text("flow desk:\n  languages en-US\n\nuse stdlib.survey\nuse billing\n\n"
                    "on start:\n  answer\n  billing.greet()\n  hangup\n", encoding="utf-8")
    (tmp_path / "billing.ccf").write_text(
        "flow billing:\n  languages en-US\n\nuse tax\n\nsub greet():\n  tax.add()\n",
        encoding="utf-8")
    (tmp_path / "tax.ccf").write_text(
        "flow tax:\n  languages en-US\n\nsub add(:\n  hangup\n", encoding="utf-8")
    assert ccf("validate", str(flow)).exit_code == 1
    found = [d for d in await open_file(client, flow) if d.code == "E001"]
    assert found, "the error in tax.ccf is shown in the open flow"
    message = found[0].message
    assert "stdlib.survey" not in message
    assert message.startswith("a module that this flow's modules use has an error: ")
    assert found[0].related_information[0].location.uri == uri(tmp_path / "tax.ccf")
