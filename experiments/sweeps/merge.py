"""`smesim merge OUT SHARD_DIRS...`: the shard directories of one sweep put together in OUT, which
then reads like an unsharded sweep."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from experiments.errors import InputFileError
from experiments.files import atomic_path, write_json_atomically
from experiments.runs.provenance import now
from experiments.sweeps.store import MANIFEST_FILE, Store, read_manifest, read_run_ids

__all__ = ["merge_shards"]


def merge_shards(out: Path | str, shard_dirs: Sequence[Path | str]) -> str:
    """Copy the chunks of shard directories (of one spec) into `out`, refusing mixed specs and
    runs that two directories both hold; `out` gets a manifest for the whole spec."""
    out, shards = Path(out), [Path(d) for d in shard_dirs]
    manifests = [_shard_manifest(d) for d in shards]
    first = manifests[0]
    for directory, manifest in zip(shards, manifests, strict=True):
        if manifest["fingerprint"] != first["fingerprint"]:
            raise InputFileError(
                str(directory),
                None,
                f"is a sweep of another spec than {shards[0]} "
                f"({manifest.get('spec_file')} vs {first.get('spec_file')}); not merging",
            )
    target = Store(out)
    existing = read_manifest(out) if target.manifest_path.exists() else None
    if existing is not None and existing["fingerprint"] != first["fingerprint"]:
        raise InputFileError(str(out), None, "holds results of another spec; merge into an empty directory")
    if existing is None and target.has_results():
        raise InputFileError(str(out), None, f"has results but no {MANIFEST_FILE}; merge into an empty directory")
    target.clean()
    _check_disjoint([target, *map(Store, shards)], [out, *shards])
    copied = sum(_copy_chunks(Store(d), target) for d in shards)
    manifest = existing or {
        **first,
        "shard": None,
        "runs_total": first["runs_in_spec"],
        "runs_by_policy": first["runs_by_policy_in_spec"],
        "sessions": [],
        "resumed": [],
        "merged": [],
    }
    manifest.setdefault("merged", []).append(
        {
            "at": now(),
            "shards": [
                {"directory": str(d), "shard": m["shard"], "sessions": m["sessions"]}
                for d, m in zip(shards, manifests, strict=True)
            ],
        }
    )
    for m in manifests:
        manifest["versions"]["workers"].update(m["versions"]["workers"])
    write_json_atomically(manifest, target.manifest_path)
    done = len(target.finished_run_ids())
    return (
        f"merged {len(shards)} director{'ies' if len(shards) != 1 else 'y'} ({copied} chunk files) into "
        f"{out}: {done} of {manifest['runs_total']} runs"
    )


def _shard_manifest(directory: Path) -> dict:
    manifest = read_manifest(directory)
    if manifest is None:
        raise InputFileError(str(directory), None, f"no {MANIFEST_FILE}: not a sweep directory")
    return manifest


def _check_disjoint(stores: list[Store], names: list[Path]) -> None:
    """No run may be in two directories under different chunk files (they would be duplicated)."""
    owner: dict[str, tuple[Path, str]] = {}
    for store, name in zip(stores, names, strict=True):
        for runs_file, _ in store.part_files():
            for run_id in read_run_ids(runs_file):
                if run_id in owner and owner[run_id][1] != runs_file.name:
                    raise InputFileError(
                        str(name),
                        None,
                        f"holds run {run_id}, which {owner[run_id][0]} holds too "
                        "(shards of different splits?); not merging",
                    )
                owner[run_id] = (name, runs_file.name)


def _copy_chunks(source: Store, target: Store) -> int:
    """Copy the finished chunks `target` lacks, series before runs (as a sweep writes them)."""
    copied = 0
    for runs_file, series_file in source.part_files():
        if (target.runs_dir / runs_file.name).exists():
            continue
        for path, folder in ((series_file, target.series_dir), (runs_file, target.runs_dir)):
            if path is None:
                continue
            with atomic_path(folder / path.name) as tmp:
                shutil.copyfile(path, tmp)
            copied += 1
    return copied
