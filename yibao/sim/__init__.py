"""Fund analysis: a synthetic Yunnan, a year of its claims settled with the batch engine, reports and what-ifs."""
