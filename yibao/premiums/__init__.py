"""Premium collection for resident insurance: contribution years, channels, proxy payment, receipts."""
