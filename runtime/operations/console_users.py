"""The console's users: agents, supervisors and admins, with passwords hashed at rest (scrypt).

A JSON file the admin keeps with `ccf console user`; must never hold or log a password itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from ccdsl import json_text
from ccdsl.runtime.operations.atomic_file import write_atomically

ROLES = ("agent", "supervisor", "admin")
MIN_PASSWORD = 8
# scrypt's cost: about 50 ms a log-in on a laptop core, the OWASP minimum
_N, _R, _P = 2 ** 14, 8, 1
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class UsersError(Exception):
    """The users file or a change to it is wrong; the message says how."""


@dataclass(frozen=True)
class User:
    id: str
    role: str
    password: str  # "scrypt$N$r$p$salt$hash", never the password
    name: str = ""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UsersError(f"a password needs at least {MIN_PASSWORD} characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join(("scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)))


def password_ok(user: User | None, password: str) -> bool:
    """Whether the password is the user's; as slow for an unknown user, so
    timing does not tell which ids exist."""
    stored = user.password if user is not None else _DUMMY
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(_unb64(digest)))
    except (ValueError, TypeError):
        return False
    return user is not None and kind == "scrypt" and hmac.compare_digest(got, _unb64(digest))


def load_users(path: str | Path) -> dict[str, User]:
    """The users of the file; {} when it does not exist yet."""
    file = Path(path)
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsersError(f"cannot read the console users file {file}: "
                         f"{exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsersError(f"the console users file {file} is not valid JSON: {exc}") from None
    items = doc.get("users") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise UsersError(f"the console users file {file} needs a list `users`")
    users: dict[str, User] = {}
    for number, item in enumerate(items, 1):
        try:
            user = User(id=item["id"], role=item["role"], password=item["password"],
                        name=item.get("name", ""))
        except (KeyError, TypeError, AttributeError):
            raise UsersError(f"{file}: user {number} needs id, role and password") from None
        if not isinstance(user.id, str) or not _ID.match(user.id) or user.role not in ROLES:
            raise UsersError(f"{file}: user {number}: a bad id or role {user.role!r} "
                             f"(roles: {', '.join(ROLES)})")
        users[user.id] = user
    return users


def save_users(path: str | Path, users: dict[str, User]) -> None:
    """Write the file whole, in one rename, readable by its owner only."""
    file = Path(path)
    doc = {"users": [asdict(users[k]) for k in sorted(users)]}
    file.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(file, json_text.dumps(doc, indent=2) + "\n", mode=0o600)


def check_id(user_id: str) -> str:
    """The id when it is one a user may have, else UsersError."""
    if not _ID.match(user_id):
        raise UsersError(f"{user_id!r} is not a user id: letters, digits, '_', '.', '-', "
                         "at most 64")
    return user_id


def new_user(user_id: str, role: str, password: str, name: str = "") -> User:
    check_id(user_id)
    if role not in ROLES:
        raise UsersError(f"{role!r} is not a role; one of {', '.join(ROLES)}")
    return User(user_id, role, hash_password(password), name)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_DUMMY = "$".join(("scrypt", str(_N), str(_R), str(_P), _b64(b"\0" * 16), _b64(b"\0" * 32)))
