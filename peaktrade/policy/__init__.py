"""Policies: risk engine and limits, stages and the live gate, roles and signed approvals, kill switch,
policy diff. Domain code: no CLI, no ccxt, no pandas at module level."""
