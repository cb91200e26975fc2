"""Per-structure statistics and their JSON/CSV files."""

from iris3d.stats.measures import GridMismatchError, StructureStats, compute_statistics
from iris3d.stats.writers import UNITS, write_statistics_csv, write_statistics_json

__all__ = [
    "UNITS",
    "GridMismatchError",
    "StructureStats",
    "compute_statistics",
    "write_statistics_csv",
    "write_statistics_json",
]
