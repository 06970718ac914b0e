"""The dashboard (DESIGN 12): ``peaktrade serve``. Imported only by that command (extra ``web``).

Read-only pages over the same read models as the CLI (monitor, desk state, approvals, plays, reports),
refreshed by htmx polling, plus two writes: engage the kill switch, upload an approval signature.
"""
