"""The kill switch lives in the desk state: ``peaktrade.desk.killswitch`` (one read, fail closed).

This name is kept for callers that import it from the policy package."""

from peaktrade.desk.killswitch import DECISION, STATES, KillSwitch, KillSwitchStatus, engage, read_kill_switch, release

__all__ = ["DECISION", "STATES", "KillSwitch", "KillSwitchStatus", "engage", "read_kill_switch", "release"]
