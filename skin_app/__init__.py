"""SkinGorithm core: everything the app does, with no web framework inside."""
__version__ = "0.1.0"
