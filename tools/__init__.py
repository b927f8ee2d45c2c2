"""Developer tools of civis_dyn (not part of the installed package)."""
