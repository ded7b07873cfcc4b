"""What information governance asks of the service: a person's copy of their own data, and the audit trail."""
