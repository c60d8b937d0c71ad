"""The medical catalogue (医保目录): drugs, herbal pieces, services and consumables, their class and price ceiling."""
