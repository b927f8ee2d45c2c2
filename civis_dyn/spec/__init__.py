"""Where a schema comes from and the immutable model built from it."""
