"""The two Asterisk servers the multi-server tests run (two AMI test peers): their
`[[asterisk]]` tables of a ccf.toml, each secret from its own variable."""

from __future__ import annotations


def asterisk_pair(port_a: int, port_b: int, *, user_b: str | None = None) -> str:
    """`[[asterisk]]` a and b on those ports (TOML text), b's user `user_b` when given."""
    user = f'user = "{user_b}"\n' if user_b else ""
    return (f'[[asterisk]]\nname = "a"\nport = {port_a}\nsecret_env = "SECRET_A"\n'
            f'[[asterisk]]\nname = "b"\nport = {port_b}\n{user}secret_env = "SECRET_B"\n')
