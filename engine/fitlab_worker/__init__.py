"""fitlab's Python worker: loads, trains, evaluates and captures; talks JSON lines over stdio."""
__version__ = "0.1.0"
