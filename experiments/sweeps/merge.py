"""`smesim merge OUT SHARD_DIRS...`: the shard directories of one sweep put together in OUT, which
then reads like an unsharded sweep."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from experiments.errors import InputFileError
from experiments.files import write_json_atomically
from experiments.runs.provenance import now
from experiments.sweeps.store import MANIFEST_FILE, Part, Store, read_manifest

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
    with target.lock(["smesim", "merge", str(out), *map(str, shards)]):
        return _merge_locked(target, shards, manifests)


def _merge_locked(target: Store, shards: list[Path], manifests: list[dict]) -> str:
    out, first = target.directory, manifests[0]
    existing = read_manifest(out) if target.manifest_path.exists() else None
    if existing is not None and existing["fingerprint"] != first["fingerprint"]:
        raise InputFileError(str(out), None, "holds results of another spec; merge into an empty directory")
    if existing is None and target.has_results():
        raise InputFileError(str(out), None, f"has results but no {MANIFEST_FILE}; merge into an empty directory")
    sources = [_verified_parts(Store(d)) for d in shards]
    target.repair()
    have = target.check().parts
    _check_disjoint([have, *sources], [out, *shards])
    names = {part.name for part in have}
    copied = 0
    for directory, parts in zip(shards, sources, strict=True):
        for part in parts:
            if part.name not in names:
                target.copy_part(Store(directory), part)
                names.add(part.name)
                copied += 1
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
    if "policies_file" in first:
        manifest["policies_file"] = target.copy_policies(Store(shards[0]))
    write_json_atomically(manifest, target.manifest_path)
    done = len(target.check().run_ids())
    return (
        f"merged {len(shards)} director{'ies' if len(shards) != 1 else 'y'} ({copied} chunks) into "
        f"{out}: {done} of {manifest['runs_total']} runs"
    )


def _shard_manifest(directory: Path) -> dict:
    manifest = read_manifest(directory)
    if manifest is None:
        raise InputFileError(str(directory), None, f"no {MANIFEST_FILE}: not a sweep directory")
    return manifest


def _verified_parts(store: Store) -> list[Part]:
    """A shard's chunks, verified: a damaged shard, or one without checksums, is refused."""
    check = store.verified_parts()
    if not check.verified:
        raise InputFileError(
            str(store.directory),
            None,
            "was written by an earlier smesim, without checksums: resume it once (smesim sweep SPEC --out "
            f"{store.directory} --shard i/n) to record them, then merge",
        )
    return check.parts


def _check_disjoint(stores: list[list[Part]], names: list[Path]) -> None:
    """No run may be in two directories under different chunks (it would be duplicated)."""
    owner: dict[str, tuple[Path, str]] = {}
    for parts, name in zip(stores, names, strict=True):
        for part in parts:
            for run_id in part.run_ids:
                if run_id in owner and owner[run_id][1] != part.name:
                    raise InputFileError(
                        str(name),
                        None,
                        f"holds run {run_id}, which {owner[run_id][0]} holds too "
                        "(shards of different splits?); not merging",
                    )
                owner[run_id] = (name, part.name)
