"""The application package: it imports itself as ``src.``."""
