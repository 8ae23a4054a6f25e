"""Files a deploy writes before it knows it will succeed, put back as they were when it fails.

Must not touch any path it was not given: other files in the same folders stay as they are.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager


def temp_path(path: str) -> str:
    """Where this process writes path's new content before renaming it into place
    (queue_sounds.put_in_place; _put_back removes one a failed copy left)."""
    return f"{path}.{os.getpid()}.tmp"


def _missing_folders(path: str) -> list[str]:
    """The folders above PATH that do not exist yet, deepest first."""
    missing = []
    folder = os.path.dirname(os.path.abspath(path))
    while folder and not os.path.exists(folder):
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return missing


@contextmanager
def undone_on_failure(files: Sequence[str], caches: Sequence[str] = ()) -> Iterator[None]:
    """Whatever the block raises (Ctrl-C too), FILES are put back as they were: a file that
    existed gets its old bytes, one that did not is removed, and so is every folder made
    for them that is empty again. A cache folder in CACHES that did not exist is removed
    whole: a failed deploy leaves nothing that another command (`ccf simulate` looks for a
    sounds folder) would find."""
    backup = tempfile.mkdtemp(prefix="ccf-deploy-")
    saved: dict[str, str] = {}
    made: set[str] = set()
    try:
        for index, path in enumerate(files):
            if os.path.isfile(path):
                saved[path] = os.path.join(backup, str(index))
                shutil.copyfile(path, saved[path])
            made.update(_missing_folders(path))
        new_caches = [cache for cache in caches if not os.path.exists(cache)]
        try:
            yield
        except BaseException:
            _put_back(files, saved, made, new_caches)
            raise
    finally:
        shutil.rmtree(backup, ignore_errors=True)


def _put_back(files: Sequence[str], saved: dict[str, str], made: set[str],
              new_caches: Sequence[str]) -> None:
    for path in files:
        try:
            if path in saved:
                tmp = temp_path(path)
                shutil.copyfile(saved[path], tmp)
                os.replace(tmp, path)
            elif os.path.lexists(path):
                os.remove(path)
            leftover = temp_path(path)  # put_in_place's, cut off mid-copy
            if os.path.lexists(leftover):
                os.remove(leftover)
        except OSError:  # the error being raised says what failed; this one adds nothing
            pass
    # deepest first, and only when empty: a file someone else put there stays
    for folder in sorted(made, key=len, reverse=True):
        try:
            os.rmdir(folder)
        except OSError:
            pass
    for cache in new_caches:
        shutil.rmtree(cache, ignore_errors=True)
