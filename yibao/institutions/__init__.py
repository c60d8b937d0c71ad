"""Designated institutions (定点医药机构): hospitals, community health centres and pharmacies."""
