"""Application-style model modules for the check-app tests (not part of the product)."""
