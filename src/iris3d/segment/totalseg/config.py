"""TotalSegmentator's home folder and its ``config.json``, where Iris turns usage statistics off.

TotalSegmentator posts a record of every run to its authors' server unless ``send_usage_stats`` is
false in ``<home>/config.json``. Iris never calls the code that posts, but the home folder is shared
with any TotalSegmentator the user runs by hand, so Iris writes the opt-out there too.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import string
from pathlib import Path

from iris3d.scrub import scrub

CONFIG_FILE = "config.json"

logger = logging.getLogger(__name__)


def totalseg_home() -> Path:
    """``TOTALSEG_HOME_DIR``, else ``~/.totalsegmentator``, as TotalSegmentator decides it."""
    if "TOTALSEG_HOME_DIR" in os.environ:
        return Path(os.environ["TOTALSEG_HOME_DIR"])
    # TotalSegmentator maps a home of "/" (seen in containers) to /tmp; follow it so both agree.
    home = Path("/tmp") if str(Path.home()) == "/" else Path.home()
    return home / ".totalsegmentator"


def read_config(home: Path | None = None) -> dict[str, object]:
    path = (home or totalseg_home()) / CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def usage_stats_enabled(home: Path | None = None) -> bool:
    """What TotalSegmentator would do: post statistics unless the config says not to."""
    config = read_config(home)
    return bool(config.get("send_usage_stats", True))


def disable_usage_stats(home: Path | None = None) -> Path:
    """Write ``send_usage_stats: false`` into ``<home>/config.json``, keeping its other keys."""
    home = home or totalseg_home()
    home.mkdir(parents=True, exist_ok=True)
    config = read_config(home)
    if config.get("send_usage_stats") is False and config.get("statistics_disclaimer_shown"):
        return home / CONFIG_FILE
    # The keys TotalSegmentator's own code reads without checking, so a run by hand still works.
    config.setdefault("totalseg_id", "totalseg_" + _random_id())
    config.setdefault("prediction_counter", 0)
    config["send_usage_stats"] = False
    config["statistics_disclaimer_shown"] = True
    path = home / CONFIG_FILE
    partial = path.with_name(f".{CONFIG_FILE}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(config, indent=4), encoding="utf-8")
    partial.replace(path)
    return path


def try_disable_usage_stats() -> None:
    """:func:`disable_usage_stats` where the home is writable; Iris itself never posts anyway."""
    try:
        disable_usage_stats()
    except OSError as e:
        logger.warning("could not turn TotalSegmentator's usage statistics off: %s", scrub(e))


def _random_id() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(8))
