"""service package of nastavnik."""
