"""Convert a legacy cache (native files, ``<cache_dir>/<market>/<symbol>/<timeframe>/``) into the hive-partitioned
Parquet dataset (``<cache_dir>/bars/timeframe=<tf>/symbol=<symbol>/``): explicit, verified, never mixed.

:func:`migrate_cache` copies every partition (bars and coverage) into ``<cache_dir>/.migrating/bars``, reads
each copy back and compares it with the original, then switches in three steps, each safe to be killed in:
rename the new tree to ``<cache_dir>/bars``, record the layout (``.layout.json``), remove the old market
directories (and the SQL mirror of earlier versions). Until the layout is recorded the cache is the old one
(a new run starts over); after it, the new one (a new run only removes what is left of the old). A partition
that fails verification in the old cache is reported and not copied (it was already unreadable). Run it while
no other process writes to the cache.
"""

import logging
import os
import shutil
from typing import Any, Dict, List

from polygon.exceptions import CacheError
from polygon.storage.files import (
    DATASET_DIR,
    iter_keys,
    key_for,
    legacy_markets,
    partition_files,
    read_layout,
    read_part,
    require_pyarrow,
    write_layout,
    write_part,
)

__all__ = ["migrate_cache"]

logger = logging.getLogger(__name__)


def migrate_cache(cache_dir: str) -> Dict[str, Any]:
    """Convert the cache at ``cache_dir`` to the hive-partitioned Parquet layout (needs pyarrow).

    :returns: ``{'keys': n, 'partitions': n, 'rows': n, 'skipped': [paths not readable], 'already': bool}``.
    :raises CacheError: when pyarrow is missing or a copy does not read back equal to its original (the old
        cache is then left as it was).
    """
    require_pyarrow()
    cache_dir = os.path.abspath(os.fspath(cache_dir))
    report: Dict[str, Any] = {"keys": 0, "partitions": 0, "rows": 0, "skipped": [], "already": False}
    recorded = read_layout(cache_dir)
    if recorded is not None and recorded["layout"] == "hive":
        report["already"] = True
        _remove_old(cache_dir)  # what a migration killed after its switch left behind
        return report
    staging = os.path.join(cache_dir, ".migrating")
    shutil.rmtree(staging, ignore_errors=True)
    for key in iter_keys(cache_dir, layout="legacy"):
        target = key_for(staging, key.symbol, key.timeframe, "hive")
        report["keys"] += 1
        for label, path in partition_files(key).items():
            try:
                part = read_part(path)
            except (CacheError, OSError) as exc:
                logger.warning("cache migration: %s is not readable (%s); not copied", path, exc)
                report["skipped"].append(path)
                continue
            arrays = part.arrays
            meta = {k: v for k, v in part.header.items()
                    if k not in ("format", "version", "rows", "columns", "payload_bytes", "checksum", "data_offset",
                                 "arrays")}
            written = write_part(target, label, arrays, meta, "parquet")
            copy = read_part(written)
            back = copy.arrays
            if (copy.rows != part.rows or copy.header.get("coverage") != part.header.get("coverage")
                    or not _same(arrays, back)):
                shutil.rmtree(staging, ignore_errors=True)
                raise CacheError("cache migration: the copy of %s does not read back equal; the cache is left as "
                                 "it was" % path)
            report["partitions"] += 1
            report["rows"] += part.rows
    new_root = os.path.join(staging, DATASET_DIR)
    final = os.path.join(cache_dir, DATASET_DIR)
    shutil.rmtree(final, ignore_errors=True)  # a tree from a run killed before its switch
    if os.path.isdir(new_root):
        os.replace(new_root, final)
    write_layout(cache_dir, "hive", "parquet")
    _remove_old(cache_dir)
    shutil.rmtree(staging, ignore_errors=True)
    logger.info("cache migration: %d keys, %d partitions, %d bars now in %s", report["keys"], report["partitions"],
                report["rows"], final)
    return report


def _same(a: Any, b: Any) -> bool:
    import numpy as np

    return (np.array_equal(a.t_ns, b.t_ns) and np.array_equal(a.values, b.values, equal_nan=True)
            and np.array_equal(a.transactions, b.transactions) and np.array_equal(a.tx_mask, b.tx_mask))


def _remove_old(cache_dir: str) -> List[str]:
    removed = []
    for market in legacy_markets(cache_dir):
        shutil.rmtree(os.path.join(cache_dir, market), ignore_errors=True)
        removed.append(market)
    shutil.rmtree(os.path.join(cache_dir, ".sql"), ignore_errors=True)
    return removed
