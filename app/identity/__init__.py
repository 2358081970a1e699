"""Who is signing in: passwords, sign-in limits and lockout, the second step, sessions, users and roles."""
