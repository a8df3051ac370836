"""Trust boundaries: API keys with roles, rate limits, the audit log (see SECURITY.md)."""
