"""Git LFS pointer files: the small text Git keeps in place of a large file when the file was not fetched.

Shared by the init-failure diagnosis (`shim.models.diagnosis`) and the deployment rehearsal's pickle scan
(`shim.deploy.pickle_scan`); plain functions on a file's first bytes, no imports beyond ``re``.
"""

from __future__ import annotations

import re

GIT_LFS_PREFIXES = (b"version https://git-lfs.github.com/spec/", b"version https://hawser.github.com/spec/")


def is_git_lfs_pointer(head: bytes) -> bool:
    """Whether a file's first bytes are a Git LFS pointer (the small text Git keeps instead of the file)."""
    return head.startswith(GIT_LFS_PREFIXES)


def lfs_pointer_size(head: bytes) -> int | None:
    """The size of the real file a Git LFS pointer stands for (its ``size`` line), when it says."""
    found = re.search(rb"^size (\d+)\s*$", head, re.MULTILINE)
    return int(found[1]) if found else None


def size_in_words(count: int) -> str:
    """``12.3 MB``, ``512 bytes``: a file size as a person reads it."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"
