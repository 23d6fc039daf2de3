"""Standalone Hyper-V hosts through PowerShell over WinRM (see scripts/CONTRACT.md)."""
from .adapter import HyperVAdapter, shared_executor

__all__ = ["HyperVAdapter", "shared_executor"]
