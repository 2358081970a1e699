"""Email: who hears what (notify), the outbox and its worker, and each person's delivery preference."""
