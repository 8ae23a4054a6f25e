"""A deploy that fails writes nothing other commands would find: AMI is reached before the
queue messages' sound files are written, and a failure after they were puts them back as
they were (no sounds folder left for `ccf simulate`, no TTS cache made)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from asterisk.sounds_centre import sounds_centre
from ccf_cli import ccf
from doubles.ami_server import AmiPeer
from doubles.ami_thread import peer_in_thread
from doubles.ami_wire import error
from ports import free_port

from ccdsl.runtime.asterisk.dialplan import QUEUES_FILE

SECRET = "peer-secret"


def flow(text: str) -> str:
    return textwrap.dedent(f"""\
        flow hotline:
          languages en-US

        prompt still_waiting:
          en-US tts "{text}"

        queue service:
          skills [general]
          messages [still_waiting] every 30s

        on start:
          answer
          queue service
          hangup
        """)


def centre(tmp_path: Path, port: int) -> tuple[Path, Path]:
    return sounds_centre(tmp_path, flow("Thank you for waiting."),
                         ami=f'[ami]\nport = {port}\ntimeout = "2s"\n')


class QueuesFileFails(AmiPeer):
    """An Asterisk that cannot save the queues file (a read-only /etc/asterisk)."""

    def _action_updateconfig(self, session, request):
        if request.get("DstFilename") == QUEUES_FILE:
            error(session, request, "Save of config failed")
            return
        super()._action_updateconfig(session, request)


def test_unreachable_ami_writes_no_sound_files(tmp_path):
    flows, config = centre(tmp_path, free_port())
    result = ccf("deploy", str(flows), "-c", str(config), env={"CCF_AMI_SECRET": "x"})
    assert result.exit_code == 4, result.output
    assert "nothing was deployed" in result.output
    assert not (tmp_path / "sounds").exists()
    assert not (tmp_path / "tts-cache").exists()
    assert not (tmp_path / "store").exists()


def test_a_failed_apply_removes_the_sound_files_it_wrote(tmp_path):
    with peer_in_thread(QueuesFileFails(users={"ccf": SECRET})) as peer:
        flows, config = centre(tmp_path, peer.port)
        result = ccf("deploy", str(flows), "-c", str(config),
                     env={"CCF_AMI_SECRET": SECRET})
    assert result.exit_code == 1, result.output
    assert "Save of config failed" in result.output
    assert not (tmp_path / "sounds").exists()
    assert not (tmp_path / "tts-cache").exists()


def test_a_failed_apply_puts_back_the_sound_files_of_the_last_deploy(tmp_path):
    flows, config = centre(tmp_path, free_port())
    assert ccf("deploy", str(flows), "-c", str(config), "--no-apply").exit_code == 0
    message = tmp_path / "sounds" / "ccf-queue" / "en-US" / "still_waiting.wav"
    before = message.read_bytes()
    (tmp_path / "sounds" / "ccf-queue" / "mine.txt").write_text("not ccf's")
    (flows / "hotline.ccf").write_text(flow("A much longer message for the queue."),
                                       encoding="utf-8")
    with peer_in_thread(QueuesFileFails(users={"ccf": SECRET})) as peer:
        text = config.read_text(encoding="utf-8").splitlines()
        text[1] = f"port = {peer.port}"
        config.write_text("\n".join(text) + "\n", encoding="utf-8")
        result = ccf("deploy", str(flows), "-c", str(config),
                     env={"CCF_AMI_SECRET": SECRET})
    assert result.exit_code == 1, result.output
    assert message.read_bytes() == before
    assert (tmp_path / "sounds" / "ccf-queue" / "mine.txt").read_text() == "not ccf's"
    assert (tmp_path / "tts-cache").is_dir()  # the first deploy's, kept
