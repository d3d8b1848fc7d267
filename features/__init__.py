"""features package of nastavnik."""
