"""Partner employers of apprentices: contacts, the communication log, the awareness email and coverage."""
