"""Web filtering and monitoring alerts in: sources with a key each, alerts they send, and the officers' triage queue."""
