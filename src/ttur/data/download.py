"""`ttur download`: fetch (or link, or generate) the raw files of a dataset, verify them, then write download.json.

download.json is written last and atomically, after every file is verified: it is the output that tells Snakemake the
download finished. It is deleted first, so a failed or interrupted run never leaves one behind.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ttur.data.fetch import TransferError, fetch
from ttur.data.registry import REAL_FILES, FileSpec, dataset_spec
from ttur.data.synthetic import SHAPES_FOLDER, TEXT_FOLDER, write_shapes32, write_tinytext
from ttur.data.verify import FileDigest, digest_file, mismatch
from ttur.errors import UserError
from ttur.io import atomic_path, write_json

RECORD = "download.json"
DEFAULT_COUNT = {"shapes32": 5000, "tinytext": 5000}


def download_dataset(
    dataset: str,
    out: Path,
    mirrors: Sequence[str] = (),
    local: Path | None = None,
    seed: int = 0,
    count: int | None = None,
    files: Mapping[str, FileSpec] = REAL_FILES,
    retries: int = 3,
    backoff_s: float = 2.0,
    timeout_s: float = 60.0,
) -> Path:
    """Obtain every raw file of `dataset` in `out` and return the path of the download.json written last.

    `files` is the checksum table (tests pass one for their miniature archives). `mirrors` are base URLs tried before
    the official ones; `local` is a folder (or, for a one-file dataset, the file) the user already has.
    """
    spec = dataset_spec(dataset)
    out.mkdir(parents=True, exist_ok=True)
    record = out / RECORD
    record.unlink(missing_ok=True)
    if spec.generated:
        n = DEFAULT_COUNT[dataset] if count is None else count
        if n < 1:
            raise UserError(f"--count must be at least 1 (got {n})")
        entries = _generate(dataset, out, n, seed)
        meta: dict[str, Any] = {"generator": {"name": dataset, "seed": seed, "count": n}}
    else:
        if count is not None:
            raise UserError(f"--count only applies to the generated datasets, not to {dataset}; drop it")
        entries = []
        for name in spec.files:
            if name not in files:
                raise UserError(f"no checksum is known for {name}; add it to the checksum table")
            entries.append(
                _obtain(files[name], dataset, out, mirrors, local, len(spec.files) == 1, retries, backoff_s, timeout_s)
            )
        meta = {}
    write_json(record, {"dataset": dataset, "files": entries, **meta})
    print(f"{dataset}: {len(entries)} file(s) verified; wrote {record}", flush=True)
    return record


def _generate(dataset: str, out: Path, count: int, seed: int) -> list[dict[str, Any]]:
    folder = out / (SHAPES_FOLDER if dataset == "shapes32" else TEXT_FOLDER)
    shutil.rmtree(folder, ignore_errors=True)  # a smaller --count must not leave stale files behind
    paths = write_shapes32(out, count, seed) if dataset == "shapes32" else write_tinytext(out, count, seed)
    return [
        {"name": path.relative_to(out).as_posix(), "size": path.stat().st_size, "sha256": digest_file(path).sha256}
        for path in paths
    ]


def _entry(spec: FileSpec, digest: FileDigest, source: str) -> dict[str, Any]:
    return {
        "name": spec.name,
        "size": digest.size,
        "md5": digest.md5,
        "sha256": digest.sha256,
        "source": source,
        "checksum_source": spec.checksum_source,
    }


def _obtain(
    spec: FileSpec,
    dataset: str,
    out: Path,
    mirrors: Sequence[str],
    local: Path | None,
    only_file: bool,
    retries: int,
    backoff_s: float,
    timeout_s: float,
) -> dict[str, Any]:
    target = out / spec.name
    if local is not None:
        source = _local_source(local, spec, only_file)
        problem, digest = mismatch(spec, source)
        if problem or digest is None:
            raise UserError(
                f"{source} is not the published {spec.name} ({problem}); point --local at the official file"
            )
        _link(source, target)
        print(f"{spec.name}: verified {source}, linked into {out}", flush=True)
        return _entry(spec, digest, f"local:{source.resolve()}")
    if target.exists():
        problem, digest = mismatch(spec, target)
        if problem is None and digest is not None:
            print(f"{spec.name}: already present and verified", flush=True)
            return _entry(spec, digest, "existing")
        print(f"{spec.name}: present but wrong ({problem}); fetching it again", flush=True)
        target.unlink()
    urls = [f"{mirror.rstrip('/')}/{spec.name}" for mirror in mirrors] + list(spec.urls)
    part = out / f"{spec.name}.part"
    failures: list[str] = []
    for url in urls:
        digest = _fetch_verified(spec, url, part, retries, backoff_s, timeout_s, failures)
        if digest is not None:
            os.replace(part, target)
            return _entry(spec, digest, url)
    raise UserError(
        f"could not obtain a verified {spec.name} for {dataset}: {' | '.join(failures)}; "
        f"rerun `ttur download {dataset}` to resume, add --mirror URL, or pass --local PATH to files you have"
    )


def _fetch_verified(
    spec: FileSpec, url: str, part: Path, retries: int, backoff_s: float, timeout_s: float, failures: list[str]
) -> FileDigest | None:
    """Fetch `url` into `part` (resuming, with retries) and verify it; None (and a note in `failures`) if it fails."""
    fresh_retry_left = part.exists() and part.stat().st_size > 0  # a stale .part may be the reason for a mismatch
    attempt = 0
    while True:
        print(
            f"{spec.name}: fetching {url}" + (f" (resuming at {part.stat().st_size})" if part.exists() else ""),
            flush=True,
        )
        try:
            fetch(url, part, timeout_s)
        except TransferError as error:
            failures.append(f"{url}: {error}")
            if attempt >= retries or error.permanent:
                return None
            time.sleep(backoff_s * 2**attempt)
            attempt += 1
            continue
        problem, digest = mismatch(spec, part)
        if problem is None and digest is not None:
            print(f"{spec.name}: verified ({spec.checksum_source})", flush=True)
            return digest
        part.unlink()  # a corrupt file is never kept, never resumed, never used
        failures.append(f"{url}: corrupt download ({problem})")
        if not fresh_retry_left:
            return None
        fresh_retry_left = False


def _local_source(local: Path, spec: FileSpec, only_file: bool) -> Path:
    if local.is_dir():
        candidate = local / spec.name
    elif local.is_file() and (only_file or local.name == spec.name):
        candidate = local
    else:
        candidate = None
    if candidate is None or not candidate.is_file():
        raise UserError(f"--local {local} holds no {spec.name}; pass the folder that contains the official files")
    return candidate


def _link(source: Path, target: Path) -> None:
    """Make `target` refer to `source`: a symlink, or a copy where the filesystem has none."""
    if target.resolve() == source.resolve():
        return
    tmp = target.with_name(f".{target.name}.link")
    tmp.unlink(missing_ok=True)
    try:
        tmp.symlink_to(source.resolve())
        os.replace(tmp, target)
    except OSError:
        tmp.unlink(missing_ok=True)
        with atomic_path(target) as copy:
            shutil.copyfile(source, copy)
