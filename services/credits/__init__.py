"""Credits: accounts of credits, the ledger's rules, charging, gift codes."""
