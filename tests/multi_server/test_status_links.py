"""`ccf status` with several Asterisk servers: a line saying each AMI link up or down, its
names shown as plain text (a server's status document is not markup)."""

from __future__ import annotations

import io

from rich.console import Console

from ccdsl.cli.status import render


def shown(status: dict) -> str:
    out = io.StringIO()
    Console(file=out, width=160, color_system=None).print(render(status, "127.0.0.1:8573",
                                                                 at=0.0, height=24))
    return out.getvalue()


def status(**server) -> dict:
    return {"server": {"version": "0001", "started": "2026-12-07T09:00:00+08:00",
                       "calls_served": 3, **server}, "calls": [], "queues": [], "agents": []}


def test_each_link_is_shown_up_or_down():
    text = shown(status(ami="down", ami_links={"b": "up", "a": "down"}))
    assert "AMI down;" in text
    assert "AMI links: a down, b up" in text


def test_one_server_shows_no_links_line():
    assert "AMI links" not in shown(status(ami="up"))


def test_a_link_name_is_plain_text():
    text = shown(status(ami="up", ami_links={"[bold]x\x1b[2J": "up"}))
    assert "AMI links: [bold]x" in text and "\x1b[2J" not in text
