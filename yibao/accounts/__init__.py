"""Employee personal accounts (个人账户): a double-entry ledger in integer fen."""
