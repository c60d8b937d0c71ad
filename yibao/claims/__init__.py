"""Real-time settlement at designated institutions: visits, fee lines, settlements, accumulators, filings."""
