"""fwc: a firewall rules compiler and linter."""

__version__ = "0.1.0"
