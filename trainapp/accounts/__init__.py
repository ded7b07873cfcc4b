"""Users, agencies, roles and signing in."""
